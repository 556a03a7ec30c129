"""Candidate source ``instances`` (tag ``inst``): the goal's universal hypotheses used at its terms.

Why: competition statements define their functions and sequences by hypotheses
(``forall x, f x = ...``, ``forall n, a (S n) = ...``) and ask for a value; ``lra`` cannot see
through a ``forall``. Lean provers write ``rw [h₀]`` or ``nlinarith [h 2, h 3]``; the menu cannot
spell either (they name the goal's own hypotheses and terms). The backend rewrites a definition
where its function is applied and specialises a recurrence at the goal's indices
(``coq_env/instances.py``); the policy's scorer orders them with everything else. A backend
without an ``instances`` module offers nothing here.
"""
from __future__ import annotations

from prover.policy.backend_source import BackendSource


class InstanceSource(BackendSource):
    """The backend's ``instances.candidates(goal, limit=...)`` for the first goal: at most
    ``limit`` tactics per node (default 32), most promising first."""

    name, tag, module = "instances", "inst", "instances"
    limit_default = 32
    passes_limit = True
