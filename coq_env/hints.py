"""Coq's nonlinear-arithmetic hints (the ``hints`` candidate source; see
``prover.policy.backend_source``).

Why: ``nra``/``nia`` multiply the hypotheses pairwise, but they do not invent the square that
closes an inequality: ``a * b <= (a ^ 2 + b ^ 2) / 2`` defeats ``nra`` and ``psatz R 4``, and falls
to ``pose proof (pow2_ge_0 (a - b)); nra.`` The published Lean proofs say the same with
``nlinarith [sq_nonneg (a - b), mul_pos ha hb]``. A model rarely spells such a hint right, so
this module writes them from the first goal: the atoms of its arithmetic (variables of type
``R``, ``Z``, ``nat`` and applied terms like ``sqrt x``), its constants and its positivity
facts, and proposes the facts ``nra``/``nia`` should start from, most promising first: one
square of a difference of two atoms, then all of them at once, squares of sums, products of
positive atoms, squares of an atom minus a constant of the goal, the facts of ``sqrt``,
``Rabs``, ``exp``, ``sin``, ``cos``.

The intros: a miniF2F statement keeps its binders and premises in the conclusion
(``forall a b : R, 0 < a -> ...``), so :func:`intro_view` reads them there, as ``intros`` will
introduce them, and every tactic then starts with ``intros;``. No tactic names a hypothesis
(the names ``intros`` picks are Coq's business): facts about hypotheses are proved by ``lra``
or ``lia`` inside ``assert ... by``. ``coq_env.cases`` shares the view.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import combinations

from prover.env import Goal

NUMBER_TYPES = ("R", "Z", "nat")
_IDENT = re.compile(r"[A-Za-z_][\w']*")
_NAME = re.compile(r"^[A-Za-z_][\w']*$")
_INT = re.compile(r"(?<![\w'.])\d+(?![\w'.])")
_OPEN, _CLOSE = "([{", ")]}"
# a relation or connective: a context entry whose type has one is a fact, not a variable
_FACT = re.compile(r"=|<|>|~|/\\|\\/|\bTrue\b|\bFalse\b|\bexists\b|\bforall\b")
# unary functions whose applications are atoms of the real arithmetic
FUNCTIONS = ("sqrt", "Rabs", "exp", "sin", "cos")
_KEYWORDS = {"forall", "exists", "fun", "let", "in", "match", "with", "end", "if", "then", "else"}


# -- reading the goal ------------------------------------------------------------------------

def top_level(text: str, token: str, start: int = 0) -> int:
    """The index of the first ``token`` at parenthesis depth 0 in ``text`` (from ``start``),
    -1 when there is none. ``->`` never matches inside ``<->``."""
    depth = 0
    for i in range(start, len(text)):
        ch = text[i]
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
        elif depth == 0 and text.startswith(token, i):
            if token == "->" and i > 0 and text[i - 1] == "<":
                continue
            return i
    return -1


def split_top(text: str, sep: str) -> list[str]:
    """``text`` cut at every ``sep`` at parenthesis depth 0."""
    parts, at = [], 0
    while True:
        i = top_level(text, sep, at)
        if i < 0:
            parts.append(text[at:].strip())
            return parts
        parts.append(text[at:i].strip())
        at = i + len(sep)


def _balanced(text: str, i: int) -> int:
    """The index after the group that opens at ``text[i]``."""
    depth = 0
    for j in range(i, len(text)):
        if text[j] in _OPEN:
            depth += 1
        elif text[j] in _CLOSE:
            depth -= 1
            if depth == 0:
                return j + 1
    return len(text)


def unwrap(text: str) -> str:
    """``text`` without enclosing parentheses and scope keys: ``(n < 5)%nat`` -> ``n < 5``."""
    t = text.strip()
    while True:
        t2 = re.sub(r"%\w+$", "", t).strip()
        if t2.startswith("(") and _balanced(t2, 0) == len(t2):
            t = t2[1:-1].strip()
        elif t2 != t:
            t = t2
        else:
            return t


def _binders(text: str) -> list[tuple[str, str | None]]:
    """The (name, type) of a ``forall`` binder list: ``x y : R`` or ``(x y : R) (n : nat)``."""
    text = text.strip()
    groups = []
    if text.startswith("("):
        i = 0
        while i < len(text):
            if text[i] == "(":
                j = _balanced(text, i)
                groups.append(text[i + 1:j - 1])
                i = j
            else:
                i += 1
    else:
        groups = [text]
    out = []
    for g in groups:
        names, _, typ = g.partition(":")
        t = " ".join(typ.split()) or None
        out += [(n, t) for n in names.split() if _NAME.match(n)]
    return out


@dataclass
class View:
    """The first goal as the arithmetic sees it after ``intros``: its variables (name -> type,
    context first, then the conclusion's binders), its facts (context facts, then the
    conclusion's premises), the body left to prove, and whether ``intros`` is needed."""

    variables: dict[str, str | None] = field(default_factory=dict)
    facts: list[str] = field(default_factory=list)
    body: str = ""
    intros: bool = False

    @property
    def prefix(self) -> str:
        return "intros; " if self.intros else ""

    def of_type(self, typ: str) -> list[str]:
        return [n for n, t in self.variables.items() if t == typ]


def intro_view(goal: Goal) -> View:
    v = View()
    for h in goal.hyps:
        if h.body is not None:
            continue
        t = " ".join(h.type.split())
        if _FACT.search(t.replace("<->", " ").replace("->", " ")):
            v.facts.append(t)
        else:
            v.variables.update((n, t) for n in h.names if _NAME.match(n))
    taken = {n for h in goal.hyps for n in h.names}
    c = " ".join(goal.conclusion.split())
    while True:
        if c.startswith("forall "):
            i = top_level(c, ",")
            if i < 0:
                break
            for n, t in _binders(c[len("forall "):i]):
                if n not in taken:  # a clash is renamed by intros: that name is not ours to use
                    v.variables[n] = t
                    taken.add(n)
            c, v.intros = c[i + 1:].strip(), True
            continue
        if c.split(" ", 1)[0] in _KEYWORDS:
            break
        j = top_level(c, "->")
        if j < 0:
            break
        v.facts.append(c[:j].strip())
        c, v.intros = c[j + 2:].strip(), True
    v.body = c
    return v


def _conjuncts(fact: str) -> list[str]:
    out = []
    for part in split_top(unwrap(fact), "/\\"):
        part = unwrap(part)
        out += _conjuncts(part) if top_level(part, "/\\") >= 0 else [part]
    return out


def atoms(view: View, typ: str) -> list[str]:
    """The atoms of type ``typ`` in order of first appearance (body first, then the facts):
    the variables of that type and, for ``R``, applications of :data:`FUNCTIONS` to a
    variable, a number or a parenthesised term over the goal's variables."""
    names = set(view.of_type(typ))
    seen: dict[str, None] = {}
    for text in [view.body] + view.facts:
        i = 0
        for m in _IDENT.finditer(text):
            if m.start() < i:
                continue
            w = m.group()
            if typ == "R" and w in FUNCTIONS:
                rest = text[m.end():]
                arg = rest.lstrip()
                at = m.end() + len(rest) - len(arg)
                if arg.startswith("("):
                    end = _balanced(text, at)
                    a = text[at:end]
                    if all(x in view.variables or x in FUNCTIONS for x in _IDENT.findall(a)):
                        seen.setdefault(f"{w} {' '.join(a.split())}")
                    i = end
                    continue
                m2 = re.match(r"[A-Za-z_][\w']*|\d+", arg)
                if m2 and (m2.group() in view.variables or m2.group().isdigit()):
                    seen.setdefault(f"{w} {m2.group()}")
                    i = at + m2.end()
                continue
            if w in names:
                seen.setdefault(w)
    return list(seen)


def constants(view: View, limit: int = 4) -> list[str]:
    """The positive integer literals of the body and the facts (0 and huge ones left out),
    in order of appearance, with 1 at the end when absent."""
    out: dict[str, None] = {}
    for text in [view.body] + view.facts:
        for m in _INT.finditer(text):
            n = m.group()
            if n != "0" and len(n) <= 4:
                out.setdefault(str(int(n)))
    cs = list(out)[:limit]
    return cs if "1" in cs else cs + ["1"]


def signs(view: View, terms: list[str]) -> tuple[list[str], list[str]]:
    """(positive, nonnegative) terms among ``terms``, as the facts state them
    (``0 < a``, ``a > 0``, ``0 <= a``, ``a >= 0``, inside conjunctions too)."""
    pos, nonneg = [], []
    for fact in view.facts:
        for c in _conjuncts(fact):
            below = re.fullmatch(r"0\s*(<=|<)\s*(.+?)(?:\s*<=?\s*[^<]+)?", c)  # 0 < t, 0 < t <= 1
            above = re.fullmatch(r"(.+?)\s*(>=|>)\s*0", c)                     # t > 0
            if below:
                rel, t = below.groups()
            elif above:
                t, rel = above.groups()
            else:
                continue
            t = unwrap(t)
            if t in terms:
                (pos if rel in ("<", ">") else nonneg).append(t)
    pos = list(dict.fromkeys(pos))
    return pos, [t for t in dict.fromkeys(nonneg) if t not in pos]


_OPERAND = r"(?:[A-Za-z_][\w']*|\d+|[()])"


def nonlinear(view: View) -> bool:
    """Whether the arithmetic is nonlinear: a product of two non-constants, a division by a
    non-constant, a power of a non-constant, or a real function atom."""
    text = " ".join([view.body] + view.facts)
    if re.search(r"\b(" + "|".join(FUNCTIONS) + r")\b", text):
        return True
    for m in re.finditer(r"(" + _OPERAND + r")\s*([*/^])(?=\s*(" + _OPERAND + r"))", text):
        left, op, right = m.groups()
        var_left = left == ")" or not (left.isdigit() or left == "(")
        var_right = right == "(" or not (right.isdigit() or right == ")")
        if (op == "*" and var_left and var_right) or (op == "/" and var_right) or (op == "^" and var_left):
            return True
    return False


# -- the hints ------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Kind:
    square: str      # lemma: 0 <= t ^ 2 or 0 <= t * t
    pos: str         # lemma: 0 < x -> 0 < y -> 0 < x * y
    nonneg: str      # lemma: 0 <= x -> 0 <= y -> 0 <= x * y ("" for nat: always true)
    scope: str       # scope key of a stated fact
    linear: str      # proves a linear side condition
    closer: str      # the nonlinear closer
    cast: str = "{}"  # how an atom enters the square lemma


_KINDS = {
    "R": _Kind("pow2_ge_0", "Rmult_lt_0_compat", "Rmult_le_pos", "R", "lra", "nra"),
    "Z": _Kind("Z.square_nonneg", "Z.mul_pos_pos", "Z.mul_nonneg_nonneg", "Z", "lia", "nia"),
    # nat: squares over Z (nia reasons over Z.of_nat of each nat, so the square meets it there),
    # spelled without Z's notations and short names, which a nat problem need not import (the
    # prelude's Lia loads BinInt, ZArith's Import is the problem's choice)
    "nat": _Kind("BinInt.Z.square_nonneg", "Nat.mul_pos_pos", "", "nat", "lia", "nia",
                 cast="BinInt.Z.of_nat {}"),
}

# the facts of an atom ``f x`` of the real functions (``a`` is the atom, ``x`` its argument)
_FUNCTION_FACTS = {
    "sqrt": ("pose proof (sqrt_pos {x})", "assert (({a} * {a} = {x})%R) by (apply sqrt_sqrt; nra)"),
    "Rabs": ("pose proof (Rabs_pos {x})", "pose proof (pow2_abs {x})"),
    "exp": ("pose proof (exp_pos {x})",),
    "sin": ("pose proof (SIN_bound {x})", "pose proof (sin2_cos2 {x}); unfold Rsqr in *"),
    "cos": ("pose proof (COS_bound {x})", "pose proof (sin2_cos2 {x}); unfold Rsqr in *"),
}


def _wrap(t: str) -> str:
    return t if _NAME.match(t) or t.isdigit() else f"({t})"


def _hints_of(view: View, typ: str) -> list[str]:
    """The hint tactics for the atoms of type ``typ``, most promising first."""
    k = _KINDS[typ]
    xs = atoms(view, typ)
    if not xs:
        return []
    p = view.prefix

    def sq(t: str) -> str:
        return f"pose proof ({k.square} ({t}))" if not _NAME.match(t) else f"pose proof ({k.square} {t})"

    def term(a: str) -> str:
        return k.cast.format(_wrap(a))

    def minus(a: str, b: str) -> str:
        return f"BinInt.Z.sub ({term(a)}) ({term(b)})" if typ == "nat" else f"{term(a)} - {term(b)}"

    def diff(a, b):
        return sq(minus(a, b))

    def plus(a, b):
        return sq(f"BinInt.Z.add ({term(a)}) ({term(b)})" if typ == "nat" else f"{term(a)} + {term(b)}")

    def run(*facts, closer=k.closer) -> str:
        return p + "; ".join(list(facts) + [closer]) + "."

    pairs = list(combinations(xs[:5], 2))
    out = [run(diff(a, b)) for a, b in pairs]
    if len(pairs) > 1:
        out.append(run(*(diff(a, b) for a, b in pairs[:6])))
    out += [run(plus(a, b)) for a, b in pairs]
    out += [run(diff(a, b), plus(a, b)) for a, b in pairs[:3]]
    # products of atoms the facts say are positive (and the squares with them)
    pos, nonneg = signs(view, xs)
    prods = []
    if typ != "nat":
        for a, b in combinations(pos, 2):
            prods.append(f"assert ((0 < {_wrap(a)} * {_wrap(b)})%{k.scope}) by (apply {k.pos}; {k.linear})")
        for a, b in combinations(pos + nonneg, 2):
            if a in nonneg or b in nonneg:
                prods.append(f"assert ((0 <= {_wrap(a)} * {_wrap(b)})%{k.scope}) by (apply {k.nonneg}; {k.linear})")
    else:
        for a, b in combinations(pos, 2):
            prods.append(f"assert ((0 < {_wrap(a)} * {_wrap(b)})%nat) by (apply {k.pos}; {k.linear})")
    out += [run(f) for f in prods[:3]]
    if pairs and prods:
        out.append(run(diff(*pairs[0]), prods[0]))
        out.append(run(*(diff(a, b) for a, b in pairs[:6]), *prods[:3]))
    if len(pos) >= 3 and typ == "R":
        a, b, c = (_wrap(t) for t in pos[:3])
        out.append(run(f"assert ((0 < {a} * {b})%R) by (apply Rmult_lt_0_compat; lra)",
                       f"assert ((0 < {a} * {b} * {c})%R) by (apply Rmult_lt_0_compat; lra)",
                       *(diff(x, y) for x, y in pairs[:3])))
    # an atom minus a constant of the goal (a square whose zero is where equality holds)
    cs = constants(view)
    names = [x for x in xs if _NAME.match(x)] or xs
    out += [run(sq(minus(a, c))) for a in names[:3] for c in cs]
    if len(names) >= 2:
        out.append(run(*(sq(minus(a, cs[0])) for a in names[:4])))
    # the facts of the real functions
    if typ == "R":
        for a in xs:
            f, _, x = a.partition(" ")
            if f in _FUNCTION_FACTS:
                facts = [t.format(a=_wrap(a), x=x) for t in _FUNCTION_FACTS[f]]
                out.append(run(*facts))
                out += [run(t) for t in facts]
                others = [y for y in names if y != x][:1]
                if others:
                    out.append(run(*facts, diff(a, others[0])))
    # the semidefinite closer on the strongest hint sets
    if typ == "R" and pairs:
        out.append(run(diff(*pairs[0]), closer="psatz R 3"))
        if len(pairs) > 1:
            out.append(run(*(diff(a, b) for a, b in pairs[:6]), closer="psatz R 3"))
    return out


def candidates(goal: Goal, limit: int = 48) -> list[str]:
    """Hint tactics for ``goal`` (``nra``/``nia`` behind facts to start from), most promising
    first, at most ``limit``; none when its arithmetic is linear or has no atoms."""
    view = intro_view(goal)
    if view.body.startswith(("exists", "fun")) or not nonlinear(view):
        return []
    per_type = [_hints_of(view, t) for t in NUMBER_TYPES]
    out: list[str] = []
    # the types interleaved: a goal over R and nat gets the best hints of both first
    for i in range(max(map(len, per_type))):
        out += [h[i] for h in per_type if i < len(h)]
    return list(dict.fromkeys(out))[:limit]
