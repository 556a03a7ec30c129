"""Coq's logs source (``prover.policy.logs``): logarithms of numerals taken apart into
logarithms of primes.

Why: ``ln 27 / ln 3 = 3`` and ``(ln 80 / ln 2) / (ln 2 / ln 40) - ... = 2`` are field identities
once every ``ln c`` is written ``e1 * ln p1 + e2 * ln p2 + ...`` over the primes of ``c``, and
the ``ln p`` are known positive; ``lra``/``field`` see ``ln 27`` and ``ln 3`` as unrelated atoms.
Lean provers do this with ``Real.log_pow``, ``Real.log_mul`` and ``norm_num``. This module
proposes one tactic per closer that, for the numerals ``c >= 2`` under ``ln`` in the first
goal: asserts ``0 < ln p`` for each prime ``p`` (``ln_increasing`` from ``ln 1 = 0``), rewrites
``ln c`` into ``ln (p1 ^ e1 * p2 ^ e2 ...)`` (proved by computation), expands it with
``ln_mult`` and ``ln_pow``, computes the ``INR`` of the exponents and hands the goal to
``field``/``lra``.

Invariants: deterministic, no duplicates, at most ``limit`` tactics, each passing the cheat
filter; a goal without ``ln`` of a numeral gets none; numerals above ``MAX`` are left alone.
"""
from __future__ import annotations

import re

from prover.env import Goal
from prover.policy.logs import factor

from .cheat import allowed
from .witnesses import view_of

MAX = 10 ** 6
_LN = re.compile(r"(?<![\w'.])ln\s+\(?\s*(\d+)\s*\)?(?![\w'.(])")


def _power(p: int, e: int) -> str:
    return str(p) if e == 1 else f"{p} ^ {e}"


def candidates(goal: Goal, limit: int = 8) -> list[str]:
    """Every ``ln c`` of the first goal over the primes of ``c``, then the automation."""
    view = view_of(goal)
    if view is None:
        return []
    text = " ".join([t for _, t in view.facts] + [view.conclusion])
    nums = sorted({int(c) for c in _LN.findall(text) if 2 <= int(c) <= MAX})
    if not nums:
        return []
    primes = sorted({p for c in nums for p, _ in factor(c)})
    taken, steps = set(view.taken), []
    for p in primes:
        i, name = 0, f"Hln{p}"
        while name in taken:
            name, i = f"Hln{p}_{i}", i + 1
        taken.add(name)
        steps.append(f"assert ({name} : 0 < ln {p}) by (rewrite <- ln_1; apply ln_increasing; lra)")
    for c in nums:
        f = factor(c)
        if f == [(c, 1)]:
            continue
        product = " * ".join(_power(p, e) for p, e in f)
        steps.append(f"replace (ln {c}) with (ln ({product})) by (f_equal; simpl; lra)")
    steps.append("repeat rewrite ln_mult by (try apply pow_lt; lra)")
    steps.append("repeat rewrite ln_pow by lra")
    base = "; ".join(steps) + "; simpl INR in *"
    raw = [f"{base}; field; lra.", f"{base}; lra.", f"{base}; field_simplify; lra.", f"{base}; nra.", f"{base}."]
    return allowed((view.prefix + t for t in raw), limit)
