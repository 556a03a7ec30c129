"""Candidate source ``logs`` (tag ``log``): logarithms of numerals written over their primes.

Why: ``lra`` and ``field`` see ``ln 27`` and ``ln 3`` as unrelated atoms, so ``ln 27 / ln 3 = 3``
is out of the menu's reach; written ``3 * ln 3 / ln 3`` with ``0 < ln 3`` known it is one
``field`` (Lean: ``Real.log_pow``, ``Real.log_mul``, ``norm_num``). The backend factors every
numeral under ``ln`` and rewrites (``coq_env/logs.py``). A backend without a ``logs`` module
offers nothing here. :func:`factor` is shared by the backends' modules.
"""
from __future__ import annotations

from prover.policy.backend_source import BackendSource


def factor(n: int) -> list[tuple[int, int]]:
    """The prime factorisation of ``n`` as (prime, exponent), primes ascending."""
    out, p = [], 2
    while p * p <= n:
        e = 0
        while n % p == 0:
            n //= p
            e += 1
        if e:
            out.append((p, e))
        p += 1
    return out + ([(n, 1)] if n > 1 else [])


class LogSource(BackendSource):
    """The backend's ``logs.candidates(goal, limit=...)`` for the first goal."""

    name, tag, module = "logs", "log", "logs"
    limit_default = 8
    passes_limit = True
