"""Lean's denominators (the ``denominators`` candidate source; see ``prover.policy.denominators``):
equations with their fractions cleared.

Why: ``h₀ : x / 50 = 40`` makes ``x = 2000`` linear once multiplied out, but ``linarith`` reads the
quotient as an atom, and the menu's ``field_simp`` works on the conclusion only. The published
proofs write ``field_simp at h₀; linarith`` or ``rw [div_eq_iff (by norm_num)] at h₀``.
``coq_env/denominators.py`` is the same source for Coq. For each hypothesis that divides (and for
the conclusion), this module proposes the cleared form followed by ``linarith``/``nlinarith``,
and bare, leaving it to the search; and all of them at once. ``field_simp`` finds the side
conditions that denominators are not zero among the hypotheses (``h₁ : x ≠ -1`` does not say
``x + 1 ≠ 0``; those goals are left to the other sources). Nothing here runs Lean.
"""
from __future__ import annotations

from prover.env import Goal

from .hints import View, relation

CLOSERS = ("linarith", "nlinarith", "ring_nf at * ⊢ <;> linarith")


def candidates(goal: Goal, limit: int = 16) -> list[str]:
    """Fraction-clearing tactics for the first goal, most promising first."""
    view = View(goal)
    divides = [access for access, fact in view.facts.items()
               if "." not in access and "/" in fact and relation(fact) and relation(fact)[1] == "="]
    concl = "/" in view.conclusion and bool(relation(view.conclusion))
    if not divides and not concl:
        return []
    out: list[str] = []
    for h in divides:
        out += [f"field_simp at {h}; {c}" for c in CLOSERS[:2]]
        out += [f"rw [div_eq_iff (by norm_num)] at {h}; linarith", f"rw [eq_div_iff (by norm_num)] at {h}; linarith"]
    if divides:
        where = " ".join(divides)
        out += [f"field_simp at {where} ⊢; {c}" for c in CLOSERS]
        out += [f"field_simp at {h}" for h in divides]
    if concl:
        out += ["rw [div_eq_iff (by norm_num)]; linarith", "rw [eq_div_iff (by norm_num)]; linarith",
                "field_simp; ring_nf", "field_simp; linarith", "field_simp; nlinarith"]
    return list(dict.fromkeys(out))[:limit]
