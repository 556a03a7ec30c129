"""Sampling that belongs to the state: Gumbel-max with noise computed from (seed, state, sample,
step, token), not drawn from a random number generator.

Why: transformers' sampling draws the whole batch from one generator, so a state's samples
depend on which other states share its generate call. With the frontier batched
(``search.batch_states``), sampling would then change with the batch size, the worker a
problem lands on and the order of the heap, and a search could not be replayed. Here a
state's ``j``-th sample adds to its logits (temperature-scaled, outside the nucleus masked)
the Gumbel noise ``-log(-log u)``, where ``u`` is a hash (splitmix64) of a per-row seed, the
decoding step and the token id, and takes the argmax: a draw from the same distribution
(the Gumbel-max trick), the same on any batch, and on a CPU or a GPU up to the logits'
rounding. The per-row seed hashes the decoding seed, the round, the sample's index and the
state's text.
"""
from __future__ import annotations

import hashlib
from typing import Sequence

_M64 = (1 << 64) - 1


def _signed(c: int) -> int:
    return c - (1 << 64) if c >= 1 << 63 else c


_C1, _C2, _GOLD = _signed(0xBF58476D1CE4E5B9), _signed(0x94D049BB133111EB), _signed(0x9E3779B97F4A7C15)


def row_seeds(goals: Sequence[str], n: int, salt: str):
    """One int64 seed per (goal, sample) row, goal-major, as ``repeat_interleave(n)`` lays them out."""
    import torch
    seeds = []
    for g in goals:
        for j in range(n):
            h = hashlib.blake2b(f"{salt}|{j}|{g}".encode(), digest_size=8).digest()
            seeds.append(int.from_bytes(h, "little") & ((1 << 63) - 1))
    return torch.tensor(seeds, dtype=torch.long)


def _mix(x):
    """splitmix64's finaliser on int64 tensors (products wrap; shifts made logical by masks)."""
    x = x ^ ((x >> 30) & ((1 << 34) - 1))
    x = x * _C1
    x = x ^ ((x >> 27) & ((1 << 37) - 1))
    x = x * _C2
    return x ^ ((x >> 31) & ((1 << 33) - 1))


def gumbel(seeds, step: int, vocab: int):
    """Gumbel(0, 1) noise of shape (rows, vocab), a function of (seed, step, token) alone."""
    import torch
    tokens = torch.arange(vocab, dtype=torch.long, device=seeds.device)
    x = _mix(_mix(seeds * _GOLD + step)[:, None] + tokens[None, :] * _GOLD)
    u = ((x >> 11) & ((1 << 53) - 1)).to(torch.float64) * (2.0 ** -53)
    u = u.clamp(1e-15, 1 - 1e-15)
    return -torch.log(-torch.log(u))


class GumbelSampler:
    """A transformers logits processor: with greedy decoding, draws each row's next token from
    softmax(logits / temperature) restricted to the top-p nucleus, with the row's own noise."""

    def __init__(self, seeds, temperature: float = 1.0, top_p: float = 1.0):
        self.seeds, self.temperature, self.top_p = seeds, temperature, top_p
        self.start: int | None = None  # the (padded) prompt's length: steps count from there

    def __call__(self, input_ids, scores):
        import torch
        logits = scores.float() / max(self.temperature, 1e-6)
        if self.top_p < 1.0:
            probs, order = torch.softmax(logits, dim=-1).sort(dim=-1, descending=True)
            outside = probs.cumsum(dim=-1) - probs > self.top_p  # the most probable token always stays
            logits = logits.masked_fill(outside.scatter(1, order, outside), float("-inf"))
        if self.start is None:
            self.start = input_ids.shape[1]
        noise = gumbel(self.seeds.to(scores.device), input_ids.shape[1] - self.start, scores.shape[-1])
        return (logits.double() + noise).to(scores.dtype)
