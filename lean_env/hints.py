"""Lean's nonlinear-arithmetic hints (the ``hints`` candidate source; see
``prover.policy.backend_source``): ``nlinarith [sq_nonneg (a - b), mul_pos ha hb]``.

Why: the published Lean proofs of miniF2F's inequalities are mostly ``nlinarith`` behind one or
two hints that name the goal's own atoms, and a fixed menu cannot spell them (``coq_env/hints.py``
is the same source for Coq, with ``pose proof ...; nra``). This module reads the first goal as
Lean's REPL prints it (``lean_env.goals``: ``a b : ℝ``, ``h₀ : 0 < a ∧ 0 < b``, ``⊢ ...``) and
writes the hints, most promising first:

  * a square of a difference of two atoms of one type, one at a time, then all at once, then
    with the squares of their sums;
  * products of positivity facts (``mul_pos h₀.1 h₀.2``, ``mul_nonneg``), alone and with the
    squares;
  * squares of an atom minus a numeral of the goal (``sq_nonneg (x - 2)``);
  * the facts of ``√x`` / ``Real.sqrt x`` (``Real.sqrt_nonneg``, ``Real.sq_sqrt``) and ``|x|``
    (``abs_nonneg``, ``sq_abs``).

Atoms are the context's variables of type ℝ, ℚ, ℤ or ℕ (a difference of naturals truncates, so
ℕ atoms get sums and products only). Hypotheses are named as the goal names them; a conjunct of
``h : A ∧ B ∧ C`` is ``h.1``, ``h.2.1``, ``h.2.2``. Nothing here runs Lean: the tactics are text,
and the search's Lean REPL judges them. ``lean_env.cases`` and ``lean_env.witnesses`` share the
reading.
"""
from __future__ import annotations

import re
from itertools import combinations

from prover.env import Goal

from .goals import _split_top

NUMBER_TYPES = ("ℝ", "ℚ", "ℤ", "ℕ")
IDENT = r"[A-Za-z_α-ωΑ-Ω][\w'₀-₉ᵢ!?.]*"
_IDENT = re.compile(rf"^{IDENT}$")
_NUMERAL = re.compile(r"(?<![\w'₀-₉.])\d+(?:\.\d+)?(?![\w'₀-₉])")
_OPEN, _CLOSE = "([{⟨", ")]}⟩"
_RELATIONS = ("≤", "≥", "<", ">", "≠", "=")


def split_top(text: str, sep: str) -> list[str]:
    """``text`` cut at every ``sep`` outside brackets."""
    parts, rest = [], text
    while True:
        head, rest = _split_top(rest, sep)
        parts.append(head.strip())
        if rest is None:
            return parts


def unwrap(text: str) -> str:
    """``text`` without parentheses that enclose all of it."""
    t = text.strip()
    while t.startswith("(") and t.endswith(")"):
        depth = 0
        for i, c in enumerate(t):
            depth += (c in _OPEN) - (c in _CLOSE)
            if depth == 0:
                break
        if i != len(t) - 1:  # (a) + (b): the first parenthesis closes early
            return t
        t = t[1:-1].strip()
    return t


def conjuncts(name: str, typ: str) -> list[tuple[str, str]]:
    """``(access, fact)`` for each conjunct of ``name : typ`` (``∧`` is right-associative:
    ``h : A ∧ B ∧ C`` gives ``h.1 : A``, ``h.2.1 : B``, ``h.2.2 : C``)."""
    parts = split_top(unwrap(typ), "∧")
    if len(parts) == 1:
        return [(name, parts[0])]
    out, path = [], name
    for part in parts[:-1]:
        out.append((f"{path}.1", unwrap(part)))
        path += ".2"
    return out + [(path, unwrap(parts[-1]))]


class View:
    """The first goal read for instantiation: ``variables`` (name -> number type, in order),
    ``facts`` (access -> fact, every conjunct of every hypothesis), ``conclusion``."""

    def __init__(self, goal: Goal):
        self.variables: dict[str, str] = {}
        self.facts: dict[str, str] = {}
        for h in goal.hyps:
            t = h.type.strip()
            if t in NUMBER_TYPES:
                for n in h.names:
                    if _IDENT.match(n):
                        self.variables[n] = t
            elif h.body is None and any(r in t for r in _RELATIONS + ("∧",)):
                for n in h.names:
                    if _IDENT.match(n) and "✝" not in n:
                        self.facts.update(conjuncts(n, t))
        self.conclusion = goal.conclusion.strip()

    def text(self) -> str:
        return " ".join([self.conclusion, *self.facts.values()])

    def of_type(self, types: tuple[str, ...]) -> list[str]:
        return [n for n, t in self.variables.items() if t in types]


def relation(fact: str) -> tuple[str, str, str] | None:
    """``(left, rel, right)`` of a fact ``a rel b`` with one top-level relation, else None."""
    for rel in _RELATIONS:
        parts = split_top(fact, f" {rel} ")
        if len(parts) == 2:
            return parts[0], rel, parts[1]
    return None


def positivity(view: View) -> list[tuple[str, str, bool]]:
    """``(access, atom, strict)`` for facts ``0 < x``, ``0 ≤ x``, ``x > 0``, ``x ≥ 0`` about an
    atom of the goal."""
    out = []
    for access, fact in view.facts.items():
        r = relation(fact)
        if not r:
            continue
        a, rel, b = r
        if rel in (">", "≥"):
            a, b, rel = b, a, "<" if rel == ">" else "≤"
        if rel in ("<", "≤") and a == "0" and b in view.variables:
            out.append((access, b, rel == "<"))
    return out


def numerals(text: str) -> list[str]:
    """The goal's numerals other than 0, in order of appearance (not exponents)."""
    text = re.sub(r"\^\s*\d+", " ", text)  # an exponent is not a value of the goal
    return [n for n in dict.fromkeys(_NUMERAL.findall(text)) if n != "0"]


def _hints(view: View) -> list[list[str]]:
    """Lists of hint terms, most promising first."""
    out: list[list[str]] = []
    signed = [view.of_type((t,)) for t in ("ℝ", "ℚ", "ℤ")]
    diffs = [f"sq_nonneg ({a} - {b})" for atoms in signed for a, b in combinations(atoms, 2)]
    # a difference of naturals truncates: its square is taken in ℤ, where nlinarith casts ℕ facts
    diffs += [f"sq_nonneg (({a} : ℤ) - {b})" for a, b in combinations(view.of_type(("ℕ",)), 2)]
    sums = [f"sq_nonneg ({a} + {b})" for atoms in signed + [view.of_type(("ℕ",))]
            for a, b in combinations(atoms, 2)]
    pos = positivity(view)
    products = []
    for (ha, a, sa), (hb, b, sb) in combinations(pos, 2):
        if view.variables[a] == view.variables[b] and a != b:
            products.append(f"mul_pos {ha} {hb}" if sa and sb else
                            f"mul_nonneg {ha if not sa else ha + '.le'} {hb if not sb else hb + '.le'}")
    out += [[d] for d in diffs[:6]]
    if len(diffs) > 1:
        out.append(diffs)
    if sums:
        out.append(diffs + sums)
    if products:
        out.append(products)
        if diffs:
            out.append(diffs + products)
    consts = numerals(view.conclusion)[:3]
    for a in view.of_type(("ℝ", "ℚ", "ℤ"))[:4]:
        out += [[f"sq_nonneg ({a} - {c})"] for c in consts]
    text = view.text()
    known = {atom: access if not strict else f"{access}.le" for access, atom, strict in pos}
    for x in dict.fromkeys(re.findall(rf"(?:√|Real\.sqrt\s+)({IDENT}|\([^()]*\))", text)):
        if x in known:  # √x ^ 2 = x needs 0 ≤ x: the goal's own fact
            out.append([f"Real.sqrt_nonneg {x}", f"Real.sq_sqrt {known[x]}"])
        elif x.startswith("("):  # a compound radicand: positivity may prove it non-negative
            out.append([f"Real.sqrt_nonneg {x}", f"Real.sq_sqrt (show (0:ℝ) ≤ {x} by positivity)"])
        else:
            out.append([f"Real.sqrt_nonneg {x}"])
    for x in dict.fromkeys(re.findall(r"\|([^|]+)\|", text)):
        x = x.strip()
        x = x if _IDENT.match(x) else f"({x})"
        out.append([f"abs_nonneg {x}", f"sq_abs {x}"])
    return out


def nonlinear(view: View) -> bool:
    """Whether the goal's arithmetic has a product of two non-numerals, a power or a root
    (a linear goal is ``linarith``'s, and hints only cost tries)."""
    text = view.text()
    if re.search(r"\^|√|Real\.sqrt|\|", text):
        return True
    return bool(re.search(rf"(?:{IDENT}|\))\s*\*\s*(?:{IDENT}|\()", text.replace("·", "*")))


def candidates(goal: Goal, limit: int = 48) -> list[str]:
    """Hint tactics for ``goal`` (``nlinarith [...]``), most promising first, at most ``limit``;
    none when its arithmetic is linear or it has no atoms."""
    view = View(goal)
    if not view.variables or view.conclusion.startswith("∃") or not nonlinear(view):
        return []
    out = [f"nlinarith [{', '.join(terms)}]" for terms in _hints(view) if terms]
    return list(dict.fromkeys(out))[:limit]
