"""Candidate source ``numerals`` (tag ``num``): large ``nat`` numerals rewritten into small ones.

Why: Coq spells a ``nat`` numeral of 5000 or more as ``Nat.of_num_uint (...)``, which ``lia``
reads as an unknown atom, so linear goals over numbers like ``123422`` fail for no
mathematical reason. The backend writes each such numeral in base-1000 digits, proved by
computation, and then runs the automation or leaves the goal to the other sources
(``coq_env/numerals.py``). A backend without a ``numerals`` module offers nothing here (Lean's
numerals are binary).
"""
from __future__ import annotations

from prover.policy.backend_source import BackendSource


class NumeralSource(BackendSource):
    """The backend's ``numerals.candidates(goal, limit=...)`` for the first goal."""

    name, tag, module = "numerals", "num", "numerals"
    limit_default = 8
    passes_limit = True
