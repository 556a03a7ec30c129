"""Policies: given proof states, propose candidate tactics with log-probabilities.

The search asks a policy for k candidates per state; it never knows whether they come from
a fixed menu or a language model. ``MenuPolicy`` is the floor every learned policy must
beat: a fixed automation menu with fixed, decreasing scores.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence

from prover.env import State


@dataclass(frozen=True)
class Candidate:
    tactic: str
    logprob: float


class Policy(Protocol):
    name: str
    default_k: int

    def propose(self, states: Sequence[State], k: int) -> list[list[Candidate]]:
        """For each state, up to k distinct candidates, best first."""


# Closing automation first, then one-step openers, per backend.
COQ_MENU = [
    "reflexivity", "lia", "lra", "nia", "nra", "field", "ring", "easy", "auto", "trivial",
    "intros; lia", "intros; lra", "intros; nia", "intros; nra", "intros; field", "intros; ring",
    "intros; subst; lia", "intros; subst; lra", "intros; subst; nra", "intros; subst; field",
    "compute; reflexivity", "vm_compute; reflexivity", "intros; compute; lia",
    "intros; split; lra", "intros; split; lia", "intros; split; nra",
    "intros; field_simplify; lra", "intros; subst; field_simplify; nra",
    "intros; psatz R 3", "intros; tauto", "intros; congruence",
    "intros", "split", "subst", "simpl", "intros; subst", "field_simplify", "ring_simplify",
]
MENUS = {"coq": COQ_MENU, "lean": [
    "rfl", "norm_num", "linarith", "nlinarith", "positivity", "simp", "omega", "decide",
    "ring", "field_simp", "ring_nf", "norm_num [*]", "intro h", "constructor", "simp_all",
]}


def scored_menu(backend: str, tactics: Sequence[str] | None = None) -> list[str]:
    """A menu in the spelling stored proofs use (Coq's final period), the spelling the model
    was trained on and so the one its log-probabilities are asked for."""
    if tactics is None:
        if backend not in MENUS:
            raise ValueError(f"unknown menu {backend!r} (expected one of {sorted(MENUS)} or a list of tactics)")
        tactics = MENUS[backend]
    return [t if backend != "coq" or t.endswith(".") else t + "." for t in tactics]


class MenuPolicy:
    """Fixed menu: every state gets the same tactics, scored by their menu position."""

    name = "menu"

    def __init__(self, backend: str = "coq", tactics: Sequence[str] | None = None, templates: bool = False):
        self.tactics = list(tactics) if tactics is not None else list(MENUS[backend])
        self.default_k = len(self.tactics)  # the whole menu at every node
        self.backend, self.templates = backend, templates
        if templates:  # the menu, then the state's hypothesis templates, in a fixed order (an ablation)
            self.name = "menu+hyps"

    @classmethod
    def from_file(cls, path: str | Path, backend: str = "coq") -> "MenuPolicy":
        lines = [ln.strip() for ln in Path(path).read_text().splitlines()]
        return cls(backend, [ln for ln in lines if ln and not ln.startswith("#")])

    def propose(self, states: Sequence[State], k: int) -> list[list[Candidate]]:
        n = len(self.tactics)
        # A proper distribution over the menu: log of a geometric-like decay, normalised.
        weights = [0.9 ** i for i in range(n)]
        z = sum(weights)
        cands = [Candidate(t, math.log(w / z)) for t, w in zip(self.tactics, weights)]
        if not self.templates:
            return [cands[:k] for _ in states]
        from prover.templates import templates
        out = []
        for s in states:
            extra = [t for t in templates(s, self.backend) if t.rstrip(".") not in self.tactics]
            last = cands[-1].logprob if cands else 0.0
            out.append(cands[:k] + [Candidate(t, last - math.log(2) * (i + 1)) for i, t in enumerate(extra)])
        return out
