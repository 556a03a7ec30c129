"""Tactics that name the state's own hypotheses and variables: the state-dependent candidates.

A fixed menu can only offer closed automation (``lia``, ``nra``...); the steps between them in
a human proof mostly mention something local: ``rewrite H0``, ``apply H``, ``destruct H``,
``induction n``. A small model rarely spells those right by generation (it has to copy a name
out of the prompt), so, like the premise candidates of retrieval-augmented provers (ReProver)
and the argument slots of ASTactic/Tactician, each backend instantiates a few tactic shapes
with the names of the first goal (``Backend.templates``) and the model *scores* them with
everything else. Which of them are worth trying first is then learned; the search's proofs
teach it. This module holds the candidate source and the name scan every backend shares.

Invariants:
  * ``templates(state, backend)`` depends only on the first goal's hypotheses and conclusion
    (the goal a tactic acts on in both Coq and Lean), is deterministic, has no duplicates,
    and has at most ``limit`` tactics.
  * Every tactic is an ordinary one the cheat filter judges like any other.
  * Tactics are in the backend's canonical spelling (``Backend.normalise``).
"""
from __future__ import annotations

import re
from typing import Callable

from prover.env import Goal, State

IDENT = re.compile(r"^[^\s:()\[\],;⟨⟩|]+$")


def is_eq(t: str) -> bool:
    """An equation (``=`` that is not part of ``<=``, ``>=``, ``:=`` or ``=>``)."""
    return re.search(r"(?<![<>:])=(?![>])", t) is not None


def names(goal: Goal, is_fact: Callable[[str], object], number_types: set[str]) -> tuple[list, list]:
    """(name, type) of the goal's facts and of its variables of a number type, most recent
    first; let-bound names and names that are not plain identifiers are skipped."""
    facts, nats = [], []
    for h in goal.hyps:
        if h.body is not None:
            continue
        for name in h.names:
            if not IDENT.match(name):
                continue
            if is_fact(h.type):
                facts.append((name, h.type))
            elif h.type.strip() in number_types:
                nats.append((name, h.type.strip()))
    return facts[::-1], nats[::-1]


def templates(state: State | None, backend, limit: int = 24) -> list[str]:
    """The state-dependent candidate tactics for the first goal of ``state`` (none when the
    state has no goals or the backend has no templates or is unknown)."""
    from prover import backends
    if state is None or not state.goals:
        return []
    try:
        b = backends.get(backend)
    except backends.UnknownBackend:
        return []
    return list(dict.fromkeys(b.templates(state.goals[0])))[:limit]


class TemplateSource:
    """Candidate source ``templates`` (label tag ``hyps``): the backend's tactics naming the
    first goal's hypotheses. A state-free call (``state=None``) offers none."""

    name, tag, static = "templates", "hyps", False

    def __init__(self, backend, limit: int = 24):
        self.backend, self.limit = backend, limit

    def candidates(self, state: State | None) -> list[str]:
        return templates(state, self.backend, self.limit)
