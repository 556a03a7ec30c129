"""Candidate sources whose tactics a backend instantiates at a goal: the shared shell.

Why: the sources of instantiated tactics (nonlinear-arithmetic hints, bounded case splits,
witnesses, library premises) each need the backend's own syntax and knowledge, but the
pipeline must not know which backend it talks to. Each such source is a small class here
naming a module of the backend package (Evariste-style, the same file name in every backend:
``coq_env/hints.py``, ``lean_env/hints.py``...) whose ``candidates(goal, **options)`` returns
tactics for the first goal. A backend without that module offers nothing from the source.

Invariants:
  * ``candidates(state)`` is deterministic, has no duplicates and at most ``limit`` tactics, in
    the backend's canonical spelling;
  * a module that raises (a goal too large to parse, a library query that failed) costs one line
    on stderr and the node gets no candidates from that source; the search goes on.
"""
from __future__ import annotations

import sys

from prover.env import State


class BackendSource:
    """A candidate source backed by ``<backend package>.<module>.candidates(goal, **options)``.
    Subclasses set ``name`` (the registry name), ``tag`` (its part of a policy label) and
    ``module``; the default ``limit`` caps the tactics per node."""

    name = tag = module = "?"
    static = False
    limit_default = 64
    passes_limit = False  # the module is asked for at most ``limit`` tactics (``candidates(goal, limit=...)``)
    max_goal_chars = 4000  # a goal larger than this is skipped (hint products grow quadratically)

    def __init__(self, backend, limit: int | None = None, **options):
        self.backend = backend
        self.limit = self.limit_default if limit is None else int(limit)
        self.options = {**options, "limit": self.limit} if self.passes_limit else options
        self.errors = 0

    def _make(self):
        try:
            return self.backend.module(self.module).candidates
        except (ModuleNotFoundError, AttributeError):
            return None

    def candidates(self, state: State | None) -> list[str]:
        if state is None or not state.goals:
            return []
        make = self._make()
        if make is None:
            return []
        goal = state.goals[0]
        if len(goal.text()) > self.max_goal_chars:
            self.errors += 1
            print(f"warning: candidate source {self.name} skipped a node: its goal has {len(goal.text())} "
                  f"characters (more than {self.max_goal_chars})", file=sys.stderr)
            return []
        try:
            raw = make(goal, **self.options)
        except Exception as e:  # one line, the node skips this source, the search goes on
            self.errors += 1
            print(f"warning: candidate source {self.name} skipped a node: {type(e).__name__}: "
                  f"{str(e).splitlines()[0] if str(e) else ''}"[:300], file=sys.stderr)
            return []
        norm = self.backend.normalise
        return list(dict.fromkeys(norm(t) for t in raw if t and t.strip()))[:self.limit]
