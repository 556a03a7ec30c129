"""Coq's denominators source (``prover.policy.denominators``): equations with fractions cleared.

Why: ``(x - 9) / (x + 1) = 2`` with ``x <> -1`` is linear once multiplied out, but ``lra``
reads a quotient by a variable as an unknown atom, and ``field`` only works on the conclusion.
Lean provers write ``field_simp at h; linarith``. Coq's ``field_simplify_eq in H`` multiplies
out ``H`` and leaves a side goal that each denominator is not zero; the side goals are what
a fixed menu cannot close, because they follow from the goal's own ``<>`` hypotheses
(``x + 1 <> 0`` from ``x <> -1``). This module proposes, for each real equation of the first
goal that divides (a hypothesis, or the conclusion), ``field_simplify_eq [in H]`` followed by a
closer of the side goals (an assumption, ``lra`` after ``intro``, or a ``<>`` hypothesis applied
and ``lra``) and by ``lra``/``nra``; all of them at once; and each left open for the search. Where the
equations divide by ``INR n``, the signs come first (``0 <= INR n``, and ``0 < INR n`` where
``lia`` proves ``0 < n``), for the side goals.

Invariants: deterministic, no duplicates, at most ``limit`` tactics, each passing the cheat
filter; a goal without a real equation that divides by a term gets none.
"""
from __future__ import annotations

import re

from prover.env import Goal

from .cheat import allowed
from .witnesses import _EQ, _View, _real, _split_top, view_of

# the side goals field_simplify_eq leaves: d <> 0
SIDE = ("first [assumption | (intro; lra) | (intro; nra) | "
        "(intro; match goal with Hn : _ <> _ |- _ => apply Hn; lra end)]")
_DIVIDES = re.compile(r"/\s*\(?[^=<>]*?[A-Za-z_]")   # a quotient by a term that names something


def _fraction_equation(t: str, view: _View) -> bool:
    return len(_split_top(t, _EQ)) == 2 and _DIVIDES.search(t) is not None and _real(t, view) \
        and not re.search(r"(?<![\w'.])(?:forall|exists|fun)(?![\w'])", t)


def candidates(goal: Goal, limit: int = 16) -> list[str]:
    """Clear the denominators of the first goal's real equations (hypotheses, conclusion)."""
    view = view_of(goal)
    if view is None:
        return []
    hyps = [n for n, t in view.facts if _fraction_equation(t, view)]
    steps = [f"field_simplify_eq in {n}; try {SIDE}" for n in hyps]
    if _fraction_equation(view.conclusion, view):
        steps.append(f"field_simplify_eq; try {SIDE}")
    if not steps:
        return []
    # the denominators' signs: INR of a natural variable is at least 0, above 0 where lia says so
    text = " ".join([t for _, t in view.facts] + [view.conclusion])
    signs = [f"pose proof (pos_INR {x}); try (assert (0 < INR {x}) by (apply lt_0_INR; lia))"
             for x in dict.fromkeys(re.findall(r"(?<![\w'.])INR\s+([A-Za-z_][\w']*)(?![\w'])", text))
             if x in view.types]
    if signs:
        steps = [f"{'; '.join(signs)}; {steps[0]}", *steps[1:]]
    raw = []
    if len(steps) > 1:
        raw += [f"{'; '.join(steps)}; {c}." for c in ("lra", "nra")]
    for s in steps:
        raw += [f"{s}; lra.", f"{s}; nra."]
    raw += [f"{s}." for s in steps]
    return allowed((view.prefix + t for t in raw), limit)
