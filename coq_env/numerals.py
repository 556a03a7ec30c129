"""Coq's numerals source (``prover.policy.numerals``): large ``nat`` numerals made readable to
``lia``.

Why: Coq parses a ``nat`` numeral of 5000 or more as ``Nat.of_num_uint (...)`` (a unary
``S (S ...)`` would overflow the stack), and ``lia``/``nia`` read that term as an unknown atom:
``A <= 9 /\\ M <= 9 /\\ C <= 9 -> 20000 * A + 2000 * M + 200 * C + 22 = 123422 -> A + M + C = 14``
fails with "Cannot find witness" although it is linear arithmetic over bounded integers. Written
with numerals below 5000 (``123 * 1000 + 422``) the same goal is one ``lia``. This module
rewrites every large numeral of the first goal into base-1000 digits, each equation proved by
computation (``Nat.eqb`` under ``vm_compute``, which builds the unary number in the virtual
machine; numerals up to ``MAX_NUMERAL``), then hands the goal to the automation, or leaves it
open for the other sources (a bounded case split, a hint).

Numerals in ``Z`` or ``R`` are binary already: their equation rewrites nothing (``rewrite ?H``),
so for them the candidate is the automation alone.

Invariants: deterministic, no duplicates, at most ``limit`` tactics, each passing the cheat
filter; a goal without such numerals gets none.
"""
from __future__ import annotations

import re

from prover.env import Goal

from .cheat import allowed
from .witnesses import view_of

LARGE = 5000              # Coq's threshold for Nat.of_num_uint
MAX_NUMERAL = 2_000_000   # the unary number vm_compute builds: 2M constructors, about 0.5 s
_NUMERAL = re.compile(r"(?<![\w'.])\d+(?![\w'.])")
# how Coq prints such a numeral back: of_num_uint (Number.UIntDecimal (Decimal.D1 (... Decimal.Nil)))
_PRINTED = re.compile(r"(?<![\w'])(?:Nat\.)?of_num_uint\s*\(\s*Number\.UIntDecimal\s*((?:\(?\s*Decimal\.D\d\s*)+)")


def numerals(text: str) -> set[int]:
    """The numerals of ``text``: plain, and the large ``nat`` ones as Coq prints them."""
    found = {int(x) for x in _NUMERAL.findall(_PRINTED.sub(" ", text))}
    found |= {int("".join(re.findall(r"Decimal\.D(\d)", m.group(1)))) for m in _PRINTED.finditer(text)}
    return found


def digits(n: int) -> str:
    """``n`` as a sum of base-1000 digits times powers of 1000, every numeral below ``LARGE``:
    ``123422`` -> ``123 * 1000 + 422``."""
    parts, power = [], 0
    while n:
        n, d = divmod(n, 1000)
        if d:
            parts.append(" * ".join([str(d)] + ["1000"] * power) if d != 1 or not power else
                         " * ".join(["1000"] * power))
        power += 1
    return " + ".join(reversed(parts)) or "0"


def candidates(goal: Goal, limit: int = 8) -> list[str]:
    """Rewrite the first goal's large nat numerals into small ones, then close or leave open."""
    view = view_of(goal)
    if view is None:
        return []
    text = " ".join([h.type for h in goal.hyps] + [goal.conclusion])
    large = sorted(n for n in numerals(text) if LARGE <= n <= MAX_NUMERAL)
    if not large:
        return []
    taken = set(view.taken)
    names = []
    for _ in large:
        i = len(names)
        while f"Hn{i}" in taken:
            i += 1
        taken.add(f"Hn{i}")
        names.append(f"Hn{i}")
    asserts = "; ".join(f"assert ({h} : ({n} = {digits(n)})%nat) by (apply PeanoNat.Nat.eqb_eq; vm_compute; reflexivity)"
                        for h, n in zip(names, large))
    rewrite = f"rewrite {', '.join('?' + h for h in names)} in *; clear {' '.join(names)}"
    base = f"{view.prefix}{asserts}; {rewrite}"
    return allowed([f"{base}; {c}." for c in ("lia", "nia", "simpl in *; lia")] + [f"{base}."], limit)
