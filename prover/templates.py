"""Tactics that name the state's own hypotheses and variables: the state-dependent actions.

A fixed menu can only offer closed automation (``lia``, ``nra``...); the steps between them in
a human proof mostly mention something local: ``rewrite H0``, ``apply H``, ``destruct H``,
``induction n``. A small model rarely spells those right by generation (it has to copy a name
out of the prompt), so, like the premise candidates of retrieval-augmented provers (ReProver)
and the argument slots of ASTactic/Tactician, we instantiate a few tactic shapes with the
names of the first goal and let the model *score* them with everything else. Which of them
are worth trying first is then learned; the search's proofs teach it.

Invariants:
  * ``templates(state, backend)`` depends only on the first goal's hypotheses and conclusion
    (the goal a tactic acts on in both Coq and Lean), is deterministic, has no duplicates,
    and has at most ``limit`` tactics.
  * Every tactic is an ordinary one the cheat filter judges like any other.
  * Coq tactics end with a period (the spelling stored proofs, and so the model, use).
"""
from __future__ import annotations

import re

from prover.env import Goal, State

_IDENT = re.compile(r"^[^\s:()\[\],;⟨⟩|]+$")
# a relation or connective: what makes a hypothesis a fact rather than a variable's type
_COQ_FACT = re.compile(r"(=|<|>|~|/\\|\\/|\bexists\b|\bTrue\b|\bFalse\b|\||\bIFF\b|\bNat\.(even|odd)\b|"
                       r"\bZ\.(even|odd)\b|\bprime\b|\bZnth\b)")
_LEAN_FACT = re.compile(r"(=|<|>|≤|≥|≠|¬|∧|∨|∃|↔|∣|\bTrue\b|\bFalse\b|\.Prime\b|Even|Odd)")
_COQ_NATS = {"nat", "Z"}
_LEAN_NATS = {"ℕ", "Nat", "ℤ", "Int"}


def _coq_shape(t: str) -> str:
    """The type with arrows hidden (so ``R -> R`` is not read as a ``>`` relation)."""
    return t.replace("<->", " IFF ").replace("->", " ")


def _is_eq(t: str) -> bool:
    return re.search(r"(?<![<>:])=(?![>])", t) is not None


def _names(goal: Goal, is_fact, number_types: set[str]) -> tuple[list, list]:
    """(name, type) of the goal's facts and of its variables of a number type, most recent
    first; let-bound names and names that are not plain identifiers are skipped."""
    facts, nats = [], []
    for h in goal.hyps:
        if h.body is not None:
            continue
        for name in h.names:
            if not _IDENT.match(name):
                continue
            if is_fact(h.type):
                facts.append((name, h.type))
            elif h.type.strip() in number_types:
                nats.append((name, h.type.strip()))
    return facts[::-1], nats[::-1]


def _coq(goal: Goal) -> list[str]:
    out: list[str] = []
    facts, nats = _names(goal, lambda t: _COQ_FACT.search(_coq_shape(t)), _COQ_NATS)
    for name, t in facts:
        body = re.sub(r"^forall\b[^,]*,\s*", "", t.strip())
        implication = t.strip().startswith("forall") or "->" in t
        if _is_eq(body) and "<->" not in body:
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


def _lean(goal: Goal) -> list[str]:
    out: list[str] = []
    facts, nats = _names(goal, lambda t: _LEAN_FACT.search(t.replace("→", " ")), _LEAN_NATS)
    for name, t in facts:
        body = re.sub(r"^∀[^,]*,\s*", "", t.strip())
        if _is_eq(body) and "↔" not in body:
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


def templates(state: State, backend: str, limit: int = 24) -> list[str]:
    """The state-dependent candidate tactics for the first goal of ``state`` (none when the
    state has no goals or the backend has no templates)."""
    if not state.goals:
        return []
    goal = state.goals[0]
    make = {"coq": _coq, "lean": _lean}.get(backend)
    if make is None:
        return []
    return list(dict.fromkeys(make(goal)))[:limit]
