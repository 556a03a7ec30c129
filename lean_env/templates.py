"""Lean's hypothesis templates (``Backend.templates``; see ``prover.policy.templates``).

For each equation ``h``: ``rw [h]``, ``rw [← h]``, ``rw [h] at *``; ``apply h`` for an
implication; ``obtain``/``rcases`` for a conjunction, disjunction, ``∃`` or ``↔``;
``nlinarith [h]`` for every fact; ``induction n``/``cases n`` for number variables; and
from the conclusion ``intro h``, ``left``/``right``.
"""
from __future__ import annotations

import re

from prover.env import Goal
from prover.policy.templates import is_eq, names

_FACT = re.compile(r"(=|<|>|≤|≥|≠|¬|∧|∨|∃|↔|∣|\bTrue\b|\bFalse\b|\.Prime\b|Even|Odd)")
_NUMBERS = {"ℕ", "Nat", "ℤ", "Int"}


def templates(goal: Goal) -> list[str]:
    out: list[str] = []
    facts, nats = names(goal, lambda t: _FACT.search(t.replace("→", " ")), _NUMBERS)
    for name, t in facts:
        body = re.sub(r"^∀[^,]*,\s*", "", t.strip())
        if is_eq(body) and "↔" not in body:
            out += [f"rw [{name}]", f"rw [← {name}]", f"rw [{name}] at *"]
        if t.strip().startswith("∀") or "→" in t:
            out.append(f"apply {name}")
        elif "∧" in t or "∨" in t or t.strip().startswith("∃") or "↔" in t:
            out.append(f"obtain ⟨{name}_1, {name}_2⟩ := {name}" if "∨" not in t else f"rcases {name} with {name} | {name}")
        out.append(f"nlinarith [{name}]")
    for name, _ in nats:
        out += [f"induction {name}", f"cases {name}"]
    c = goal.conclusion.strip()
    if c.startswith("¬") or "≠" in c:
        out.append("intro h")
    if "∨" in c:
        out += ["left", "right"]
    return out
