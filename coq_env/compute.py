"""Coq's compute source (``prover.policy.compute``): the goal's closed computations unfolded
before the automation.

Why: ``lra`` and ``lia`` read ``sum_f_R0 (fun k => a + INR k * d) 5``, ``INR 3``, ``fact 5`` or
``(1 / 4) ^ (n + 1)`` with ``n = 11`` as atoms; ``simpl`` unfolds a recursive function applied
to a numeral (the sum into its six terms, ``INR 3`` into ``1 + 1 + 1``, the power into a
product), after which the goal is linear or a field identity. The menu's closers never
``simpl`` the hypotheses, and ``subst; simpl`` is two steps the search rarely takes in a
row. This module proposes, when the first goal applies such a function (or a power by a
compound exponent) and for the hypotheses too, ``simpl in *`` or ``subst; simpl in *`` followed
by the automation of the conclusion's arithmetic (``lra``/``field``/``nra`` on reals,
``lia``/``nia`` on integers).

Invariants: deterministic, no duplicates, at most ``limit`` tactics, each passing the cheat
filter; a goal with nothing to compute gets none.
"""
from __future__ import annotations

import re

from prover.env import Goal

from .cheat import allowed
from .witnesses import _EQ, _IDENT, _split_top, _unparen, view_of

# recursive functions simpl unfolds at a numeral, and powers by an exponent that is not a numeral
_COMPUTES = re.compile(r"(?<![\w'.])(?:sum_f_R0|sum_n|prod_n|INR|fact|seq|fold_left|fold_right|map|filter|"
                       r"length|list_sum|nth|pred|Nat\.\w+|pow)(?![\w'])|\^\s*\(")


def candidates(goal: Goal, limit: int = 12) -> list[str]:
    """``[subst;] simpl in *`` then the automation, when the first goal has something to compute."""
    view = view_of(goal)
    if view is None:
        return []
    text = " ".join([t for _, t in view.facts] + [view.conclusion])
    if not _COMPUTES.search(text):
        return []
    close, nonlin = view.arith()
    # the text does not always tell reals from integers (``(1 / 4) ^ (n + 1) = 1 / 4`` under an
    # open R scope): where it does not say reals, the real closers come after the integer ones
    closers = [close, "field", nonlin] if close == "lra" else [close, nonlin, "reflexivity", "lra", "field"]
    # a hypothesis x = e or e = x with x a variable: subst can use it
    substitutable = any(
        len(sides := _split_top(t, _EQ)) == 2 and any(_IDENT.fullmatch(_unparen(s)) and _unparen(s) in view.types
                                                      for s in sides)
        for _, t in view.facts)
    raw = [f"simpl in *; {c}." for c in closers]
    if substitutable:
        raw = [f"subst; simpl in *; {c}." for c in closers] + raw
    raw.append("simpl in *.")
    return allowed((view.prefix + t for t in raw), limit)
