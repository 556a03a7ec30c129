"""Candidate source ``cases`` (label tag ``cases``): bounded case splits.

Why: a goal about an integer the hypotheses bound on both sides (``n <= 9``, ``0 < n``) is
often beyond ``lia`` (a product, a ``mod``) and trivial for each value of the integer: Lean's
``interval_cases n``. The backend writes the split from the first goal (``coq_env/cases.py``:
the disjunction of the values proved by ``lia``, destructed, each case substituted and left to
a closer, or left open for the search) and the policy's scorer orders it with everything else.
The shell is :class:`prover.policy.backend_source.BackendSource`.
"""
from __future__ import annotations

from prover.policy.backend_source import BackendSource


class CaseSource(BackendSource):
    name, tag, module = "cases", "cases", "cases"
    limit_default = 24
