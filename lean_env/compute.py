"""Lean's compute (the ``compute`` candidate source; see ``prover.policy.compute``): the goal's
closed computations unfolded before the automation.

Why: ``(∑ x ∈ Finset.range 10, (x + 1) ^ 2) % 10 = 5`` or ``Nat.choose 9 2 = 36`` are
computations, but ``norm_num`` and ``simp`` do not unfold a sum over a range or a factorial by
themselves; the published proofs write ``decide``, ``rfl`` (both in the menu) or ``norm_num
[Finset.sum_range_succ]``, ``simp [Nat.factorial]``. ``coq_env/compute.py`` is the same source
for Coq (``simpl`` before the automation). When the first goal (or a hypothesis) has a sum or
product over a range, a factorial or a binomial coefficient, this module proposes ``norm_num``
and ``simp`` with the unfolding lemmas for what it has, alone and followed by ``omega``/``ring``.
Nothing here runs Lean.
"""
from __future__ import annotations

import re

from prover.env import Goal

# what the goal computes -> the lemmas that unfold it
UNFOLD = (
    (re.compile(r"∑|Finset\.sum"), "Finset.sum_range_succ"),
    (re.compile(r"∏|Finset\.prod"), "Finset.prod_range_succ"),
    (re.compile(r"Nat\.factorial|\d\s*!|\)\s*!"), "Nat.factorial"),
    (re.compile(r"Nat\.choose|\.choose"), "Nat.choose"),
)


def candidates(goal: Goal, limit: int = 12) -> list[str]:
    """Unfolding tactics for the first goal's computations, most promising first."""
    text = " ".join([goal.conclusion, *(h.type for h in goal.hyps)])
    lemmas = [lem for pat, lem in UNFOLD if pat.search(text)]
    if not lemmas:
        return []
    ls = ", ".join(lemmas)
    out = [f"norm_num [{ls}]", f"simp [{ls}]", f"simp only [{ls}]; norm_num", f"norm_num [{ls}] at *",
           f"simp [{ls}] <;> omega", f"simp [{ls}] <;> ring", f"norm_num [{ls}] <;> decide"]
    return list(dict.fromkeys(out))[:limit]
