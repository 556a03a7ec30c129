"""Lean's witnesses (the ``witnesses`` candidate source; see ``prover.policy.backend_source``):
``use 3 <;> norm_num`` for a goal ``∃ x, ...``.

Why: an existential is closed by naming its witness, which no automation in the menu does, and
the witness is most often a small number or a numeral of the goal (``∃ n : ℕ, 0 < n ∧ n ^ 2 =
49``: 7) or a term the hypotheses give (``h : x = 2 * y``). This module reads the first goal's
conclusion as the REPL prints it (``∃ x y, ...``, ``∃ x : ℝ, ...``, ``∃ x ∈ S, ...``) and
proposes ``use`` with, for each bound variable, the goal's numerals, their square roots when
exact, small integers (no negatives for ℕ), the context's variables ``v`` and ``v + 1``, and the
right-hand sides of the hypotheses' equations; each is followed by closers (``norm_num``,
``simp``, ``decide`` for ℕ, ``constructor <;> norm_num``) and comes bare too.
``coq_env/witnesses.py`` is the same source for Coq. Nothing here runs Lean.
"""
from __future__ import annotations

import math
import re
from itertools import product

from prover.env import Goal

from .hints import IDENT, View, numerals, relation, split_top, unwrap

_BINDER = re.compile(rf"^∃\s*((?:{IDENT}\s*)+)(?::\s*([^,]+?))?\s*(?:∈[^,]+)?,\s*(.*)$", re.S)
SMALL = (0, 1, 2, 3, -1, 4, 5)


def bound(conclusion: str) -> tuple[list[str], str, str] | None:
    """(names, type or "", body) of ``∃ names [: T], body`` (nested ``∃`` joined), else None."""
    names, typ, body = [], "", unwrap(conclusion)
    while True:
        m = _BINDER.match(body)
        if not m:
            break
        names += m.group(1).split()
        typ = typ or (m.group(2) or "").strip()
        body = unwrap(m.group(3))
    return (names, typ, body) if names else None


def _values(view: View, typ: str, body: str) -> list[str]:
    """Witness terms, most likely first."""
    text = " ".join([body, *view.facts.values()])
    nums = numerals(text)
    out = list(nums[:6])
    for n in nums[:6]:
        try:
            v = float(n)
        except ValueError:
            continue
        r = math.isqrt(int(v)) if v == int(v) and v >= 0 else None
        if r is not None and r * r == int(v) and r > 1:
            out.append(str(r))
    small = [str(v) if v >= 0 else f"({v})" for v in SMALL if not (typ == "ℕ" and v < 0)]
    out += small[:3]
    for v in list(view.variables)[:3]:  # the context's numbers, and one more (∃ m, m > n ∧ ...)
        out += [v, f"({v} + 1)"]
    out += small[3:]
    for fact in view.facts.values():  # x = e: the hypothesis names a value
        r = relation(fact)
        if r and r[1] == "=" and len(r[2]) <= 40:
            out.append(r[2] if re.fullmatch(rf"{IDENT}|\d+", r[2]) else f"({r[2]})")
    return list(dict.fromkeys(out))


def candidates(goal: Goal, limit: int = 48) -> list[str]:
    """``use`` tactics for an existential first goal, most promising first, at most ``limit``."""
    view = View(goal)
    b = bound(view.conclusion)
    if b is None:
        return []
    names, typ, body = b
    values = _values(view, typ, body)
    nat = typ == "ℕ"
    closers = ["norm_num", "simp"] + (["decide"] if nat else []) + ["constructor <;> norm_num"]
    if len(split_top(body, "∧")) == 1:
        closers.remove("constructor <;> norm_num")
    out: list[str] = []
    k = len(names)
    if k > 2:
        return []
    for vs in product(values[:12 if k == 1 else 6], repeat=k):  # each witness: its closers, then bare
        out += [f"use {', '.join(vs)} <;> {c}" for c in closers] + [f"use {', '.join(vs)}"]
    return list(dict.fromkeys(out))[:limit]
