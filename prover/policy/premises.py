"""Candidate source ``premises`` (label tag ``prem``): library lemmas applied or rewritten by name.

Why: neither the menu's automation nor the hypothesis templates can name a library lemma
(``apply sqrt_sqrt``, ``rewrite ln_exp``, ``pose proof (Rabs_pos (x - 1))``), and a small model
rarely spells one right by generation. Premise selection (ReProver, Magnushammer) retrieves
the few relevant lemmas of the library at each goal; here each backend does it symbolically in
its ``premises`` module (``coq_env/premises.py``: the lemmas Coq lists for the problem's header,
matched against the goal's terms), and the policy's scorer orders the tactics with the rest.

The run's own lemmas: with ``db`` (the run's proof database), the hindsight lemmas and the
conjectures it proved and checked join the library's, read online as they are accepted (like
the macro source's proofs). Each goes to the backend as ``(key, statement, proof)``: the
statement as checked and its proof compiled into one tactic (``Backend.combine``, as macros
are), because a lemma of the database is not in the file a proof is checked in; the backend
proves it in place before using it. Never a lemma of a problem in ``deny`` (the evaluation
split), nor a conjecture whose parent is one.

Options (passed to the backend's ``candidates``): ``limit`` (tactics per node, default 64),
``header`` (the problem's header; the search sets it through ``begin(problem)`` for each problem), ``cache_dir`` (where lemma lists are cached on disk), ``extra_lemmas`` (``(name,
statement)`` pairs of lemmas in scope, or ``(key, statement, proof)`` triples of the run's
own), ``timeout`` (seconds for one header's lemma dump), ``min_score``. Read here, not passed
on: ``db``, ``deny``.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Sequence

from prover.policy.backend_source import BackendSource


def own_proof(steps, backend) -> str | None:
    """A proof's (goals, tactic) steps as one tactic (the macro source's compilation), or None
    when the steps do not make a tree or the backend cannot combine tactics."""
    from prover.policy.macros import compile_steps
    steps = steps if isinstance(steps, list) else json.loads(steps or "[]")
    entries = compile_steps([tuple(s) for s in steps], backend.combine, backend.goal_style, min_steps=1)
    return entries[-1][1] if entries else None  # the whole proof is compiled last


class PremiseSource(BackendSource):
    name, tag, module = "premises", "prem", "premises"
    limit_default = 64

    def __init__(self, backend, limit: int | None = None, db: str | None = None,
                 deny: Sequence[str] = (), **options):
        super().__init__(backend, limit, **options)
        self.extra = tuple(self.options.pop("extra_lemmas", None) or ())  # given, in scope or own
        self.db_path, self.deny, self._db = db, set(deny), None
        self._after = (0, 0)          # the last hindsight rowid and conjecture proof id read
        self.own: dict[str, tuple[str, str, str]] = {}   # key -> (key, statement, proof)

    def refresh(self) -> int:
        """Read the lemmas the database accepted since the last look; returns how many."""
        if not self.db_path:
            return 0
        from prover.db import ProofDB, queries
        if self._db is None:
            if not Path(self.db_path).exists():
                return 0
            self._db = ProofDB(self.db_path, create=False)
        hs, conj = queries.own_lemmas_after(self._db, *self._after)
        before = len(self.own)
        for r in hs:
            if r["problem"] not in self.deny:
                self._add(r["key"], r["statement"], r["steps"])
        for r in conj:
            if r["parent"] not in self.deny and r["key"] not in self.own:
                self._add(r["key"], r["statement"], r["steps"])
        self._after = (max([self._after[0]] + [r["rid"] for r in hs]),
                       max([self._after[1]] + [r["id"] for r in conj]))
        return len(self.own) - before

    def _add(self, key: str, statement: str, steps) -> None:
        proof = own_proof(steps, self.backend)
        if proof and statement:
            self.own[key] = (key, statement, proof)

    def candidates(self, state):
        self.refresh()
        return super().candidates(state)

    def begin(self, problem) -> None:
        """The search starts ``problem``: its header decides which library lemmas are loaded."""
        header = getattr(problem, "header", None)
        if header is not None:
            self.options["header"] = header

    def _make(self):
        make = super()._make()
        if make is None:
            return None
        # the backend ranks by lemma, so it is told the cap (the shell only truncates)
        extra = self.extra + tuple(self.own.values())
        options = {"limit": self.limit, **({"extra_lemmas": extra} if extra else {})}
        return functools.partial(make, **options)
