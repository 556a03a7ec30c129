"""Candidate source ``lemmas`` (label tag ``lem``): the run's own lemmas, applied or rewritten by name.

Why: the loop proves lemmas of its own: hindsight lemmas (goals its trees solved, checked as
standalone lemmas) and conjectures (stuck subgoals and mutations of its problems, proved by
their own searches). A stuck subgoal proved apart (HTPS's decomposition, STP's conjectures) is
the very step a problem's search could not take; offered as a premise, one expansion takes it.
The backend's premise matching (``coq_env/premises.py``) decides where a lemma applies, as for
library lemmas; this source only supplies them, read online from the run's database as they
are accepted (like the macro source's proofs). A lemma of the database is not in the file a
proof is checked in, so each goes to the backend as ``(key, statement, proof)``, the proof
compiled into one tactic (``Backend.combine``, as macros are), and the backend proves it in
place before it uses it (Coq: ``assert (L : S) by (...); apply L.``): the proof stays one
checkable file.

Only the lemmas checked under the problem's own header are offered (a lemma of a ``nat`` problem
does not elaborate, or means something else, under another problem's imports and scopes). Never
a lemma of a problem in ``deny`` (the evaluation split), nor a conjecture whose parent is one. A
backend without a ``premises`` module offers nothing.

Options: ``db`` (the run's proof database; without it, nothing), ``deny``, ``limit`` (tactics
per node, default 8), ``header`` (set per problem by the search).
"""
from __future__ import annotations

import json
from typing import Sequence

from prover.policy.premises import PremiseSource


def own_proof(steps, backend) -> str | None:
    """A proof's (goals, tactic) steps as one tactic (the macro source's compilation), or None
    when the steps do not make a tree or the backend cannot combine tactics."""
    from prover.policy.macros import compile_steps
    steps = steps if isinstance(steps, list) else json.loads(steps or "[]")
    entries = compile_steps([tuple(s) for s in steps], backend.combine, backend.goal_style, min_steps=1)
    return entries[-1][1] if entries else None  # the whole proof is compiled last


class LemmaSource(PremiseSource):
    name, tag = "lemmas", "lem"
    limit_default = 8

    def __init__(self, backend, limit: int | None = None, db: str | None = None,
                 deny: Sequence[str] = (), **options):
        super().__init__(backend, limit, **options)
        self.options["use_library"] = False
        self.db_path, self.deny, self._db = db, set(deny), None
        self._after = (0, 0)          # the last hindsight rowid and conjecture proof id read
        self.own: dict[str, tuple[str, str, str]] = {}   # key -> (key, statement, proof)
        self.headers: dict[str, str | None] = {}          # key -> the header it was checked in

    def refresh(self) -> int:
        """Read the lemmas the database accepted since the last look; returns how many."""
        from prover.db import queries
        from prover.policy.retrieval import open_reader
        if self._db is None:
            self._db = open_reader(self.db_path)
        if self._db is None:
            return 0
        hs, conj = queries.own_lemmas_after(self._db, *self._after)
        before = len(self.own)
        for r in hs:
            if r["problem"] not in self.deny:
                self._add(r["key"], r["statement"], r["steps"], r["header"])
        for r in conj:
            if r["parent"] not in self.deny and r["key"] not in self.own:
                self._add(r["key"], r["statement"], r["steps"], r["header"])
        self._after = (max([self._after[0]] + [r["rid"] for r in hs]),
                       max([self._after[1]] + [r["id"] for r in conj]))
        return len(self.own) - before

    def _add(self, key: str, statement: str, steps, header: str | None) -> None:
        proof = own_proof(steps, self.backend)
        if proof and statement:
            self.own[key] = (key, statement, proof)
            self.headers[key] = header

    def candidates(self, state):
        self.refresh()
        header = self.options.get("header")  # the problem's, set by begin(); unknown: every lemma
        mine = tuple(v for k, v in self.own.items() if header is None or self.headers.get(k) == header)
        if not mine:
            return []
        self.options["extra_lemmas"] = mine
        return super().candidates(state)
