"""Coq's instances source (``prover.policy.instances``): the goal's own universal hypotheses
used at the goal's own terms.

Why: competition statements define their functions and sequences by hypotheses
(``forall x, f x = a * x ^ 4 - b * x ^ 2 + x + 5``, ``forall n, a (S (S n)) - a (S n) = a (S n) -
a n``) and ask for a value. ``lra`` cannot see through a ``forall``: the definition has to be
rewritten where ``f`` is applied, or the recurrence specialised at the indices the goal names.
The published Lean proofs do this with ``simp only [h₀]``, ``rw [h₀]`` and hints like
``nlinarith [h 2, h 3]``; the menu cannot spell them (they name the goal's hypotheses and terms)
and the witnesses source only rewrites hypotheses without binders. This module proposes, most
promising first, each followed by the closing automation of the conclusion's arithmetic:

  * definitions: a hypothesis ``forall xs, [premises ->] f xs = e`` whose left side applies a
    function variable of the goal is rewritten everywhere (``repeat rewrite H in *``); when it
    has premises (``x <> -2 -> f x = 1 / (x + 2)``), at each application of ``f`` to closed
    arguments, innermost first (``rewrite (H 1) by lra; repeat rewrite H by lra``), the side
    conditions left to ``lra``/``lia``;
  * instances: a hypothesis ``forall n, P n`` with one binder (a recurrence, a property)
    specialised, over ``nat``, at every index from 0 to the largest the goal applies its
    functions at (``pose proof (H 0%nat); pose proof (H 1%nat); ...``), over ``Z`` and ``R`` at
    the numerals the goal names, then ``simpl in *`` (which unfolds ``sum_f_R0`` over a constant
    range and computes ``INR 3``) before the automation;
  * the library's ``gcd`` facts at the goal's own ``gcd`` applications: it divides both
    arguments (quotients named), the goal's value of it rewritten in, ``Nat.lcm`` unfolded, so
    that ``gcd n 40 = 10 -> lcm n 40 = 280 -> n = 70`` is linear arithmetic.

The hypotheses' names are Coq's after ``intros`` (as ``coq_env.witnesses`` reads them: binders
keep theirs, premises are ``H``, ``H0``...), and every tactic then starts with ``intros;``.

Invariants: ``candidates`` never raises for a goal (a shape it does not read gives fewer
candidates), is deterministic, has no duplicates and at most ``limit`` tactics, each of which
passes the cheat filter.
"""
from __future__ import annotations

import itertools
import re

from prover.env import Goal

from .cheat import allowed
from .witnesses import (_ARROW, _EQ, _IDENT, _View, _depths, _is_type, _quantified, _real, _scope,
                        _split_top, _unparen)

MAX_INSTANCES = 12   # specialisations of one hypothesis in one tactic
MAX_NUMERAL = 30     # numerals above this are not indices worth specialising at
_NUMERAL = re.compile(r"(?<![\w'.])\d+(?![\w'.])")


def _args(text: str, start: int, n: int) -> tuple[list[str], int] | None:
    """The ``n`` atomic arguments (identifier, numeral or bracketed group) that follow
    ``text[start:]``, and where they end; None when fewer follow."""
    out, i = [], start
    d = _depths(text)
    if d is None:
        return None
    for _ in range(n):
        while i < len(text) and text[i] == " ":
            i += 1
        if i >= len(text):
            return None
        if text[i] == "(":
            j = i + 1
            while j < len(text) and not (text[j] == ")" and d[j] == d[i] + 1):
                j += 1
            if j >= len(text):
                return None
            out.append(text[i:j + 1])
            i = j + 1
            if i < len(text) and text[i] == "%":  # a scope key after the group
                m = re.match(r"%\w+", text[i:])
                out[-1] += m.group(0)
                i += m.end()
        else:
            m = re.match(r"[\w'.%]+", text[i:])
            if not m or m.group(0) in ("=", "+", "-", "*", "/"):
                return None
            out.append(m.group(0))
            i += m.end()
    return out, i


def _applications(text: str, f: str, arity: int, closed: bool = True) -> list[str]:
    """The arguments of the applications ``f a1 .. an`` in ``text``; with ``closed``, only those
    that mention no variable (numerals, arithmetic of numerals, other applications of ``f`` to
    them), innermost first (an application inside another's argument comes first)."""
    found = []
    for m in re.finditer(rf"(?<![\w'.]){re.escape(f)}(?![\w'])", text):
        got = _args(text, m.end(), arity)
        if got is None:
            continue
        args, _ = got
        if not closed or all(not (set(_IDENT.findall(_scope(a))) - {f}) for a in args):
            found.append((sum(a.count(f) for a in args), " ".join(args)))
    found.sort(key=lambda x: x[0])   # stable: fewer nested applications of f first
    return list(dict.fromkeys(a for _, a in found))


def _definition(view: _View, t: str) -> tuple[str, int, bool, bool] | None:
    """``(f, arity, has premises, recursive)`` when ``t`` is ``forall xs, [P ->] f xs = e``
    with ``f`` a function variable of the goal applied to exactly the binders."""
    q = _quantified(t, "forall")
    if q is None:
        return None
    binders, body = q
    parts = _split_top(body, _ARROW)
    concl = parts[-1]
    sides = _split_top(concl, _EQ)
    if len(sides) != 2:
        return None
    lhs, rhs = (_unparen(s) for s in sides)
    words = lhs.split()
    if not words or words[0] not in view.functions:
        return None
    got = _args(lhs, len(words[0]), len(binders))
    if got is None or got[1] != len(lhs):
        return None
    f = words[0]
    return f, len(binders), len(parts) > 1, re.search(rf"(?<![\w'.]){re.escape(f)}(?![\w'])", rhs) is not None


def _is_real(view: _View) -> bool:
    """Whether the conclusion is real arithmetic: by its own text, or through a function of the
    goal whose values are reals (``f 3 = 8`` with ``f : R -> R``)."""
    if _real(view.conclusion, view):
        return True
    reals = {f for f, t in view.function_types.items() if re.search(r"(?:^|->)\s*R\s*$", t)}
    return any(w in reals for w in _IDENT.findall(view.conclusion))


def _closers(view: _View) -> list[str]:
    if _is_real(view):
        return ["lra", "field", "nra", "simpl in *; lra", "(field; lra)"]
    return ["lia", "nia", "simpl in *; lia", "simpl in *; nia"]


def _definitions(view: _View) -> list[str]:
    out = []
    closers = _closers(view)
    side = closers[0]
    text = " ".join([t for _, t in view.facts] + [view.conclusion])
    for name, t in view.facts:
        d = _definition(view, t)
        if d is None:
            continue
        f, arity, premises, recursive = d
        if not premises and not recursive:
            out += [f"repeat rewrite {name} in *; {c}." for c in closers]
            out.append(f"repeat rewrite {name} in *.")
        if premises:
            out += [f"repeat rewrite {name} by {side}; {c}." for c in closers[:3]]
        for args in _applications(text, f, arity)[:4]:
            inst = f"({name} {args})"
            if premises and re.search(rf"(?<![\w'.]){re.escape(f)}(?![\w'])", args):
                continue  # its side condition is about an application not rewritten yet
            if premises:
                where = "" if f"{f} {args}" in view.conclusion else " in *"  # an application only a hypothesis has
                out += [f"rewrite {inst}{where} by {side}; repeat rewrite {name} by {side}; {c}." for c in closers[:3]]
            else:
                out += [f"rewrite {inst} in *; {c}." for c in closers[:2]]
    return out


def _indices(view: _View, name: str, body: str) -> list[int]:
    """The numerals worth specialising hypothesis ``name`` at: the closed numeric arguments of
    the functions its body applies, where the rest of the goal applies them; else every small
    numeral of the rest of the goal."""
    others = " ".join(u for (n, u) in view.facts if n != name) + " " + view.conclusion
    applied = [f for f in view.functions if re.search(rf"(?<![\w'.]){re.escape(f)}(?![\w'])", body)]
    args = [int(a) for f in applied for a in (_scope(x).strip("() ") for x in _applications(others, f, 1))
            if re.fullmatch(r"\d+", a)]
    nums = args or [int(x) for x in _NUMERAL.findall(_scope(others))]
    return [n for n in nums if n <= MAX_NUMERAL]


def _instances(view: _View) -> list[str]:
    out = []
    close, nonlin = ("lra", "nra") if _is_real(view) else ("lia", "nia")
    for name, t in view.facts:
        q = _quantified(t, "forall")
        if q is None or len(q[0]) != 1:
            continue
        (var, ty), body = q[0][0], q[1]
        if ty not in (None, "nat", "Z", "R"):
            continue
        nums = _indices(view, name, body)
        if not nums:
            continue
        top = max(nums)
        key = {"nat": "%nat", "Z": "%Z", "R": "%R"}.get(ty, "")
        values = list(range(0, top + 1))[:MAX_INSTANCES] if ty in (None, "nat") else sorted(set(nums))[:MAX_INSTANCES]
        poses = "; ".join(f"pose proof ({name} {v}{key})" for v in values)
        out += [f"{poses}; simpl in *; {close}.", f"{poses}; {close}.", f"{poses}; {nonlin}.",
                f"{poses}; simpl in *; {nonlin}.", f"{poses}."]
    return out


_GCD = {"Nat.gcd": "PeanoNat.Nat", "Z.gcd": "BinInt.Z"}


def _gcds(view: _View) -> list[str]:
    """``gcd a b`` divides ``a`` and ``b``, with the quotients named, the ``gcd`` fact of the
    goal rewritten into them and ``Nat.lcm`` unfolded (``a * (b / gcd a b)``): ``lcm n 40 = 280``
    and ``gcd n 40 = 10`` become linear facts about ``n``."""
    out = []
    text = " ".join([t for _, t in view.facts] + [view.conclusion])
    closers = ["lia", "nia", "simpl in *; lia"]
    for fn, module in _GCD.items():
        for args in _applications(text, fn, 2, closed=False)[:2]:
            app = f"{fn} {args}"
            given = [n for n, t in view.facts if re.fullmatch(rf"\(?{re.escape(app)}\)?(?:%\w+)?\s*=\s*\S+", t)]
            k1, k2 = _fresh_names(view, "k", 2)
            h1, h2 = _fresh_names(view, "Hk", 2)
            facts = (f"pose proof ({module}.gcd_divide_l {args}) as [{k1} {h1}]; "
                     f"pose proof ({module}.gcd_divide_r {args}) as [{k2} {h2}]")
            unfold = "unfold Nat.lcm in *; " if fn == "Nat.gcd" and "Nat.lcm" in text else ""
            for g in given[:1] or [None]:
                base = unfold + facts + (f"; rewrite {g} in *" if g else "")
                out += [f"{base}; {c}." for c in closers] + [f"{base}."]
    return out


def _fresh_names(view: _View, base: str, n: int) -> list[str]:
    names, i = [], 1
    while len(names) < n:
        if f"{base}{i}" not in view.taken:
            names.append(f"{base}{i}")
        i += 1
    return names


def candidates(goal: Goal, limit: int = 32) -> list[str]:
    """The instances source's tactics for ``goal``, most promising first (at most ``limit``)."""
    try:
        view = _View(goal)
        view.function_types = {n: t for n, t in view.hyps if "->" in t and _is_type(t)}
        view.functions = set(view.function_types)
        families = [_definitions(view), _instances(view), _gcds(view)]
    except (ValueError, IndexError, KeyError, TypeError, AttributeError, RecursionError, re.error):
        return []
    merged = [t for group in itertools.zip_longest(*families) for t in group if t is not None]
    return allowed((view.prefix + t for t in merged), limit)
