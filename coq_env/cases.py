"""Coq's bounded case splits (the ``cases`` candidate source; see
``prover.policy.backend_source``): Lean's ``interval_cases n``.

Why: ``forall n : nat, n < 6 -> n * n * n mod 6 = n mod 6`` is beyond ``lia`` and ``nia`` (a
product, a ``mod``), and each of its six cases is a computation. When the first goal's facts
(its context, or the premises ``intros`` will introduce) bound an integer variable above and
below by constants (``n <= 9``, ``0 < n``, ``(x < 3)%Z``, ``-2 <= x``; a ``nat`` is at least 0),
this module splits it into its values, in plain Coq (the checker replays the proof in a fresh
``coqc``, and the cheat filter forbids ``Ltac``):

    intros; assert (Hc : (n = 0 \\/ n = 1 \\/ ... \\/ n = 5)%nat) by lia;
      destruct Hc as [Hc|[Hc|...]]; subst n; simpl in *; lia.

Each split comes with a few closers (``lia``; ``simpl in *; lia``, which computes what ``lia``
cannot read, a power of constants, an ``INR 3``; ``simpl in *; lra`` when the goal is about
reals; ``nia``) and two variants that leave the cases open for the search (all of them, or those
``lia`` does not close).
Variables with fewer cases come first; two small ranges are also split together.
"""
from __future__ import annotations

import re
from itertools import combinations

from prover.env import Goal

from .hints import _conjuncts, intro_view, unwrap

MAX_CASES = 40  # 0 <= x < 31 and u < 40 are common in miniF2F number theory
_SIDE = r"(\(?\s*-?\s*\d+\s*\)?(?:%\w+)?|[A-Za-z_][\w']*)"
_CHAIN = re.compile(rf"^\s*{_SIDE}\s*(<=|<|>=|>)\s*{_SIDE}(?:\s*(<=|<)\s*{_SIDE})?\s*$")
_SCOPE = {"nat": "nat", "Z": "Z"}


def _int(side: str) -> int | None:
    t = re.sub(r"%\w+$", "", side.strip()).strip().strip("()").replace(" ", "")
    return int(t) if re.fullmatch(r"-?\d+", t) else None


def bounds(goal: Goal, max_cases: int = MAX_CASES) -> dict[str, tuple[str, int, int]]:
    """``name -> (type, lowest, highest)`` for the first goal's ``nat`` and ``Z`` variables
    that its facts bound by constants on both sides (a ``nat`` below by 0 by default), with 2 to
    ``max_cases`` values."""
    view = intro_view(goal)
    ints = {n: t for n, t in view.variables.items() if t in _SCOPE}
    lo: dict[str, int] = {n: 0 for n, t in ints.items() if t == "nat"}
    hi: dict[str, int] = {}

    def relate(a: str, rel: str, b: str):
        """Record ``a rel b`` (one link of a chain)."""
        if rel in (">", ">="):
            a, b, rel = b, a, "<" if rel == ">" else "<="
        strict = rel == "<"
        va, vb = _int(a), _int(b)
        if a in ints and vb is not None:      # x < c
            hi[a] = min(hi.get(a, vb), vb - strict)
        elif b in ints and va is not None:    # c < x
            lo[b] = max(lo.get(b, va), va + strict)

    for fact in view.facts:
        for c in _conjuncts(fact):
            m = _CHAIN.match(unwrap(c))
            if not m:
                continue
            a, r1, b, r2, d = m.groups()
            relate(a, r1, b)
            if r2:
                relate(b, r2, d)
    return {n: (ints[n], lo[n], hi[n]) for n in ints if n in lo and n in hi and 2 <= hi[n] - lo[n] + 1 <= max_cases}


def _fresh(goal: Goal, base: str = "Hc") -> str:
    """A hypothesis name neither the context nor the conclusion uses."""
    used = {n for h in goal.hyps for n in h.names} | set(re.findall(r"[A-Za-z_][\w']*", goal.conclusion))
    name, i = base, 0
    while name in used:
        name, i = f"{base}{i}", i + 1
    return name


def _split(name: str, x: str, typ: str, lo: int, hi: int) -> str:
    """``assert (name : x = lo \\/ ... \\/ x = hi) by lia; destruct name as [...]``."""
    values = list(range(lo, hi + 1))
    disj = " \\/ ".join(f"{x} = {v}" for v in values)
    pattern = name
    for _ in values[1:]:
        pattern = f"[{name}|{pattern}]"
    return f"assert ({name} : ({disj})%{_SCOPE[typ]}) by lia; destruct {name} as {pattern}"


def candidates(goal: Goal, limit: int = 24, max_cases: int = MAX_CASES) -> list[str]:
    """Case-split tactics for the first goal's bounded integer variables, at most ``limit``."""
    view = intro_view(goal)
    bs = bounds(goal, max_cases)
    if not bs:
        return []
    p = view.prefix
    order = sorted(bs, key=lambda n: bs[n][2] - bs[n][1])  # fewer cases first (stable: occurrence)
    text = " ".join([view.body] + view.facts)
    real = bool(re.search(r"\b(INR|IZR)\b", text)) or any(t == "R" for t in view.variables.values())
    first = ["lia", "simpl in *; lia"] + (["simpl in *; lra"] if real else [])
    then = ["nia"] + (["simpl in *; nra"] if real else []) + ["simpl in *; nia"]
    name = _fresh(goal)
    splits = {x: f"{p}{_split(name, x, *bs[x])}; subst {x}" for x in order}
    out = []
    for c in first:
        out += [f"{splits[x]}; {c}." for x in order]
    out += [f"{splits[x]}; try lia; try (simpl in *; lia)." for x in order]   # the rest left open
    out += [f"{splits[x]}." for x in order]
    for c in then:
        out += [f"{splits[x]}; {c}." for x in order]
    # two small ranges at once
    name2 = _fresh(goal, name + "_")
    for x, y in combinations(order, 2):
        if (bs[x][2] - bs[x][1] + 1) * (bs[y][2] - bs[y][1] + 1) <= max_cases:
            both = f"{p}{_split(name, x, *bs[x])}; {_split(name2, y, *bs[y])}; subst {x} {y}"
            out += [f"{both}; {c}." for c in first[:2]]
    return list(dict.fromkeys(out))[:limit]
