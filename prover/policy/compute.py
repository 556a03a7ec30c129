"""Candidate source ``compute`` (tag ``comp``): the goal's closed computations unfolded first.

Why: ``lra`` reads ``sum_f_R0 f 5``, ``INR 3`` or ``x ^ (n + 1)`` with ``n = 11`` as atoms; after
``[subst;] simpl in *`` they are sums, numerals and products, and the goal is linear or a field
identity. The menu never simplifies the hypotheses, and two steps in a row are what a search
with a small budget rarely takes. The backend proposes them when the goal has something to
compute (``coq_env/compute.py``). A backend without a ``compute`` module offers nothing here.
"""
from __future__ import annotations

from prover.policy.backend_source import BackendSource


class ComputeSource(BackendSource):
    """The backend's ``compute.candidates(goal, limit=...)`` for the first goal."""

    name, tag, module = "compute", "comp", "compute"
    limit_default = 12
    passes_limit = True
