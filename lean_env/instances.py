"""Lean's instances (the ``instances`` candidate source; see ``prover.policy.instances``): the
goal's universal hypotheses used at its own terms.

Why: competition statements define their functions and sequences by hypotheses (``h₀ : ∀ (x :
ℝ), f x = 5 * x + 4``; ``h₁ : ∀ (n : ℤ), Even n → f n = n ^ 2 - 4 * n - 1``) and ask for a value
(``f 4 = -1``). ``linarith`` cannot see through a ``∀``; the published proofs rewrite the
definition where the function is applied (``norm_num [h₀]``, ``rw [h₁ 4 (by decide)]``) or
specialise a recurrence at the indices the goal needs. ``coq_env/instances.py`` is the same
source for Coq. This module reads the first goal as the REPL prints it and proposes, most
promising first:

  * for each hypothesis ``∀ ..., f xs = e``: ``norm_num [h]``, ``simp only [h]; norm_num``,
    ``simp [h] at * <;> linarith``;
  * at each closed argument ``c`` the goal applies a function to (``f 4``): ``rw [h c]``, and
    with one premise discharged (``rw [h c (by decide)]``, ``(by norm_num)``), then ``norm_num``;
  * a hypothesis over ℕ with one binder (a recurrence), specialised at every index from 0 to the
    largest the goal names (at most ``MAX_INDEX``): ``have h_0 := h 0; ...; norm_num at *;
    linarith`` (and ``omega``).

Nothing here runs Lean: the REPL judges the tactics.
"""
from __future__ import annotations

import re

from prover.env import Goal

from .hints import IDENT

MAX_INDEX = 12
_APPLIED = re.compile(rf"(?<![\w'.])({IDENT})\s+(\(-?\d+\)|\d+)(?![\w'.])")
_BINDERS = re.compile(r"^∀\s*(.*?),\s*(.*)$", re.S)


def universals(goal: Goal) -> list[tuple[str, str]]:
    """``(name, type)`` of the hypotheses that are ``∀`` statements, in order."""
    out = []
    for h in goal.hyps:
        t = " ".join(h.type.split())
        if h.body is None and t.startswith("∀"):
            out += [(n, t) for n in h.names if re.fullmatch(IDENT, n) and "✝" not in n]
    return out


def functions(goal: Goal) -> set[str]:
    """The context's function variables (``f : ℝ → ℝ``, ``a : ℕ → ℝ``)."""
    return {n for h in goal.hyps if "→" in h.type and not h.type.strip().startswith("∀")
            and h.body is None for n in h.names}


def premises(typ: str) -> int:
    """How many premises (``A → ``) a ``∀`` hypothesis has after its binders (``∀ n ≥ 3,`` is one)."""
    m = _BINDERS.match(typ)
    if not m:
        return 0
    binders, body = m.group(1), m.group(2)
    bounded = int(any(op in binders for op in ("≥", "≤", ">", "<", "∈")))
    return bounded + len(re.findall(r"→", body))


def candidates(goal: Goal, limit: int = 32) -> list[str]:
    """Tactics using the goal's ``∀`` hypotheses at its terms, most promising first."""
    hyps = universals(goal)
    if not hyps:
        return []
    fns = functions(goal)
    concl = " ".join(goal.conclusion.split())
    applied = [(f, c) for f, c in dict.fromkeys(_APPLIED.findall(concl)) if f in fns]
    out: list[str] = []
    for name, typ in hyps:
        k = premises(typ)
        if k == 0:
            out += [f"norm_num [{name}]", f"simp only [{name}]; norm_num", f"simp [{name}] at * <;> linarith"]
        for f, c in applied:
            if not re.search(rf"(?<![\w'.]){re.escape(f)}(?![\w'.])", typ):
                continue
            if k == 0:
                out.append(f"rw [{name} {c}]; norm_num")
            elif k == 1:
                out += [f"rw [{name} {c} (by decide)]; norm_num", f"rw [{name} {c} (by norm_num)]; norm_num"]
    for name, typ in hyps:  # recurrences over ℕ: the instances up to the goal's largest index
        m = _BINDERS.match(typ)
        if not m or premises(typ) or not re.fullmatch(rf"\(?{IDENT}\s*:\s*ℕ\)?|{IDENT}", m.group(1).strip()):
            continue
        top = max([int(c) for f, c in applied if c.isdigit()], default=-1)
        if 0 < top <= MAX_INDEX:
            haves = "; ".join(f"have {name}_{i} := {name} {i}" for i in range(top + 1))
            out += [f"{haves}; norm_num at *; linarith", f"{haves}; simp only [*] at *; omega"]
    return list(dict.fromkeys(out))[:limit]
