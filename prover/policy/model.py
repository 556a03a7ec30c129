"""The learned policy: a trained tactic model proposing k distinct tactics per proof state.

The search sees only :class:`prover.policy.Candidate` lists, best first, each scored by the
model's log-probability of the whole tactic (sum of its token log-probabilities, the end
of sequence included, at temperature 1 whatever the sampling temperature). States are
batched, prompts padded on the left so every row ends at its ``[TACTIC]`` tag.

Two decoders (run by transformers' ``generate``, or by vLLM on a GPU where it is installed:
``engine``, :mod:`prover.policy.vllm_decoder`; the scores are the same either way):
  * ``beam``: beam search with ``num_beams = k`` returning k sequences (distinct token
    sequences; the highest-probability ones, deterministic).
  * ``sample``: ``oversample * k`` samples at ``temperature`` per state, de-duplicated,
    the best k kept; more rounds (at most ``rounds``) for the states still short of k
    distinct tactics; each state's samples a function of the seed and the state alone
    (:mod:`prover.policy.sampling`), whatever else is decoded in the same call.

With ``novel``, the generator decodes 2k and keeps the k best that no source offers at that
state (on miniF2F states 43% of the round-0 model's beam duplicated an offered tactic).

Candidates that decode to the same text after stripping are merged (the better score is
kept); empty ones and ones that are not valid UTF-8 are dropped, so a state may get fewer
than k. Identical goals in one call are decoded once.

With candidate sources (``prover.policy.sources``: the backend's automation menu, the
state's hypothesis templates...), every state also gets every offered tactic as a candidate,
scored by the same model log-probability (:meth:`ModelPolicy.score`): the model decides which
of them to try first and which child the best-first search expands next, and still proposes
tactics of its own. With ``fixed_weight`` w > 0 a candidate's score is a product of experts,
the model's log-probability plus w times the fixed scorer's log-score of the sources' order
(:func:`prover.policy.fixed.fixed_scores`; a generated tactic no source offers gets the
lowest one): the model re-ranks the hand-ordered menu instead of replacing its order. This
is the "learned ranking over a tactic library" of Tactician/ASTactic next to free
generation (GPT-f); no sources is the pure generative policy, and ``generate=False``
(``k = 0``) ranks the sources only.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from prover.env import parse_goals_text
from prover.model import TacticModel, load
from prover.policy.base import Candidate
from prover.policy.fixed import fixed_scores, grouped
from prover.policy.repair import load_names, variants


WIDEN_TOP_P = 0.95  # nucleus of the samples a widened node gets (prover.search.best_first, ``widen``)


@dataclass
class DecodeConfig:
    k: int = 8
    mode: str = "beam"            # "beam" or "sample"
    temperature: float = 1.0
    top_p: float = 1.0            # sample mode: nucleus sampling (1.0: the whole distribution)
    max_new_tokens: int = 64
    batch_size: int = 8           # states per generate call
    oversample: int = 2           # sample mode: samples per state and round = oversample * k
    rounds: int = 4               # sample mode: rounds at most, while a state has fewer than k
    seed: int = 0
    fixed_weight: float = 0.0     # score = model log-prob + fixed_weight * the sources' fixed log-score
    repair: int = 0               # variants per generated tactic with invented names (prover.policy.repair)
    novel: bool = False           # generate 2k and keep the k best that no source offers
    engine: str = "auto"          # decoding: "transformers", "vllm" (a GPU), "auto" (vllm where it can run)
    vllm_memory: float = 0.5      # share of the GPU's memory one worker's vLLM takes (weights and cache)


class ModelPolicy:
    """Policy protocol (``name``, ``default_k``, ``propose``) over a :class:`TacticModel`.

    The model is moved to ``device`` (default: the GPU if any) and, with ``cast``, to bf16 on
    a GPU; training passes ``cast=False`` to evaluate its fp32 weights in place."""

    name = "model"

    def __init__(self, tm: TacticModel, cfg: DecodeConfig | None = None, device: str | None = None,
                 cast: bool = True, sources: Sequence = (), style: str = "coq", names: frozenset | None = None,
                 binders: str | None = None, decoder=None):
        import torch
        from prover.backends import Backend
        self.tm, self.cfg, self.style = tm, cfg or DecodeConfig(), style
        self.decoder = decoder  # a prover.policy.vllm_decoder.VllmDecoder, or None: transformers' generate
        self.binders = binders or Backend.binder_words  # the backend's (prover.policy.repair)
        self.names = names  # the identifiers of the model's training tactics (prover.policy.repair)
        if self.cfg.mode not in ("beam", "sample"):
            raise ValueError(f"unknown decoding mode {self.cfg.mode!r} (expected beam or sample)")
        if self.cfg.repair < 0:
            raise ValueError(f"repair must be 0 (off) or a number of variants, not {self.cfg.repair}")
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model = tm.model.to(self.device)
        if cast and self.device.type == "cuda":
            self.model = self.model.to(torch.bfloat16)
        self.model.eval()
        self.sources = list(sources)
        self.name = "model" + "".join(f"+{s.tag}" for s in self.sources)
        self.default_k = self.cfg.k  # generated candidates; the sources' come on top of them

    @property
    def menu(self) -> list[str]:
        """The tactics offered at every state (the static sources'), as the model scores them."""
        return self.offered(None)

    def offered(self, state) -> list[str]:
        """The sources' tactics for ``state`` (None: the static sources' only), de-duplicated."""
        return [t for g in grouped(self.sources, state) for t in g]

    # ---- the Policy protocol ---------------------------------------------------------
    def propose(self, states: Sequence, k: int | None = None) -> list[list[Candidate]]:
        groups = [grouped(self.sources, s) for s in states]
        out = self.propose_goals([s.text() for s in states], k, [[t for g in gs for t in g] for gs in groups],
                                 [self._prior(gs) for gs in groups])
        names = [src.name for src in self.sources]
        tagged = []
        for gs, cands in zip(groups, out):  # each candidate keeps its source ("model": generated)
            where = {t: n for n, g in zip(names, gs) for t in g}
            tagged.append([Candidate(c.tactic, c.logprob, where.get(c.tactic, "model")) for c in cands])
        return tagged

    def begin(self, problem) -> None:
        """A new problem: sources that depend on it (its header's lemmas) learn it."""
        from prover.policy.fixed import begin_sources
        begin_sources(self.sources, problem)

    def _prior(self, groups) -> dict[str, float] | None:
        """The fixed scorer's log-score of each offered tactic (None when ``fixed_weight`` is 0)."""
        if not self.cfg.fixed_weight:
            return None
        return {c.tactic: c.logprob for c in fixed_scores(groups)}

    def widen(self, state, page: int, tried: set[str]) -> list[Candidate]:
        """Candidates not yet ``tried`` for a node the search expands again (``page`` 1, 2...):
        ``k`` fresh samples (nucleus ``WIDEN_TOP_P`` at temperature 1, seeded by the page, so
        beam's deterministic list is not asked again) and the sources' next page
        (:func:`prover.policy.fixed.grouped` with a page), ordered by the model; with ``fixed_weight``,
        each also gets the fixed prior's floor (no source ranked it)."""
        goal = state.text()
        merged: dict[str, float] = {}
        if self.default_k:
            for text, lp in self._decode([goal], self.default_k, sample=True, seed=self.cfg.seed + 7919 * page)[0]:
                if text not in tried and lp > merged.get(text, -math.inf):
                    merged[text] = lp
            merged = dict(sorted(merged.items(), key=lambda kv: -kv[1])[:self.default_k])
        offered = [t for g in grouped(self.sources, state, page, tried) for t in g if t not in merged]
        if offered:
            merged.update(zip(offered, self.score([goal], offered)[0]))
        if self.cfg.fixed_weight and merged:
            prior = self._prior(grouped(self.sources, state))
            floor = min(prior.values()) if prior else 0.0
            merged = {t: lp + self.cfg.fixed_weight * floor for t, lp in merged.items()}
        return [Candidate(t, lp) for t, lp in sorted(merged.items(), key=lambda kv: -kv[1])]

    def propose_goals(self, goals: Sequence[str], k: int | None = None,
                      extra: Sequence[Sequence[str]] | None = None,
                      priors: Sequence[dict[str, float] | None] | None = None) -> list[list[Candidate]]:
        """Like ``propose`` on goal texts (``prover.env.goals_text`` form): ``k`` generated
        candidates plus the tactics offered for each goal (``extra``; default: the static
        sources'), all ordered by the model (with ``fixed_weight``, by the model and the
        fixed scores ``priors``, one dict per goal; default: the static sources')."""
        n_gen = self.default_k if k is None else k
        static = None
        if extra is None:  # the static sources', the same for every goal
            groups = grouped(self.sources, None)
            static = [t for g in groups for t in g]
            if priors is None:
                priors = [self._prior(groups)] * len(goals)
        extra_of = {g: list(e) for g, e in zip(goals, extra)} if extra is not None else {}
        prior_of = dict(zip(goals, priors)) if priors is not None else {}
        unique = list(dict.fromkeys(goals))  # the same goals twice are decoded once

        def offered_of(g: str) -> list[str]:
            return static if static is not None else extra_of.get(g, [])

        out: list[list[Candidate]] = []
        for i in range(0, len(unique), self.cfg.batch_size):
            chunk = unique[i:i + self.cfg.batch_size]
            if n_gen and self.cfg.novel:  # k tactics of its own, not copies of the offered ones
                gen = []
                for g, cands in zip(chunk, self._generate(chunk, 2 * n_gen)):
                    taken = set(offered_of(g))
                    gen.append([c for c in cands if c.tactic not in taken][:n_gen])
            else:
                gen = self._generate(chunk, n_gen) if n_gen else [[] for _ in chunk]
            if self.cfg.repair:
                gen = [self._repaired(g, cands) for g, cands in zip(chunk, gen)]
            for g, cands in zip(chunk, gen):
                offered = list(dict.fromkeys(offered_of(g)))
                merged = {c.tactic: c.logprob for c in cands}
                if offered:
                    for t, lp in zip(offered, self.score([g], offered)[0]):
                        merged[t] = max(lp, merged.get(t, -math.inf))
                prior = prior_of.get(g)
                if prior:  # the product of experts: model + fixed_weight * fixed
                    floor = min(prior.values())
                    w = self.cfg.fixed_weight
                    merged = {t: lp + w * prior.get(t, floor) for t, lp in merged.items()}
                if offered or prior:
                    cands[:] = [Candidate(t, lp) for t, lp in sorted(merged.items(), key=lambda kv: -kv[1])]
            out.extend(gen)
        by_goals = dict(zip(unique, out))
        return [list(by_goals[g]) for g in goals]

    def _repaired(self, goal: str, cands: list[Candidate]) -> list[Candidate]:
        """``cands`` with, after each generated tactic that uses names that do not exist (a
        hypothesis the state lacks, a lemma no training tactic uses), up to ``repair`` variants
        with existing names (:mod:`prover.policy.repair`), at the tactic's score; the tactic
        itself is kept."""
        try:
            goals = parse_goals_text(goal, self.style)
        except ValueError:
            return cands
        seen = {c.tactic for c in cands}
        out: list[Candidate] = []
        for c in cands:
            out.append(c)
            for v in variants(c.tactic, goals, self.cfg.repair, self.binders, self.names):
                if v not in seen:
                    seen.add(v)
                    out.append(Candidate(v, c.logprob))
        return out

    def score(self, goals: Sequence[str], tactics: Sequence[str]) -> list[list[float]]:
        """log p(tactic | goals) under the model (temperature 1, end of sequence included) for
        every goal text and every tactic. The prompt is run once per goal text and its key/value
        cache shared by all the tactics (a menu of 38 tactics costs one prompt, not 38)."""
        import torch
        targets = [self.tm.encode_target(t) for t in tactics]
        longest = max(len(t) for t in targets)
        room = max(8, self.tm.context - longest)
        tgt = torch.full((len(targets), longest), self.tm.pad_id, dtype=torch.long)
        tmask = torch.zeros((len(targets), longest), dtype=torch.long)
        for i, t in enumerate(targets):  # right padding: every target starts right after the prompt
            tgt[i, :len(t)] = torch.tensor(t)
            tmask[i, :len(t)] = 1
        tgt, tmask = tgt.to(self.device), tmask.to(self.device)
        out: list[list[float]] = []
        for g in goals:
            p = torch.tensor([self.tm.encode_prompt(g, room)], device=self.device)
            with torch.no_grad():
                first = self.model(input_ids=p, use_cache=True)
                cache = first.past_key_values
                cache.batch_repeat_interleave(len(targets))
                mask = torch.cat([torch.ones((len(targets), p.shape[1]), dtype=torch.long, device=self.device),
                                  tmask], dim=1)
                rest = self.model(input_ids=tgt, attention_mask=mask, past_key_values=cache).logits
            # position j of a target is predicted by the prompt's last token (j = 0) or target token j - 1
            logits = torch.cat([first.logits[:, -1:].expand(len(targets), 1, -1), rest[:, :-1]], dim=1)
            logp = torch.log_softmax(logits.float(), dim=-1).gather(2, tgt.unsqueeze(-1)).squeeze(-1)
            out.append([float((logp[i] * tmask[i]).sum()) for i in range(len(targets))])
        return out

    def greedy(self, goals: Sequence[str]) -> list[str]:
        """The single greedy tactic per goal text (top-1 decoding)."""
        import torch
        out: list[str] = []
        for i in range(0, len(goals), self.cfg.batch_size):
            ids, mask = self._prompts(list(goals[i:i + self.cfg.batch_size]))
            with torch.no_grad():
                seqs = self.model.generate(input_ids=ids, attention_mask=mask, do_sample=False, num_beams=1,
                                           max_new_tokens=self.cfg.max_new_tokens,
                                           pad_token_id=self.tm.pad_id, eos_token_id=self.tm.eos_id)
            out.extend(self.tm.decode(self._until_eos(row)) for row in seqs[:, ids.shape[1]:].tolist())
        return out

    # ---- internals ----------------------------------------------------------------------
    def _prompts(self, goals: list[str]):
        import torch
        room = max(8, self.tm.context - self.cfg.max_new_tokens)
        rows = [self.tm.encode_prompt(g, room) for g in goals]
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), self.tm.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, width - len(r):] = torch.tensor(r)
            mask[i, width - len(r):] = 1
        return ids.to(self.device), mask.to(self.device)

    def _until_eos(self, row: list[int]) -> list[int]:
        eos = self.tm.eos_id
        return row[:row.index(eos)] if eos in row else row

    def _generate(self, goals: list[str], k: int) -> list[list[Candidate]]:
        """k best distinct candidates per goal text: one beam search, or sampling rounds until
        every goal has k distinct candidates (at most ``rounds``)."""
        best: list[dict[str, float]] = [{} for _ in goals]
        todo = list(range(len(goals)))
        for r in range(1 if self.cfg.mode == "beam" else self.cfg.rounds):
            for i, found in zip(todo, self._decode([goals[i] for i in todo], k, round_=r)):
                for text, lp in found:
                    if lp > best[i].get(text, -math.inf):
                        best[i][text] = lp
            todo = [i for i in todo if len(best[i]) < k]
            if not todo:
                break
        return [[Candidate(t, lp) for t, lp in sorted(b.items(), key=lambda kv: -kv[1])[:k]] for b in best]

    def _decode(self, goals: list[str], k: int, sample: bool = False, seed: int | None = None,
                round_: int = 0) -> list[list[tuple[str, float]]]:
        """One generate call: (text, log-probability) of every valid decoded sequence, per goal.
        ``sample``: nucleus sampling (``WIDEN_TOP_P``, temperature 1) whatever the mode, seeded
        with ``seed``, for a widened node. Sampling is per state (:mod:`prover.policy.sampling`):
        a goal's samples depend on the seed, the round and the goal, never on the batch."""
        if sample:
            return self._generate_call(goals, self.cfg.oversample * k,
                                       dict(sampler=(1.0, WIDEN_TOP_P, f"{self.cfg.seed if seed is None else seed}")))
        if self.cfg.mode == "beam":
            return self._generate_call(goals, k, dict(num_beams=k, do_sample=False, length_penalty=0.0,
                                                      early_stopping=True))
        return self._generate_call(goals, self.cfg.oversample * k,
                                   dict(sampler=(self.cfg.temperature, self.cfg.top_p, f"{self.cfg.seed}/{round_}")))

    def _generate_call(self, goals: list[str], n: int, kw: dict) -> list[list[tuple[str, float]]]:
        """``n`` sequences per goal from one ``generate`` call with options ``kw``."""
        import torch
        if self.decoder is not None:
            return self._decoder_call(goals, n, kw)
        ids, mask = self._prompts(goals)
        kw = dict(kw)
        if "sampler" in kw:  # greedy over per-row Gumbel noise: each prompt repeated n times
            from transformers import LogitsProcessorList
            from prover.policy.sampling import GumbelSampler, row_seeds
            temperature, top_p, salt = kw.pop("sampler")
            ids, mask = ids.repeat_interleave(n, 0), mask.repeat_interleave(n, 0)
            kw.update(num_beams=1, do_sample=False, logits_processor=LogitsProcessorList(
                [GumbelSampler(row_seeds(goals, n, salt).to(self.device), temperature, top_p)]))
        with torch.no_grad():
            out = self.model.generate(input_ids=ids, attention_mask=mask,
                                      num_return_sequences=1 if "logits_processor" in kw else n,
                                      max_new_tokens=self.cfg.max_new_tokens, return_dict_in_generate=True,
                                      output_logits=True, pad_token_id=self.tm.pad_id,
                                      eos_token_id=self.tm.eos_id, **kw)
            # log p(token) at temperature 1, from the raw logits, gathered along each beam's history
            steps = self.model.compute_transition_scores(out.sequences, out.logits, out.get("beam_indices"),
                                                         normalize_logits=True).float()
        gen = out.sequences[:, ids.shape[1]:].tolist()
        results: list[list[tuple[str, float]]] = [[] for _ in goals]
        cut: dict[int, list[int]] = {}  # goal -> places in its results of sequences cut at max_new_tokens
        for j, row in enumerate(gen):
            length = row.index(self.tm.eos_id) + 1 if self.tm.eos_id in row else len(row)
            lp = float(steps[j, :length].sum())
            text = self.tm.decode(row[:length])
            if text and "\ufffd" not in text and math.isfinite(lp):  # not empty, valid UTF-8
                if self.tm.eos_id not in row[:length]:
                    cut.setdefault(j // n, []).append(len(results[j // n]))
                results[j // n].append((text, lp))
        for i, places in cut.items():  # their score as every candidate's: the end of sequence included
            for p, lp in zip(places, self.score([goals[i]], [results[i][p][0] for p in places])[0]):
                results[i][p] = (results[i][p][0], lp)
        return results

    def _decoder_call(self, goals: list[str], n: int, kw: dict) -> list[list[tuple[str, float]]]:
        """Like :meth:`_generate_call`, the sequences picked by the external decoder (vLLM) and
        scored by :meth:`score`: the same log-probabilities as the transformers path (vLLM's
        samples are its own, seeded per call)."""
        import hashlib
        room = max(8, self.tm.context - self.cfg.max_new_tokens)
        prompts = [self.tm.encode_prompt(g, room) for g in goals]
        temperature, top_p, salt = kw.get("sampler", (1.0, 1.0, ""))
        seqs = self.decoder.decode(prompts, n, beam="sampler" not in kw, max_new_tokens=self.cfg.max_new_tokens,
                                   eos_id=self.tm.eos_id, temperature=temperature, top_p=top_p,
                                   seed=int.from_bytes(hashlib.blake2b(salt.encode(), digest_size=4).digest(), "little"))
        results: list[list[tuple[str, float]]] = []
        for g, rows in zip(goals, seqs):
            texts = list(dict.fromkeys(t for t in (self.tm.decode(r) for r in rows) if t and "\ufffd" not in t))
            scores = self.score([g], texts)[0] if texts else []
            results.append([(t, lp) for t, lp in zip(texts, scores) if math.isfinite(lp)])
        return results


def load_policy(model_dir, k: int = 8, mode: str = "beam", temperature: float = 1.0, max_new_tokens: int = 64,
                top_p: float = 1.0, oversample: int = 2, fixed_weight: float = 0.0, repair: int = 0, novel: bool = False,
                engine: str = "auto", vllm_memory: float = 0.5, device: str | None = None, batch_size: int = 8, seed: int = 0,
                threads: int | None = None, menu: list[str] | str | None = None,
                templates: str | None = None, sources: Sequence | None = None,
                backend: str = "coq") -> ModelPolicy:
    """The policy of a model directory. Raises :class:`prover.model.ModelError` for a bad directory.
    ``sources``: candidate sources (``prover.policy.sources``) scored and offered at every
    state besides the ``k`` generated candidates (``k = 0``: rank them only). Shorthands:
    ``menu``, a list of tactics or a backend name for its automation menu; ``templates``, a
    backend name whose hypothesis-naming tactics are offered too. ``threads`` sets torch's
    CPU threads for this process (1 in each of several search workers)."""
    from prover import backends
    from prover.policy.menu import MenuSource
    from prover.policy.sources import make_source
    if threads:
        import torch
        torch.set_num_threads(threads)
    sources = list(sources or [])
    if isinstance(menu, str):  # a backend name: that backend's automation menu
        sources.append(MenuSource(backends.get(menu)))
    elif menu:
        sources.append(MenuSource(backends.get(backend), menu))
    if templates:
        sources.append(make_source("templates", templates))
    from prover.policy import vllm_decoder
    cfg = DecodeConfig(k=k, mode=mode, temperature=temperature, max_new_tokens=max_new_tokens,
                       batch_size=batch_size, seed=seed, top_p=top_p, oversample=oversample,
                       fixed_weight=fixed_weight, repair=repair, novel=novel, engine=engine, vllm_memory=vllm_memory)
    b = backends.get(backend)
    tm = load(model_dir)
    decoder = (vllm_decoder.VllmDecoder(model_dir, seed=seed, gpu_memory_utilization=vllm_memory)
               if vllm_decoder.resolve(engine) == "vllm" else None)
    return ModelPolicy(tm, cfg, device=device, sources=sources, style=b.goal_style,
                       names=load_names(model_dir) if repair else None, binders=b.binder_words, decoder=decoder)
