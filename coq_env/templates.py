"""Coq's hypothesis templates (``Backend.templates``; see ``prover.policy.templates``).

For each equation ``H``: ``rewrite H.``, ``rewrite <- H.``, ``rewrite H in *.``; for each
implication or ``forall`` fact ``apply H.``; for each conjunction, disjunction, ``exists`` or
``<->`` fact ``destruct H.``; ``induction n.`` / ``destruct n.`` for number variables; and
from the conclusion's shape ``intro.``, ``left.``/``right.``, ``eexists.``, ``split_Rabs.``.
"""
from __future__ import annotations

import re

from prover.env import Goal
from prover.policy.templates import is_eq, names

# a relation or connective: what makes a hypothesis a fact rather than a variable's type
_FACT = re.compile(r"(=|<|>|~|/\\|\\/|\bexists\b|\bTrue\b|\bFalse\b|\||\bIFF\b|\bNat\.(even|odd)\b|"
                   r"\bZ\.(even|odd)\b|\bprime\b|\bZnth\b)")
_NUMBERS = {"nat", "Z"}


def _shape(t: str) -> str:
    """The type with arrows hidden (so ``R -> R`` is not read as a ``>`` relation)."""
    return t.replace("<->", " IFF ").replace("->", " ")


def templates(goal: Goal) -> list[str]:
    out: list[str] = []
    facts, nats = names(goal, lambda t: _FACT.search(_shape(t)), _NUMBERS)
    for name, t in facts:
        body = re.sub(r"^forall\b[^,]*,\s*", "", t.strip())
        implication = t.strip().startswith("forall") or "->" in t
        if is_eq(body) and "<->" not in body:
            out += [f"rewrite {name}.", f"rewrite <- {name}.", f"rewrite {name} in *."]
        if implication:
            out.append(f"apply {name}.")
        elif "/\\" in t or "\\/" in t or t.strip().startswith("exists") or "<->" in t:
            out.append(f"destruct {name}.")
    for name, t in nats:
        out += [f"induction {name}.", f"destruct {name}."] if t == "nat" else [f"destruct {name}."]
    c = goal.conclusion.strip()
    if c.startswith("~") or "<>" in c:
        out.append("intro.")
    if "\\/" in c:
        out += ["left.", "right."]
    if c.startswith("exists"):
        out.append("eexists.")
    if "Rabs" in c or any("Rabs" in h.type for h in goal.hyps):
        out.append("split_Rabs.")
    return out
