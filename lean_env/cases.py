"""Lean's bounded case splits (the ``cases`` candidate source; see
``prover.policy.backend_source``): ``interval_cases n <;> omega``.

Why: ``n < 6 → n ^ 3 % 6 = n % 6`` is beyond ``omega`` and ``nlinarith`` (a power, a ``%``),
and each of its six cases is a computation; Lean provers close such goals with Mathlib's
``interval_cases``, which finds the bounds of a variable among the hypotheses and splits it into
its values. This module proposes it for every ℕ or ℤ variable of the first goal that the facts
bound by numerals on both sides (a natural number is at least 0), with 2 to ``MAX_CASES``
values, fewer first (``coq_env/cases.py`` is the same source for Coq, in plain Coq).

``interval_cases`` reads hypotheses, not conjuncts: a bound inside ``h : 0 < n ∧ n < 6`` is
first stated on its own (``have hn₁ : n < 6 := h.2``). Each split comes with closers (``omega``,
``simp_all``, ``norm_num at *``, ``decide`` for ℕ) and bare, leaving the cases to the search; two
small ranges are also split together. Nothing here runs Lean.
"""
from __future__ import annotations

import re
from itertools import combinations

from prover.env import Goal

from .hints import View, relation, unwrap

MAX_CASES = 40
_INT = re.compile(r"^-?\d+$")


def _value(side: str) -> int | None:
    t = unwrap(side).replace(" ", "")
    t = re.sub(r"^\((-?\d+)\s*:\s*[ℕℤ]\)$", r"\1", t)
    return int(t) if _INT.match(t) else None


def bounds(view: View, max_cases: int = MAX_CASES) -> dict[str, tuple[int, int, list[str]]]:
    """``name -> (lowest, highest, accesses)`` for the ℕ and ℤ variables that the facts bound by
    numerals on both sides, with 2 to ``max_cases`` values; ``accesses``: the conjuncts (``h.2``)
    that hold a bound, which must be stated on their own first."""
    ints = {n for n, t in view.variables.items() if t in ("ℕ", "ℤ")}
    lo: dict[str, int] = {n: 0 for n in ints if view.variables[n] == "ℕ"}
    hi: dict[str, int] = {}
    nested: dict[str, list[str]] = {n: [] for n in ints}
    for access, fact in view.facts.items():
        r = relation(fact)
        if not r or r[1] not in ("<", "≤", ">", "≥"):
            continue
        a, rel, b = unwrap(r[0]), r[1], unwrap(r[2])
        if rel in (">", "≥"):
            a, b, rel = b, a, "<" if rel == ">" else "≤"
        strict = rel == "<"
        va, vb = _value(a), _value(b)
        name = None
        if a in ints and vb is not None:
            hi[a], name = min(hi.get(a, vb - strict), vb - strict), a
        elif b in ints and va is not None:
            lo[b], name = max(lo.get(b, va + strict), va + strict), b
        if name and "." in access:
            nested[name].append(access)
    return {n: (lo[n], hi[n], nested[n]) for n in ints
            if n in lo and n in hi and 2 <= hi[n] - lo[n] + 1 <= max_cases}


def _stated(view: View, accesses: list[str], taken: set[str]) -> list[str]:
    """``have`` steps that state nested bounds as hypotheses of their own."""
    steps = []
    for access in accesses:
        if access in taken:
            continue
        taken.add(access)
        steps.append(f"have hcase{len(taken)} : {view.facts[access]} := {access}")
    return steps


def candidates(goal: Goal, limit: int = 24, max_cases: int = MAX_CASES) -> list[str]:
    """``interval_cases`` tactics for the first goal's bounded integer variables, at most ``limit``."""
    view = View(goal)
    bs = bounds(view, max_cases)
    if not bs:
        return []
    order = sorted(bs, key=lambda n: bs[n][1] - bs[n][0])  # fewer cases first (stable: context order)
    out: list[str] = []

    def split(names: list[str]) -> list[str]:
        taken: set[str] = set()
        steps = [s for n in names for s in _stated(view, bs[n][2], taken)]
        cases = " <;> ".join(f"interval_cases {n}" for n in names)
        nat = all(view.variables[n] == "ℕ" for n in names)
        closers = ["omega", "simp_all", "norm_num at *"] + (["decide"] if nat else []) + ["nlinarith"]
        head = "; ".join(steps + [cases])
        return [f"{head} <;> {c}" for c in closers] + [head]

    for n in order:
        out += split([n])
    for a, b in combinations(order, 2):
        if (bs[a][1] - bs[a][0] + 1) * (bs[b][1] - bs[b][0] + 1) <= max_cases:
            out += split([a, b])[:2]
    return list(dict.fromkeys(out))[:limit]
