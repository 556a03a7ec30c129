"""Coq's witnesses source (``prover.policy.witnesses``): instantiated tactics for the first goal.

Why: the menu closes goals with automation and the templates name hypotheses, but neither
can spell a term. An existential conclusion needs its witness (``exists 7; lia`` for
``exists n : nat, n * n = 49``: no automation finds the 7), a case split needs the right
decision lemma and its arguments (``destruct (Z.leb_spec0 a 3)`` for ``if a <=? 3 then ..``),
a destructed existential hypothesis reads better with named parts. This module reads the
goal's text (regexes and a small arithmetic evaluator, no Coq call) and proposes, most
promising first:

  * witnesses: values that make an existential's body true, found by evaluating the body over
    small numbers (``exists 3; lia``), then numerals, variables and terms of the goal, then
    small constants, each bare and followed by the automation of its type;
  * values that the linear equations among the hypotheses determine (``assert (x = 6) by lra``),
    and a hypothesis equation ``x = e`` substituted into another hypothesis;
  * case analysis the templates do not offer: named ``destruct H as [x Hx]`` / ``[H1|H2]`` of
    existential and disjunctive hypotheses, the reflection lemmas and ``destruct .. eqn:E``
    of every ``if`` / ``match`` scrutinee, decision lemmas over the atoms of comparisons,
    ``induction n; simpl; lia``-style closers.

A conclusion that is a product (``forall x, A -> ...``, the miniF2F statements at the root)
is read as it stands after ``intros`` (Coq's names: binders keep theirs, premises are ``H``,
``H0``...), and every tactic then starts with ``intros;``.

Invariants: ``candidates`` never raises for a goal (a shape the parser does not understand
gives fewer candidates), is deterministic, has no duplicates and at most ``limit`` tactics,
each of which passes the cheat filter (``coq_env.cheat.check_tactic``).
"""
from __future__ import annotations

import ast
import itertools
import math
import re
from fractions import Fraction

from prover.env import Goal

from .cheat import allowed

_IDENT = re.compile(r"[A-Za-z_][\w']*")
_NUM = re.compile(r"\d+")
_ATOM = re.compile(r"[A-Za-z_][\w']*|\d+")
_NUMBER_TYPES = ("nat", "Z", "R")
_VAR_TYPES = {"nat", "Z", "R", "bool", "Q", "N", "positive"}
# a binder or a construct whose body runs to the end of the text: no top-level split after it
_BINDER = re.compile(r"(?<![\w'.])(?:forall|exists|fun|let|if|match)(?![\w'])")
_ARROW = r"(?<![<-])->"
_EQ = r"(?<![<>:=])=(?![>=?])"
_REL = r"<=|>=|<>|<(?![=>-])|(?<![-=<])>(?!=)|" + _EQ
_CONNECTIVE = r"/\\|\\/|<->|" + _ARROW
_APP = re.compile(r"[A-Za-z_][\w'.]*(?:\s+(?:[\w']+|\([^()]*\)))+")
_SPEC_OP = re.compile(r"<=\?|<\?|(?<![<>])=\?")
_KEYWORDS = {"forall", "exists", "fun", "let", "in", "if", "then", "else", "match", "with", "end",
             "as", "return", "mod", "True", "False", "true", "false", "Type", "Prop", "Set"}


# -- the text of a goal -----------------------------------------------------------------

def _clean(t: str) -> str:
    return " ".join(t.split())


def _depths(text: str) -> list[int] | None:
    """The bracket depth before each character; None when the brackets do not balance."""
    out, d = [], 0
    for ch in text:
        out.append(d)
        if ch in "([{":
            d += 1
        elif ch in ")]}":
            d -= 1
            if d < 0:
                return None
    return out if d == 0 else None


def _split_top(text: str, pattern: str) -> list[str]:
    """``text`` split at the occurrences of ``pattern`` outside brackets and before any binder
    (whose body runs to the end); unbalanced text is not split."""
    d = _depths(text)
    if d is None:
        return [text.strip()]
    stop = next((m.start() for m in _BINDER.finditer(text) if d[m.start()] == 0), len(text))
    parts, start = [], 0
    for m in re.finditer(pattern, text[:stop]):
        if d[m.start()] == 0 and m.start() >= start:
            parts.append(text[start:m.start()])
            start = m.end()
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _unparen(t: str) -> str:
    """``t`` without brackets that enclose all of it (and a scope key after them)."""
    t = t.strip()
    while True:
        m = re.fullmatch(r"\((.*)\)(?:%\w+)?", t, re.S)
        if not m:
            return t
        d = _depths(m.group(1))
        if d is None:
            return t
        t = m.group(1).strip()


def _scope(t: str) -> str:
    """``t`` without scope keys (``%Z``, ``%nat``...)."""
    return re.sub(r"%\w+", "", t)


def _first_top(text: str, ch: str) -> int:
    d = _depths(text) or []
    return next((i for i, c in enumerate(text) if c == ch and i < len(d) and d[i] == 0), -1)


def _binders(head: str) -> list[tuple[str, str | None]] | None:
    """``x y : T`` / ``(x : T) (y : U)`` / ``x`` as (name, type or None); None when unreadable."""
    head = head.strip()
    if not head:
        return None
    if head.startswith("("):
        out, d = [], _depths(head)
        if d is None:
            return None
        groups, start = [], None
        for i, c in enumerate(head):
            if c == "(" and d[i] == 0:
                start = i
            elif c == ")" and d[i] == 1:
                groups.append(head[start + 1:i])
            elif d[i] == 0 and not c.isspace() and c not in "()":
                return None
        for g in groups:
            sub = _binders(g)
            if sub is None:
                return None
            out += sub
        return out
    names, colon, ty = head.partition(":")
    if ty.startswith("=") or not names.split():
        return None
    if not all(_IDENT.fullmatch(n) for n in names.split()):
        return None
    t = _clean(ty) if colon else None
    return [(n, t) for n in names.split()]


def _quantified(text: str, word: str) -> tuple[list[tuple[str, str | None]], str] | None:
    """(binders, body) of ``word binders, body`` (nested ``exists`` merged), or None."""
    text = text.strip()
    m = re.match(word + r"(?![\w'!])\s*", text)
    if not m:
        return None
    rest = text[m.end():]
    comma = _first_top(rest, ",")
    if comma < 0:
        return None
    bs = _binders(rest[:comma])
    if bs is None:
        return None
    body = rest[comma + 1:].strip()
    inner = _quantified(body, word) if word == "exists" else None
    if inner:
        return bs + inner[0], inner[1]
    return bs, body


def _fresh(name: str, taken) -> str:
    """Coq's choice of a fresh name: ``H``, ``H0``, ``H1``...; ``x1`` then ``x2``."""
    if name not in taken:
        return name
    m = re.fullmatch(r"(.*?)(\d*)", name)
    base, num = m.group(1), m.group(2)
    i = int(num) + 1 if num else 0
    while f"{base}{i}" in taken:
        i += 1
    return f"{base}{i}"


class _View:
    """The first goal as the candidates see it: (name, type) of its hypotheses (after
    ``intros`` when the conclusion is a product), let-bound names, the conclusion, and the
    prefix every tactic carries (``intros; `` or nothing)."""

    def __init__(self, goal: Goal):
        self.hyps: list[tuple[str, str]] = []
        self.taken: set[str] = set()
        for h in goal.hyps:
            for n in h.names:
                self.taken.add(n)
                if h.body is None and _IDENT.fullmatch(n):
                    self.hyps.append((n, _clean(h.type)))
        self.conclusion = _clean(goal.conclusion)
        self.prefix = ""
        self._intros()
        self.types = {n: t for n, t in self.hyps if t in _VAR_TYPES}
        self.facts = [(n, t) for n, t in self.hyps if n not in self.types and not _is_type(t)]
        self.text = " ".join([t for _, t in self.hyps] + [self.conclusion])

    def _intros(self) -> None:
        c, hyps, taken, changed = self.conclusion, [], set(self.taken), False
        for _ in range(64):
            q = _quantified(c, "forall")
            if q is not None:
                bs, body = q
                if any(t is None for _, t in bs):
                    break
                for n, t in bs:
                    new = _fresh(n, taken)
                    if new != n:
                        body = re.sub(rf"(?<![\w'.]){re.escape(n)}(?![\w'])", new, body)
                    taken.add(new)
                    hyps.append((new, t))
                c, changed = body, True
                continue
            parts = _split_top(c, _ARROW)
            if len(parts) < 2:
                break
            name = _fresh("H", taken)
            taken.add(name)
            hyps.append((name, _unparen(parts[0])))
            c, changed = " -> ".join(parts[1:]), True
        if changed:
            self.hyps += hyps
            self.taken = taken
            self.conclusion = c
            self.prefix = "intros; "

    def arith(self) -> tuple[str, str]:
        """The closing automation of the conclusion's arithmetic: real or integer."""
        return ("lra", "nra") if _real(self.conclusion, self) else ("lia", "nia")


def view_of(goal: Goal) -> "_View | None":
    """The first goal as the candidate modules read it, None when its text defeats the reader."""
    try:
        return _View(goal)
    except (ValueError, IndexError, KeyError, TypeError, RecursionError, re.error):
        return None


def _real(text: str, view: "_View") -> bool:
    """Whether ``text`` is (partly) real arithmetic."""
    return "%R" in text or any(view.types.get(w) == "R" for w in _IDENT.findall(text)) or \
        re.search(r"(?<![\w'.])(?:INR|IZR|Rabs|sqrt|Rpower|ln|exp|PI|sin|cos|Rsqr)(?![\w'])", text) is not None


def _is_type(t: str) -> bool:
    """A hypothesis that declares a variable (``R -> R``, ``nat -> Z``, ``list nat``)."""
    return re.fullmatch(r"[\w.' ]+(?:\s*->\s*[\w.' ]+)*", t) is not None and \
        not re.search(r"\b(?:True|False)\b", t)


# -- a small evaluator of Coq arithmetic --------------------------------------------------

class _Unsupported(Exception):
    """The text is not arithmetic this evaluator reads, or a value is out of its range."""


_TOKEN = re.compile(r"\s*(?:(\d+)|([A-Za-z_][\w']*)|(/\\|\\/|<>|<=|>=|[-+*/^()<>=~]))")
_PY_OP = {"/\\": " and ", "\\/": " or ", "<>": "!=", "=": "==", "^": "**", "~": " not "}
_BIG = 10 ** 40


def _python(text: str, names) -> str:
    """The Python spelling of a Coq arithmetic formula over ``names``; _Unsupported otherwise."""
    text, pos, out = _scope(text).strip(), 0, []
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise _Unsupported(text[pos:pos + 20])
        pos = m.end()
        num, word, op = m.groups()
        if num:
            out.append(num)
        elif word:
            if word == "mod":
                out.append("%")
            elif word in names:
                out.append("v_" + word.replace("'", "_q"))
            else:
                raise _Unsupported(word)
        else:
            out.append(_PY_OP.get(op, op))
    return " ".join(out)


def _check(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, Fraction)) and abs(v) > _BIG:
        raise _Unsupported("too large")
    if isinstance(v, Fraction) and v.denominator > _BIG:
        raise _Unsupported("too large")
    return v


def _pow(a, b):
    if isinstance(b, Fraction):
        if b.denominator != 1:
            raise _Unsupported("fractional power")
        b = int(b)
    if isinstance(b, bool) or not isinstance(b, int) or b < 0 or b > 400:
        raise _Unsupported("power")
    if a not in (0, 1, -1) and b * math.log2(abs(a) + 1) > 140:
        raise _Unsupported("too large")
    return a ** b


def _int_div(a, b):
    return 0 if b == 0 else a // b


def _int_mod(a, b):
    if b == 0:
        raise _Unsupported("mod 0")
    return a % b


def _real_div(a, b):
    if b == 0:
        raise _Unsupported("division by zero")
    return Fraction(a) / b


_OPS = {
    "nat": {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: max(0, a - b), ast.Mult: lambda a, b: a * b,
            ast.Div: _int_div, ast.Mod: _int_mod, ast.Pow: _pow},
    "Z": {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
          ast.Div: _int_div, ast.Mod: _int_mod, ast.Pow: _pow},
    "R": {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
          ast.Div: _real_div, ast.Pow: _pow},
}
_CMP = {ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b, ast.Lt: lambda a, b: a < b,
        ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b}


def _compile(node, ops, const):
    """A function of an environment (Python name -> value) computing ``node``."""
    if isinstance(node, ast.Expression):
        return _compile(node.body, ops, const)
    if isinstance(node, ast.Constant) and type(node.value) is int:
        v = const(node.value)
        return lambda env: v
    if isinstance(node, ast.Name):
        k = node.id
        return lambda env: env[k]
    if isinstance(node, ast.BinOp) and type(node.op) in ops:
        f, a, b = ops[type(node.op)], _compile(node.left, ops, const), _compile(node.right, ops, const)
        return lambda env: _check(f(a(env), b(env)))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and "neg" in ops:
        a, f = _compile(node.operand, ops, const), ops["neg"]
        return lambda env: f(a(env))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        a = _compile(node.operand, ops, const)
        return lambda env: not a(env)
    if isinstance(node, ast.BoolOp):
        fs = [_compile(v, ops, const) for v in node.values]
        if isinstance(node.op, ast.And):
            return lambda env: all(f(env) for f in fs)
        return lambda env: any(f(env) for f in fs)
    if isinstance(node, ast.Compare) and all(type(o) in _CMP for o in node.ops):
        fs = [_compile(v, ops, const) for v in [node.left, *node.comparators]]
        cs = [_CMP[type(o)] for o in node.ops]
        return lambda env: all(c(fs[i](env), fs[i + 1](env)) for i, c in enumerate(cs))
    raise _Unsupported(type(node).__name__)


def _formula(text: str, ty: str, names):
    """The compiled formula ``text`` over ``names`` in type ``ty`` (nat, Z or R)."""
    tree = ast.parse(_python(text, names), mode="eval")
    ops = dict(_OPS[ty])
    if ty != "nat":
        ops["neg"] = lambda a: -a
    return _compile(tree, ops, Fraction if ty == "R" else int)


def _domain(ty: str, k: int):
    """Candidate values of ``k`` variables of type ``ty``, smallest first."""
    reach = {1: 200, 2: 30, 3: 10}.get(k, 4)
    if ty == "nat":
        ones = list(range(reach + 1))
    else:
        ones = [0] + [s * i for i in range(1, reach + 1) for s in (1, -1)]
        if ty == "R" and k == 1:
            ones += [Fraction(s * p, q) for q in (2, 3, 4) for p in range(1, 4 * q) if math.gcd(p, q) == 1
                     for s in (1, -1)]
    if k == 1:
        return ([v] for v in ones)
    order = sorted(itertools.product(range(len(ones)), repeat=k), key=lambda t: (max(t), t))
    return ([ones[i] for i in t] for t in order)


def _solutions(body: str, names: list[str], ty: str, known: dict, extra=(), most: int = 3) -> list[list] | None:
    """Values of ``names`` (all of type ``ty``) that make ``body`` true, smallest first (the
    ``extra`` values of a single name tried first); None when the evaluator cannot read ``body``."""
    py = {n: "v_" + n.replace("'", "_q") for n in list(names) + list(known)}
    try:
        f = _formula(body, ty, py)
    except (_Unsupported, SyntaxError, ValueError, RecursionError):
        return None
    num = Fraction if ty == "R" else int
    env = {py[n]: num(v) for n, v in known.items()}
    out = []
    tries = ([v] for v in extra) if len(names) == 1 else iter(())
    for vals in itertools.chain(tries, _domain(ty, len(names))):
        env.update({py[n]: num(v) for n, v in zip(names, vals)})
        try:
            ok = f(env) is True
        except (_Unsupported, ZeroDivisionError, OverflowError, TypeError, RecursionError):
            ok = False
        if ok and vals not in out:
            out.append(vals)
            if len(out) >= most:
                break
    return out


class _Lin:
    """A linear form: coefficients of variables plus a constant."""

    def __init__(self, coef=None, const=Fraction(0)):
        self.coef, self.const = {k: v for k, v in (coef or {}).items() if v}, Fraction(const)

    def scale(self, c):
        return _Lin({k: v * c for k, v in self.coef.items()}, self.const * c)

    def __add__(self, o):
        return _Lin({k: self.coef.get(k, 0) + o.coef.get(k, 0) for k in {**self.coef, **o.coef}},
                    self.const + o.const)

    def __sub__(self, o):
        return self + o.scale(-1)


def _lin_mul(a, b):
    if not a.coef:
        return b.scale(a.const)
    if not b.coef:
        return a.scale(b.const)
    raise _Unsupported("nonlinear")


def _lin_div(a, b):
    if b.coef or b.const == 0:
        raise _Unsupported("nonlinear")
    return a.scale(1 / b.const)


def _lin_pow(a, b):
    if a.coef or b.coef:
        raise _Unsupported("nonlinear")
    return _Lin(const=_pow(a.const, b.const))


def _linear(eq: str, ty: str, names) -> _Lin | None:
    """``lhs - rhs`` of the equation ``eq`` as a linear form over ``names``, or None."""
    try:
        tree = ast.parse(_python(eq, names), mode="eval").body
    except (_Unsupported, SyntaxError, ValueError, RecursionError):
        return None
    if not (isinstance(tree, ast.Compare) and len(tree.ops) == 1 and isinstance(tree.ops[0], ast.Eq)):
        return None
    ops = {ast.Add: lambda a, b: a + b, ast.Mult: _lin_mul, ast.Pow: _lin_pow, "neg": lambda a: a.scale(-1)}
    if ty != "nat":
        ops[ast.Sub] = lambda a, b: a - b
    if ty == "R":
        ops[ast.Div] = _lin_div
    try:
        lhs, rhs = (_compile(n, ops, lambda v: _Lin(const=v)) for n in (tree.left, tree.comparators[0]))
        env = {p: _Lin({p: Fraction(1)}) for p in names.values()}
        return lhs(env) - rhs(env)
    except (_Unsupported, ZeroDivisionError, OverflowError, TypeError, RecursionError):
        return None


def _solve_linear(forms: list[_Lin]) -> dict:
    """The variables a system of linear forms (each = 0) determines, with their values."""
    rows = [dict(f.coef, **{"": f.const}) for f in forms if f.coef]
    cols = sorted({k for r in rows for k in r if k})
    if not rows or len(cols) > 12:
        return {}
    rank = 0
    for c in cols:
        piv = next((i for i in range(rank, len(rows)) if rows[i].get(c, 0)), None)
        if piv is None:
            continue
        rows[rank], rows[piv] = rows[piv], rows[rank]
        p = rows[rank]
        inv = 1 / p[c]
        for k in list(p):
            p[k] = p[k] * inv
        for i, r in enumerate(rows):
            if i != rank and r.get(c, 0):
                f = r[c]
                for k in set(r) | set(p):
                    r[k] = r.get(k, 0) - f * p.get(k, 0)
        rank += 1
    out = {}
    for r in rows:
        nz = [k for k in r if k and r[k]]
        if not nz and r.get("", 0):
            return {}  # inconsistent
        if len(nz) == 1:
            out[nz[0]] = -r.get("", Fraction(0)) / r[nz[0]]
    return out


# -- spelling -------------------------------------------------------------------------------

def _key(ty: str | None, view: _View) -> str:
    """The scope key a numeral of type ``ty`` needs: none when the goal shows no sign that
    another number scope is open (no key of its own, no other number type)."""
    key = {"Z": "%Z", "R": "%R", "nat": "%nat"}.get(ty or "", "")
    if not key:
        return ""
    others = {t for t in view.types.values() if t in _NUMBER_TYPES} | \
        {t for t in _NUMBER_TYPES if f"%{t}" in view.text or f": {t}" in view.text}
    if ty != "R" and _real(view.text, view):
        others.add("R")
    return key if key in view.text or others - {ty} else ""


def _value(v, ty: str | None, view: _View) -> str:
    """A number as a Coq term of type ``ty``, with its scope key where it may need one."""
    key = _key(ty, view)
    v = Fraction(v)
    if v.denominator == 1:
        t = str(v.numerator)
        return f"({t}){key}" if v < 0 else f"{t}{key}"
    return f"({v.numerator}/{v.denominator}){key}"


def _closers(ty: str | None, body: str) -> list[str]:
    if ty == "R":
        return ["lra", "nra", "field"] if "/" in body else ["lra", "nra"]
    if ty in ("nat", "Z"):
        return ["lia", "nia", "reflexivity"]
    return ["reflexivity", "auto", "split; auto"] if "/\\" in body else ["reflexivity", "auto"]


def _words(t: str) -> list[str]:
    return [w for w in _IDENT.findall(t) if w not in _KEYWORDS]


def _mentions(text: str, name: str) -> bool:
    return re.search(rf"(?<![\w'.]){re.escape(name)}(?![\w'])", text) is not None


def _replace(text: str, name: str, by: str) -> str:
    return re.sub(rf"(?<![\w'.%]){re.escape(name)}(?![\w'])", lambda m: by, text)


def _known_values(view: _View) -> dict:
    """Per number type, the values the linear hypotheses determine (``{'Z': {'x': 3}}``)."""
    out = {}
    for ty in _NUMBER_TYPES:
        names = {n: "v_" + n.replace("'", "_q") for n, t in view.types.items() if t == ty}
        if not names:
            continue
        forms = [f for _, t in view.facts if len(_split_top(t, _EQ)) == 2
                 for f in [_linear(t, ty, names)] if f is not None]
        back = {p: n for n, p in names.items()}
        vals = {back[p]: v for p, v in _solve_linear(forms).items() if p in back}
        if ty != "R":
            vals = {n: int(v) for n, v in vals.items() if v.denominator == 1 and (ty == "Z" or v >= 0)}
        if vals:
            out[ty] = vals
    return out


# -- the families -------------------------------------------------------------------------

def _witnesses(view: _View, known: dict) -> tuple[list[str], list[str]]:
    """(sure, more): ``exists`` tactics whose values make the body true, and the others."""
    q = _quantified(view.conclusion, "exists")
    if q is None:
        return [], []
    bs, body = q
    if len(bs) > 3:
        return [], []
    names = [n for n, _ in bs]
    tys = [t for _, t in bs]
    ty = tys[0] if len(set(tys)) == 1 else None
    closers = _closers("R" if _real(body, view) else ty, body)
    sure, more = [], []
    body_nums = [int(n) for n in _NUM.findall(_scope(body))]
    if ty in _NUMBER_TYPES:
        given = {n: v for n, v in known.get(ty, {}).items() if n not in names}
        sols = _solutions(body, names, ty, given, extra=[v for v in body_nums if v > 10])
        for vals in sols or []:
            w = ", ".join(_value(v, ty, view) for v in vals)
            sure += [f"exists {w}; {c}." for c in closers[:2]] + [f"exists {w}."]
        if sols is not None:  # the evaluator read the whole body: other values are false
            return sure, []
    # the pool: numerals of the body, variables of the type, small constants, numerals and
    # simple terms of the hypotheses
    pool: list[str] = []
    hyp_nums = [int(n) for _, t in view.facts for n in _NUM.findall(_scope(t))]
    if ty in _NUMBER_TYPES:
        small = {"nat": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "Z": [0, 1, -1, 2, -2, 3, 4, 5, 10],
                 "R": [0, 1, -1, 2, Fraction(1, 2), 3]}[ty]
        pool += [_value(v, ty, view) for v in body_nums[:4]]
        pool += [n for n, t in view.types.items() if t == ty and n not in names][::-1]
        pool += [_value(v, ty, view) for v in small]
        pool += [_value(v, ty, view) for v in hyp_nums[:6]]
        for _, t in view.facts:
            for side in _split_top(t, _EQ) if len(_split_top(t, _EQ)) == 2 else []:
                ws = _words(side)
                if 3 < len(side) <= 24 and ws and all(view.types.get(w) == ty for w in ws) and \
                        not _IDENT.fullmatch(side):
                    pool.append(f"({_unparen(side)})")
    else:
        pool += [n for n, t in view.hyps if tys[0] is not None and t == tys[0] and n not in names][::-1]
        if all(t is None for t in tys):
            pool += [str(v) for v in body_nums[:3]] + ["1", "0"]
    pool = list(dict.fromkeys(pool))[:14]
    if len(names) == 1:
        tuples = [[w] for w in pool]
    else:
        top = pool[:3]
        tuples = [list(t) for t in sorted(itertools.product(range(len(top)), repeat=len(names)),
                                          key=lambda t: (sum(t), t))][:6]
        tuples = [[top[i] for i in t] for t in tuples]
    for ws in tuples:
        w = ", ".join(ws)
        more += [f"exists {w}; {closers[0]}.", f"exists {w}."]
    for ws in tuples[:3]:
        more += [f"exists {', '.join(ws)}; {c}." for c in closers[1:]]
    return sure, more


def _destructs(view: _View) -> list[str]:
    """Named destructs of existential and disjunctive hypotheses, bare then with a closer."""
    bare, closed = [], []
    taken = set(view.taken)
    arith = view.arith()
    for name, t in view.facts[::-1]:
        q = _quantified(t, "exists")
        if q is not None:
            bs, body = q
            vars_ = [_fresh(n, taken) for n, _ in bs]
            taken.update(vars_)
            h = _fresh("H" + vars_[-1], taken)
            taken.add(h)
            pat = h
            for v in reversed(vars_):
                pat = f"[{v} {pat}]"
            bare.append(f"destruct {name} as {pat}.")
            parts = _split_top(body, r"/\\")
            if len(parts) > 1:
                hs = [_fresh(f"{h}{i}", taken) for i in range(len(parts))]
                taken.update(hs)
                inner = hs[-1]
                for x in reversed(hs[:-1]):
                    inner = f"[{x} {inner}]"
                p2 = inner
                for v in reversed(vars_):
                    p2 = f"[{v} {p2}]"
                bare.append(f"destruct {name} as {p2}.")
            closed += [f"destruct {name} as {pat}; subst; {arith[0]}.", f"destruct {name} as {pat}; {arith[1]}."]
            continue
        parts = _split_top(t, r"\\/")
        if len(parts) > 1:
            hs = []
            for i in range(len(parts)):
                hs.append(_fresh(f"{name}{'abcdefgh'[i]}" if i < 8 else f"{name}x", taken))
                taken.add(hs[-1])
            pat = hs[-1]
            for x in reversed(hs[:-1]):
                pat = f"{x}|{pat}" if _IDENT.fullmatch(pat) else f"{x}|[{pat}]"
            pat = f"[{pat}]"
            bare.append(f"destruct {name} as {pat}.")
            closed += [f"destruct {name} as {pat}; {arith[0]}.", f"destruct {name} as {pat}; subst; {arith[0]}.",
                       f"destruct {name} as {pat}; {arith[1]}."]
    return bare + closed


def _bound_names(text: str) -> set[str]:
    out = set()
    for m in re.finditer(r"(?<![\w'.])(?:fun|forall|exists)\s+([^,]*?)(?:=>|,)", text):
        out.update(_IDENT.findall(m.group(1)))
    return out


def _scrutinees(text: str) -> list[str]:
    """The scrutinees of the ``if`` and ``match`` expressions of ``text``."""
    out = []
    for kw, stop in (("if", "then"), ("match", "with")):
        for m in re.finditer(rf"(?<![\w'.]){kw}(?![\w'])", text):
            depth, nest, i = 0, 0, m.end()
            pat = re.compile(rf"(?<![\w'.])({kw}|{stop})(?![\w'])")
            while i < len(text):
                ch = text[i]
                if ch in "([{":
                    depth += 1
                elif ch in ")]}":
                    depth -= 1
                    if depth < 0:
                        break
                elif depth == 0:
                    w = pat.match(text, i)
                    if w and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] in "_'.")):
                        if w.group(1) == kw:
                            nest += 1
                        elif nest:
                            nest -= 1
                        else:
                            e = text[m.end():i].strip()
                            if e and " as " not in e and " return " not in e and " in " not in e:
                                out.append(e)
                            break
                        i = w.end()
                        continue
                i += 1
    return out


def _spec(e: str, view: _View) -> list[str]:
    """The reflection lemmas that split on a boolean comparison ``e`` (``destruct (Z.leb_spec0 a b)``)."""
    inner = _unparen(e)
    scope = re.search(r"%(\w+)\s*$", e.strip())
    m = re.fullmatch(r"(Nat|Z)\.(eqb|leb|ltb)\s+(\S+)\s+(\S+)", inner)
    if m:
        kinds, op, a, b = [m.group(1)], {"eqb": "=?", "leb": "<=?", "ltb": "<?"}[m.group(2)], m.group(3), m.group(4)
    else:
        parts = _split_top(inner, _SPEC_OP.pattern)
        ops = _SPEC_OP.findall(inner)
        if len(parts) != 2 or len(ops) != 1:
            return []
        a, b = parts
        op = ops[0]
        if scope:
            kinds = {"nat": ["Nat"], "Z": ["Z"]}.get(scope.group(1), [])
        else:
            tys = [view.types.get(w) for w in _words(a + " " + b)]
            kinds = ["Z"] if "Z" in tys else ["Nat"] if "nat" in tys else ["Nat", "Z"]
    lemma = {"=?": "eqb_spec", "<=?": "leb_spec0", "<?": "ltb_spec0"}[op]
    # nat's lemmas by their full name: Lia loads PeanoNat, the problem may not import it
    return [f"destruct ({'PeanoNat.Nat' if k == 'Nat' else k}.{lemma} {_arg(a)} {_arg(b)})" for k in kinds]


def _arg(t: str) -> str:
    t = _unparen(t)
    return t if _ATOM.fullmatch(t) else f"({t})"


def _cases(view: _View) -> list[str]:
    """``if`` / ``match`` scrutinees: reflection lemmas, ``destruct .. eqn:E``, ``case_eq``."""
    out, late = [], []
    lia = view.arith()[0]
    bound = _bound_names(view.conclusion) | {w for _, t in view.facts for w in _bound_names(t)}
    texts = [view.conclusion] + [t for _, t in view.facts]
    eqn = _fresh("E", view.taken)
    for e in dict.fromkeys(s for t in texts for s in _scrutinees(t)):
        if any(w in bound for w in _words(e)):
            continue
        for s in _spec(e, view):
            out += [f"{s}; {lia}.", f"{s}.", f"{s}; simpl; {lia}."]
        arg = e if _IDENT.fullmatch(e) else f"({_unparen(e)})"
        out += [f"destruct {arg} eqn:{eqn}.", f"destruct {arg}; {lia}."]
        late += [f"destruct {arg}.", f"case_eq {arg}; intros."]
    return out + late


def _rewrites(view: _View) -> list[str]:
    """A hypothesis equation substituted into the hypotheses that mention its left side."""
    out, asserts = [], []
    for name, t in view.facts[::-1]:
        sides = _split_top(t, _EQ)
        if len(sides) != 2 or _BINDER.search(t):
            continue
        for arrow, (lhs, rhs) in (("", sides), ("<- ", sides[::-1])):
            lhs = _unparen(lhs)
            if _NUM.fullmatch(_scope(lhs)) or len(lhs) > 40 or not _words(lhs):
                continue
            var = _IDENT.fullmatch(lhs) is not None
            if not var and not _APP.fullmatch(lhs):
                continue
            if var and (lhs not in view.types or _mentions(rhs, lhs)):
                continue
            if arrow and not var:
                continue  # a term is rewritten left to right only
            for other, u in view.facts[::-1]:
                if other == name or _BINDER.search(u):
                    continue
                if (var and _mentions(u, lhs)) or (not var and _occurs(u, lhs)):
                    out.append(f"rewrite {arrow}{name} in {other}.")
                    if var:
                        r = _unparen(rhs)
                        sides = _split_top(u, _EQ)
                        new = " = ".join(r if _unparen(side) == lhs else
                                         _replace(side, lhs, r if _ATOM.fullmatch(r) else f"({r})")
                                         for side in sides)
                        asserts.append(f"assert ({new}) by (rewrite {arrow}{name} in {other}; exact {other}).")
    return out + asserts


def _occurs(text: str, term: str) -> bool:
    """Whether the application ``term`` is a subterm of ``text`` (not followed by more arguments)."""
    return re.search(rf"(?<![\w'.]){re.escape(term)}(?!\s*[\w'(])", text) is not None


def _determined(view: _View, known: dict) -> list[str]:
    """``assert (x = v) by lia`` for values the linear hypotheses determine, and a closer that
    asserts all of the conclusion's and substitutes them."""
    out, closers = [], []
    given = {_unparen(s) for _, t in view.facts for s in _split_top(t, _EQ)}
    words = set(_words(view.conclusion))
    for ty, vals in known.items():
        by = ("lra", "nra") if ty == "R" else ("lia", "nia")
        fresh = {n: v for n, v in vals.items() if n not in given}
        for n, v in fresh.items():
            out.append(f"assert ({n} = {_value(v, ty, view)}) by {by[0]}.")
        used = [n for n in vals if n in words]
        names = {n: "v_" + n.replace("'", "_q") for n, t in view.types.items() if t == ty}
        if used and words & set(fresh) and _linear(view.conclusion, ty, names) is None:
            steps = "; ".join(f"assert ({n} = {_value(vals[n], ty, view)}) by {by[0]}" for n in used)
            closers += [f"{steps}; subst {' '.join(used)}; {c}." for c in by]
    return closers + out


def _splits(view: _View) -> list[str]:
    """Case splits over pairs of atoms of a comparison of the conclusion, over its variables against 0,
    ``induction n; simpl; lia`` and bool variables."""
    pairs = []
    for t in [view.conclusion]:
        for prop in _props(t):
            parts = [_unparen(_scope(p)) for p in _split_top(prop, _REL)]
            rels = [m.group() for m in re.finditer(_REL, prop)]
            if len(parts) < 2:
                continue
            for i, (a, b) in enumerate(zip(parts, parts[1:])):
                if not (_ATOM.fullmatch(a) and _ATOM.fullmatch(b)) or a == b:
                    continue
                tys = [view.types.get(x) for x in (a, b) if not _NUM.fullmatch(x)]
                if not tys or any(ty not in _NUMBER_TYPES for ty in tys) or len(set(tys)) != 1:
                    continue
                eq = i < len(rels) and rels[i] in ("=", "<>")
                pairs.append((a, b, tys[0], eq))
    words = _words(view.conclusion)
    for n in dict.fromkeys(w for w in words if view.types.get(w) in _NUMBER_TYPES):
        pairs.append((n, "0", view.types[n], True))
    out, closed = [], []
    taken = set(view.taken)
    for a, b, ty, eq in dict.fromkeys(pairs):
        if ty == "R":
            lemmas = ("Req_EM_T", "Rle_lt_dec") if eq else ("Rle_lt_dec", "Req_EM_T")
            ts = [f"destruct ({lem} {a} {b})" for lem in lemmas]
        else:  # lia proves the split: no decision lemma whose library the problem may not import
            h = _fresh(f"H{a}" if _IDENT.fullmatch(a) else "Hc", taken)
            k = _key(ty, view)
            ts = [f"assert ({a} = {b} \\/ {a} <> {b}) as [{h}|{h}] by lia",
                  f"assert ({a} <= {b} \\/ {b} < {a}) as [{h}|{h}] by lia"]
            if k:
                ts = [f"assert (({a} = {b} \\/ {a} <> {b}){k}) as [{h}|{h}] by lia",
                      f"assert (({a} <= {b} \\/ {b} < {a}){k}) as [{h}|{h}] by lia"]
            ts = ts if eq else ts[::-1]
        for t in ts:  # linear arithmetic is complete: a split helps the nonlinear one
            closed.append(f"{t}; {'nra' if ty == 'R' else 'nia'}.")
            out.append(f"{t}.")
    late = []
    for n in dict.fromkeys(words):
        ty = view.types.get(n)
        if ty == "nat":
            late += [f"induction {n}; simpl; lia.", f"induction {n}; simpl; auto."]
        elif ty == "bool":
            late += [f"destruct {n}.", f"destruct {n}; simpl; auto.", f"destruct {n}; reflexivity."]
    return _interleave([closed, out, late])


def _props(t: str, depth: int = 0) -> list[str]:
    """The atomic propositions of ``t`` under its top-level connectives."""
    t = _unparen(t.strip().lstrip("~").strip())
    parts = _split_top(t, _CONNECTIVE)
    if len(parts) == 1 or depth > 4:
        return [t]
    return [p for part in parts for p in _props(part, depth + 1)]


def _interleave(families: list[list[str]]) -> list[str]:
    """One tactic of each family in turn, until all are used."""
    out = []
    for group in itertools.zip_longest(*families):
        out += [t for t in group if t is not None]
    return out


def _safe(f, *args) -> list:
    """``f(*args)``, or nothing when the goal's text defeats the reader."""
    try:
        return f(*args)
    except (_Unsupported, ValueError, IndexError, KeyError, TypeError, AttributeError, RecursionError,
            ZeroDivisionError, OverflowError, re.error):
        return []


def candidates(goal: Goal, limit: int = 48) -> list[str]:
    """The witnesses source's tactics for ``goal``, most promising first (at most ``limit``)."""
    try:
        view = _View(goal)
    except (ValueError, IndexError, KeyError, TypeError, RecursionError, re.error):
        return []
    known = _safe(_known_values, view) or {}
    sure, more = _safe(_witnesses, view, known) or ([], [])
    determined = _safe(_determined, view, known)
    head = sure[:6] + [t for t in determined if "subst" in t]
    body = _interleave([_safe(_destructs, view), _safe(_cases, view), more + sure[6:],
                        _safe(_rewrites, view), [t for t in determined if "subst" not in t],
                        _safe(_splits, view)])
    return allowed((view.prefix + t for t in head + body), limit)
