"""Node scorers: a value for each new node of the search tree, the frontier's second opinion.

Best-first search orders its frontier by ``priority = path log-probability +
value_weight * value(node)`` (``SearchConfig.node_scorer``, ``value_weight``). The default is
no scorer: the log-probability alone (GPT-f, ReProver). A learned value (HTPS,
InternLM-StepProver) is one file with a class like :class:`FewerGoals` (``values(states)``,
batched: every new child of one expansion at once) plus one line in ``SCORERS``.

Invariant: a scorer sees only the states (never the problem's name or split), returns one
finite float per state, and is deterministic for the same states.
"""
from __future__ import annotations

import importlib
from typing import Protocol, Sequence

from prover.env import State


class NodeScorer(Protocol):
    name: str

    def values(self, states: Sequence[State]) -> list[float]:
        """One value per state; higher means more promising."""


class FewerGoals:
    """A hand-made value: minus the number of open goals (a state with fewer goals left is
    closer to a proof). A baseline for learned values, and the slot's reference user."""

    name = "fewer_goals"

    def __init__(self, **options):
        if options:
            raise ValueError(f"the fewer_goals scorer takes no options (got {', '.join(sorted(options))})")

    def values(self, states: Sequence[State]) -> list[float]:
        return [-float(len(s.goals)) for s in states]


SCORERS: dict[str, str] = {
    "fewer_goals": "prover.search.scorers:FewerGoals",
    "value": "prover.search.value:LearnedValue",
}


def make_scorer(name: str, **options) -> NodeScorer:
    where = SCORERS.get(name)
    if where is None:
        raise ValueError(f"unknown node scorer {name!r} (expected one of {', '.join(sorted(SCORERS))})")
    module, attr = where.split(":")
    return getattr(importlib.import_module(module), attr)(**options)
