"""Library premises for Coq: lemmas of the loaded libraries applied or rewritten by name.

Why: the menu's automation (``lia``, ``nra``, ``field``...) treats ``sqrt``, ``Rabs``, ``ln``,
``Z.gcd`` as opaque atoms, and a small model rarely spells the one library lemma that unlocks
such a goal (``sqrt_sqrt``, ``ln_exp``, ``Nat.gcd_comm``). ReProver and Magnushammer retrieve
premises with a learned embedding; this module does the same selection symbolically, with
nothing hand-written: the lemmas are whatever Coq itself lists (``Search is:Lemma`` ...) for
the problem's header plus the environment's prelude. The lemmas sharing the goal's rarer
symbols are retrieved by an inverted index (IDF-weighted, so ``sqrt`` counts more than ``+``)
and kept where first-order matching says the tactic can act: ``apply L.`` when the conclusion
matches the goal's, ``rewrite L.`` / ``rewrite <- L.`` / ``rewrite L in H.`` when a side of its
equation matches a subterm, ``pose proof (L args).`` with the arguments taken from the matched
subterms (with ``; lra`` / ``; nra`` closers for the best few).

The header: a :class:`prover.env.Goal` does not carry its problem's imports, so the lemma list
is keyed by header text. :func:`candidates` takes ``header=``; without it, the header the
process's environment last opened (:func:`note_header`, which ``CoqEnv.open`` is meant to call)
is used; with neither, nothing is offered.

Costs: the dump runs one fresh coqtop per distinct header (a few seconds), cached on disk
(``cache_dir``, JSON keyed by a hash of header, prelude and Coq version) and in memory (the
``MEMORY_LIBS`` most recent headers); lemmas are parsed once per header, so a node costs
milliseconds. A dump that fails or times out
costs one line on stderr and offers nothing for that header; it never raises into the search.

The run's own lemmas (hindsight lemmas, proved conjectures) enter through ``extra_lemmas`` as
``(name, sentence, proof)`` triples: the ``Lemma NAME BINDERS : CONCL.`` sentence the loop
checked and its proof as one tactic (the ``lemmas`` source, ``prover.policy.lemmas``, reads
them from the run's database). Such a lemma is not in the file ``prover check`` reads, so each
tactic that uses it first states and proves it in place (:func:`own_lemma`): ``assert (NAME : forall BINDERS, CONCL)
by (clear; intros X Y H; PROOF); apply NAME.`` (``clear`` empties the context, so the binders'
names are free and the proof sees what the lemma's own check saw). A ``(name, statement)`` pair
is a lemma already in scope, used by name.
"""
from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import re
import subprocess
import sys
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from prover.env import Goal

FORMAT = 1  # bump when the dump's commands or filtering change: old cache files are ignored
KINDS = ("Lemma", "Theorem", "Fact", "Remark", "Corollary", "Proposition", "Property")
# modules whose lemmas are the internals of tactics or of other constructions, never a premise
SKIP_MODULES = {
    "POrderedType", "QOrderedType", "OrdersTac", "OrdersFacts", "Morphisms", "CMorphisms",
    "RelationClasses", "CRelationClasses", "EqdepFacts", "Eqdep_dec", "Tauto", "ZMicromega",
    "RingMicromega", "RMicromega", "QMicromega", "Ring_polynom", "EnvRing", "OrderedRing",
    "Refl", "Env", "VarMap", "InitialRing", "Ring_theory", "Field_theory", "ZifyClasses",
    "ZifyInst", "Zify", "ZifyBool", "ZifyNat", "ZifyN", "Vector", "VectorSpec", "VectorDef", "String",
    "Ascii", "Byte", "OmegaLemmas", "ClassicalFacts", "Operators_Properties", "Ndigits",
    "ConstructiveReals", "ConstructiveCauchyReals", "ConstructiveCauchyRealsMult",
    "ConstructiveCauchyAbs", "ConstructiveRcomplete", "ConstructiveLimits", "ConstructiveAbs",
    "ConstructiveRealsMorphisms", "ConstructiveEpsilon", "ConstructiveMinMax", "ConstructivePower",
    "ConstructiveSum", "ConstructiveExtra", "ClassicalDedekindReals", "Rdefinitions", "Decidable",
    "Wf_nat", "Streams", "Setoid", "SetoidTactics", "BinNums", "DecimalFacts", "HexadecimalFacts",
    "DecimalNat", "DecimalZ", "DecimalN", "DecimalPos", "HexadecimalNat", "HexadecimalZ",
    "HexadecimalN", "HexadecimalPos", "Hexadecimal", "Decimal", "Number", "NumberFacts",
}
MAX_STATEMENT = 400
MAX_TACTIC = 300   # a longer tactic is not offered
MAX_ARG = 80       # nor a lemma instantiated with a longer argument (a whole ``fun``, a sum)
MAX_OWN_TACTIC = 2000  # a tactic that proves one of the run's own lemmas in place may be this long
MAX_OWN = 8        # tactics per node that use the run's own lemmas, at most
MAX_CLOSERS = 8    # ``apply L; lra.`` / ``pose proof (L x); nra.``: only for the best lemmas
DUMPS = 0  # coqtop processes started for a dump in this process (tests count them)

MEMORY_LIBS = 8   # parsed lemma lists kept in memory (about 20 MB each), least recently used out

_CURRENT: dict[int, str] = {}   # pid -> header of the problem the environment last opened
_LIBS: "OrderedDict[str, Library]" = OrderedDict()   # cache key -> parsed lemma list
_FAILED: set[str] = set()       # cache keys whose dump failed in this process (not retried)


def forget() -> None:
    """Drop the in-memory lemma lists and failures (the disk cache stays)."""
    _LIBS.clear()
    _FAILED.clear()


def note_header(header: str) -> None:
    """Record the header of the problem this process's environment just opened."""
    _CURRENT[os.getpid()] = header


def current_header() -> str | None:
    return _CURRENT.get(os.getpid())


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "prover" / "premises"


# -- terms ---------------------------------------------------------------------------------
_TOKEN = re.compile(r"""
    (?P<scope>%[A-Za-z_]\w*)
  | (?P<num>\d+(?:\.\d+)?)
  | (?P<id>[A-Za-z_\u00C0-\u024F\u0370-\u03FF][A-Za-z0-9_'\u00C0-\u024F\u0370-\u03FF]*
        (?:\.[A-Za-z_\u00C0-\u024F\u0370-\u03FF][A-Za-z0-9_'\u00C0-\u024F\u0370-\u03FF]*)*)
  | (?P<open>[(\[{])
  | (?P<close>[)\]}])
  | (?P<comma>,)
  | (?P<op>[-+*/^²<>=~|&\\:?!@#$;`]+)
  | (?P<other>\S)
""", re.X)
_KEYWORDS = {"forall", "exists", "fun", "match", "with", "end", "if", "then", "else", "let", "in",
             "as", "return", "Type", "Prop", "Set", "SProp", "_", "mod", "fix", "struct"}
_INFIX_WORDS = {"mod": 40}
_LEVELS = {"<->": 95, "\\/": 85, "/\\": 80, "=": 70, "<>": 70, "<=": 70, "<": 70, ">=": 70,
           ">": 70, "<=?": 70, "<?": 70, ">=?": 70, ">?": 70, "=?": 70, "?=": 70, "+": 50, "-": 50, "||": 50,
           "*": 40, "/": 40, "&&": 40, "^": 30, "::": 60, "++": 60, "|": 70}
_RELATIONS = {"=", "<>", "<=", "<", ">=", ">", "<->", "/\\", "\\/", "~"}
_NOISE = {":", "=>", ":=", "->", ";", "@", "!", "`"}


@dataclass
class Tok:
    text: str
    kind: str        # id, num, op, open, close, comma, other
    scope: str | None
    start: int
    end: int         # a delimiter (``%nat``) right after the token is part of its span
    delim: str | None = None


def tokenize(s: str) -> list[Tok]:
    """Tokens of a printed Coq term, each with the notation scope (``nat``, ``Z``) of the
    innermost delimited group around it (``(a + b)%nat``) or its own delimiter (``0%nat``);
    the delimiters themselves are not tokens."""
    toks: list[Tok] = []
    for m in _TOKEN.finditer(s):
        if m.lastgroup == "scope":
            if toks:
                toks[-1].end, toks[-1].delim = m.end(), m.group()[1:]
            continue
        toks.append(Tok(m.group(), m.lastgroup, None, m.start(), m.end()))
    stack, groups = [], []
    for i, t in enumerate(toks):
        if t.kind == "open":
            stack.append(i)
        elif t.kind == "close" and stack:
            j = stack.pop()
            if t.delim:
                groups.append((j, i, t.delim))
    for j, i, sc in sorted(groups, key=lambda g: g[0] - g[1]):  # widest first: inner groups win
        for t in toks[j:i + 1]:
            t.scope = sc
    for t in toks:
        if t.delim and t.kind in ("id", "num"):
            t.scope = t.delim
    return toks


def _depths(toks: list[Tok]) -> list[int]:
    d, out = 0, []
    for t in toks:
        if t.kind == "close":
            d -= 1
        out.append(d)
        if t.kind == "open":
            d += 1
    return out


def _split_top(toks: list[Tok], op: str) -> list[list[Tok]]:
    parts, cur, d = [], [], 0
    for t in toks:
        if t.kind == "open":
            d += 1
        elif t.kind == "close":
            d -= 1
        if d == 0 and t.text == op and t.kind in ("op", "comma"):
            parts.append(cur)
            cur = []
        else:
            cur.append(t)
    parts.append(cur)
    return parts


def _binder_names(region: list[Tok]) -> list[tuple[str, str, str]]:
    """(name, type text, bracket) of a binder list ``(x y : R) {A : Type} [n : nat]`` or
    ``x y : R``; bracket is ``(`` for an explicit binder (also when unparenthesised)."""
    out = []
    groups: list[tuple[str, list[Tok]]] = []
    if region and region[0].kind == "open":
        d, cur, br = 0, [], "("
        for t in region:
            if t.kind == "open":
                d += 1
                if d == 1:
                    cur, br = [], t.text
                    continue
            elif t.kind == "close":
                d -= 1
                if d == 0:
                    groups.append((br, cur))
                    continue
            if d >= 1:
                cur.append(t)
    else:
        groups.append(("(", region))
    for br, g in groups:
        k = next((i for i, t in enumerate(g) if t.text == ":" and t.kind == "op"), len(g))
        typ = " ".join(t.text for t in g[k + 1:])
        for t in g[:k]:
            if t.kind == "id":
                out.append((t.text, typ, br))
    return out


def _bound(toks: list[Tok]) -> set[str]:
    """Names bound inside a term (``forall``, ``exists``, ``fun`` binders, ``let x :=``)."""
    out: set[str] = set()
    dep = _depths(toks)
    for i, t in enumerate(toks):
        if t.kind == "id" and t.text in ("forall", "exists", "fun", "let"):
            end = i + 1
            while end < len(toks) and not (dep[end] == dep[i] and
                                           (toks[end].kind == "comma" or toks[end].text in ("=>", ":="))):
                end += 1
            out.update(n for n, _, _ in _binder_names(toks[i + 1:end]))
    return out


def _closes(toks: list[Tok]) -> int:
    """The index of the token closing the group ``toks`` opens (-1 when it never closes)."""
    d = 0
    for i, t in enumerate(toks):
        if t.kind == "open":
            d += 1
        elif t.kind == "close":
            d -= 1
            if d == 0:
                return i
    return -1


def _sym(t: Tok) -> str | None:
    if t.kind == "id":
        if t.text in _INFIX_WORDS:
            return t.text + (f"%{t.scope}" if t.scope else "")
        return None if t.text in _KEYWORDS else t.text
    if t.kind == "num" or (t.kind == "op" and t.text not in _NOISE):
        return t.text + (f"%{t.scope}" if t.scope else "")
    return None


def symbols(toks: list[Tok], local: set[str] | frozenset = frozenset()) -> set[str]:
    """Constants, operators and numerals of a term (operators and numerals with their scope);
    bound and ``local`` names are not symbols."""
    skip = _bound(toks) | set(local)
    return {s for t in toks if (s := _sym(t)) and not (t.kind == "id" and t.text in skip)}


# -- terms --------------------------------------------------------------------------------
_OPAQUE = {"forall", "exists", "fun", "let", "match", "if", "fix", "cofix"}
_PREFIX = {"-": 35, "/": 35, "~": 75}
_RIGHT = {"^", "/\\", "\\/", "::", "++"}


class Term:
    """A parsed term: ``head`` (a constant, an operator or numeral with its scope, a pattern
    variable when ``var``) applied to ``args``; ``start``/``end`` locate it in its text and
    ``key`` is its structure as a string (equal keys: equal terms)."""

    __slots__ = ("head", "args", "var", "start", "end", "key")

    def __init__(self, head: str, args=(), var: bool = False, start: int = 0, end: int = 0):
        self.head, self.args, self.var, self.start, self.end = head, tuple(args), var, start, end
        self.key = head if not self.args else f"{head}({','.join(a.key for a in self.args)})"

    def spanned(self, start: int, end: int) -> "Term":
        t = Term.__new__(Term)
        t.head, t.args, t.var, t.start, t.end, t.key = self.head, self.args, self.var, start, end, self.key
        return t

    def subterms(self):
        yield self
        for a in self.args:
            yield from a.subterms()

    def syms(self) -> frozenset:
        return frozenset(t.head for t in self.subterms() if not t.var and t.head[0] not in "?⟨")

    def has_var(self) -> bool:
        return any(t.var for t in self.subterms())


class _Fail(Exception):
    pass


class _Parser:
    """Precedence parsing of a printed term (Coq's notation levels for the arithmetic and
    logical operators, application by juxtaposition); binders, ``match`` and ``if`` are opaque."""

    def __init__(self, toks: list[Tok], bound):
        self.t, self.i, self.bound = toks, 0, bound

    def parse(self) -> Term:
        term = self.expr(200)
        if self.i != len(self.t):
            raise _Fail
        return term

    def _level(self, t: Tok):
        if t.kind == "op":
            return _LEVELS.get(t.text)
        return _INFIX_WORDS.get(t.text) if t.kind == "id" else None

    def expr(self, level: int) -> Term:
        left = self.unary()
        while self.i < len(self.t):
            t = self.t[self.i]
            if t.kind == "op" and t.text == "²":
                self.i += 1
                left = Term(_sym(t), (left,), False, left.start, t.end)
                continue
            lv = self._level(t)
            if lv is None or lv > level:
                break
            self.i += 1
            right = self.expr(lv if t.text in _RIGHT else lv - 1)
            left = Term(_sym(t), (left, right), False, left.start, right.end)
        return left

    def unary(self) -> Term:
        if self.i >= len(self.t):
            raise _Fail
        t = self.t[self.i]
        if t.kind == "op" and t.text in _PREFIX:
            self.i += 1
            a = self.expr(_PREFIX[t.text])
            return Term(_sym(t), (a,), False, t.start, a.end)
        if t.kind == "id" and t.text in _OPAQUE:
            return self.opaque()
        f = self.atom()
        args = []
        while self.i < len(self.t) and self._starts_atom(self.t[self.i]):
            args.append(self.atom())
        if not args:
            return f
        return Term(("?" + f.head) if f.var else f.head, args, False, f.start, args[-1].end)

    @staticmethod
    def _starts_atom(t: Tok) -> bool:
        return (t.kind == "num" or (t.kind == "open" and t.text == "(") or
                (t.kind == "id" and t.text not in _KEYWORDS and t.text not in _INFIX_WORDS))

    def atom(self) -> Term:
        t = self.t[self.i]
        if t.kind == "open" and t.text == "(":
            self.i += 1
            inner = self.expr(200)
            if self.i >= len(self.t) or self.t[self.i].text != ")":
                raise _Fail
            c = self.t[self.i]
            self.i += 1
            return inner.spanned(t.start, c.end)
        if t.kind == "num" or (t.kind == "id" and t.text not in _KEYWORDS):
            self.i += 1
            if t.kind == "id" and t.text in self.bound:
                return Term(t.text, (), True, t.start, t.end)
            return Term(_sym(t) or t.text, (), False, t.start, t.end)
        raise _Fail

    def opaque(self) -> Term:
        j, d = self.i, 0
        while j < len(self.t):
            k = self.t[j].kind
            if k == "open":
                d += 1
            elif k == "close":
                if d == 0:
                    break
                d -= 1
            j += 1
        toks, self.i = self.t[self.i:j], j
        return Term("⟨" + " ".join(x.text for x in toks) + "⟩", (), False, toks[0].start, toks[-1].end)


def parse_term(toks: list[Tok], bound=frozenset()) -> Term | None:
    """The term of ``toks`` (``bound`` names are pattern variables), None when it does not parse."""
    if not toks:
        return None
    try:
        return _Parser(toks, bound).parse()
    except (_Fail, RecursionError):
        return None


def match(pat: Term, term: Term, subst: dict) -> bool:
    """First-order matching of ``pat`` against ``term``, extending ``subst`` (var -> Term)."""
    if pat.var:
        prev = subst.get(pat.head)
        if prev is None:
            subst[pat.head] = term
            return True
        return prev.key == term.key
    if pat.head != term.head or len(pat.args) != len(term.args) or term.var:
        return False
    return all(match(p, t, subst) for p, t in zip(pat.args, term.args))


# -- lemmas -------------------------------------------------------------------------------
@dataclass
class Lemma:
    name: str
    statement: str
    args: tuple            # (name, type, kind) in order: kind "var", "premise" or "implicit"
    premises: int          # hypotheses to discharge (arrows and premise binders)
    concl: Term            # the conclusion, binders as pattern variables
    syms: frozenset        # symbols of the conclusion
    lhs: Term | None       # an equation's (or iff's) sides
    rhs: Term | None
    parts: tuple           # the conclusion's proper subterms that mention a variable, largest first

    @property
    def domain(self) -> frozenset:
        return frozenset(t for _, t, k in self.args if k == "var")


def _strip(toks: list[Tok]):
    """Split a statement into its binders ``(name, type, kind)`` (kind ``var``, ``premise`` for
    a binder whose type is a proposition, or ``implicit``), its premises (token lists) and its
    conclusion; None when a binder list does not end."""
    args: list[tuple[str, str, str]] = []
    premises: list[list[Tok]] = []
    while toks:
        if toks[0].kind == "id" and toks[0].text == "forall":
            dep = _depths(toks)
            end = next((i for i in range(1, len(toks)) if dep[i] == 0 and toks[i].kind == "comma"), None)
            if end is None:
                return None
            for n, typ, br in _binder_names(toks[1:end]):
                is_prop = any(tok.kind == "op" and tok.text in _RELATIONS for tok in tokenize(typ))
                kind = "implicit" if br in ("{", "[") else "premise" if is_prop else "var"
                if kind == "premise":
                    premises.append(tokenize(typ))
                args.append((n, typ, kind))
            toks = toks[end + 1:]
            continue
        parts = _split_top(toks, "->")
        if len(parts) == 1:
            break
        premises += parts[:-1]
        toks = parts[-1]
    return args, premises, toks


def parse_lemma(name: str, statement: str) -> Lemma | None:
    """A lemma's shape from its printed statement; None when it cannot serve as a premise
    (polymorphic over types or propositions, a conclusion that is a variable or does not parse)."""
    split = _strip(tokenize(statement))
    if split is None:
        return None
    args, prems, toks = split
    if any(typ.split(" ")[0] in ("Type", "Set", "Prop", "SProp") for _, typ, _ in args):
        return None
    premises = len(prems)
    bound = frozenset(a[0] for a in args)
    concl = parse_term(toks, bound)
    if concl is None or concl.var or concl.head[0] in "?⟨":
        return None
    syms = frozenset(symbols(toks, bound))
    if not syms:
        return None
    lhs = rhs = None
    if concl.head.split("%")[0] in ("=", "<->") and len(concl.args) == 2:
        lhs, rhs = concl.args
    seen, parts = set(), []
    for t in sorted(concl.subterms(), key=lambda t: -len(t.key)):
        if (t is not concl and not t.var and t.head[0] not in "?⟨" and t.key not in seen
                and (t.has_var() if bound else bool(t.args))):
            seen.add(t.key)
            parts.append(t)
    return Lemma(name, statement, tuple(args), premises, concl, syms, lhs, rhs, tuple(parts[:4]))


class Library:
    """The parsed lemmas of one header, an inverted index from symbols to lemmas and the
    symbols' IDF weights over the lemma set."""

    def __init__(self, pairs):
        self.lemmas: list[Lemma] = []
        for name, statement in sorted({(str(n), str(s)) for n, s in pairs}):
            lem = parse_lemma(name, statement)
            if lem is not None:
                self.lemmas.append(lem)
        self.postings: dict[str, list[int]] = {}
        for i, lem in enumerate(self.lemmas):
            for s in lem.syms:
                self.postings.setdefault(s, []).append(i)
        self.n = n = max(1, len(self.lemmas))
        self.idf = {s: math.log((n + 1) / (1 + len(p))) for s, p in self.postings.items()}
        self.idf_unknown = math.log(n + 1)

    def __len__(self) -> int:
        return len(self.lemmas)

    def names(self) -> list[str]:
        return [lem.name for lem in self.lemmas]

    def w(self, s: str) -> float:
        return self.idf.get(s, self.idf_unknown)


# -- the dump -------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def coq_version() -> str:
    from .coqtop import find_coqtop
    try:
        out = subprocess.run([find_coqtop(), "--version"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return "?"
    return out.strip().splitlines()[0] if out.strip() else "?"


def _prelude() -> str:
    from .env import PRELUDE
    return PRELUDE


def cache_key(header: str) -> str:
    from .env import SETTINGS
    text = "\n".join([f"format {FORMAT}", coq_version(), _prelude(), *SETTINGS, header])
    return hashlib.sha1(text.encode()).hexdigest()[:20]


def parse_search(output: str) -> list[tuple[str, str]]:
    """``name: statement`` entries of Search answers (a statement may span indented lines)."""
    out: list[list[str]] = []
    for line in output.splitlines():
        if not line.strip():
            continue
        m = None if line[0].isspace() else re.match(r"^([^\s:]+): (.*)$", line)
        if m:
            out.append([m.group(1), m.group(2).strip()])
        elif out:  # a wrapped statement goes on
            out[-1][1] += " " + line.strip()
    return [(n, " ".join(s.split())) for n, s in out]


def _keep(name: str, statement: str) -> bool:
    if "." in name and name.split(".")[0] in SKIP_MODULES:
        return False
    return len(statement) <= MAX_STATEMENT and " match " not in f" {statement} "


def search_coq(header: str, timeout: float = 180.0) -> list[tuple[str, str]]:
    """Start a fresh coqtop, load ``header`` and the prelude, list the lemmas Coq knows.
    Raises RuntimeError (with Coq's message) when a sentence fails, CoqHang on a timeout."""
    global DUMPS
    from .coqtop import Coqtop
    from .env import SETTINGS, coq_error
    from .sentences import split_sentences
    DUMPS += 1
    deadline = time.monotonic() + timeout
    coq = Coqtop()
    try:
        setup = list(SETTINGS) + [s.text for s in split_sentences(header, bullets=False)]
        setup += [s.text for s in split_sentences(_prelude(), bullets=False)]
        for s in setup:
            out, _, _ = coq.send(s, timeout=max(1.0, deadline - time.monotonic()))
            if coq_error(out):
                raise RuntimeError(f"{s[:80]}: {coq_error(out)}")
        pairs: list[tuple[str, str]] = []
        for kind in KINDS:
            out, _, _ = coq.send(f"Search is:{kind}.", timeout=max(1.0, deadline - time.monotonic()))
            if coq_error(out):
                raise RuntimeError(f"Search is:{kind}: {coq_error(out)}")
            pairs += parse_search(out)
        return [(n, s) for n, s in pairs if _keep(n, s)]
    finally:
        coq.close()


def library(header: str, cache_dir: str | os.PathLike | None = None, timeout: float = 180.0) -> Library | None:
    """The parsed lemma list of ``header``: from memory, else the disk cache, else Coq. None
    (after one line on stderr, once per header and process) when Coq's dump failed."""
    key = cache_key(header)
    if key in _LIBS:
        _LIBS.move_to_end(key)
        return _LIBS[key]
    if key in _FAILED:
        return None
    path = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    f = path / f"{key}.json"
    pairs = None
    try:
        pairs = json.loads(f.read_text())["lemmas"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    if pairs is None:
        try:
            pairs = search_coq(header, timeout=timeout)
        except Exception as e:  # a header that does not load, a hang, a missing coqtop
            first = str(e).splitlines()[0] if str(e) else ""
            where = header.strip().splitlines()[0][:60] if header.strip() else ""
            print(f"warning: premises: no lemma list for header {where!r}: {type(e).__name__}: {first}"[:300],
                  file=sys.stderr)
            _FAILED.add(key)
            return None
        try:
            path.mkdir(parents=True, exist_ok=True)
            tmp = f.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"header": header, "coq": coq_version(), "prelude": _prelude(),
                                       "lemmas": pairs}))
            os.replace(tmp, f)
        except OSError:
            pass
    lib = _LIBS[key] = Library(pairs)
    while len(_LIBS) > MEMORY_LIBS:
        _LIBS.popitem(last=False)
    return lib


# -- matching -------------------------------------------------------------------------------
_FACT = re.compile(r"(=|<|>|~|/\\|\\/|\bexists\b|\|)")


@dataclass
class _View:
    """What the matcher needs of a goal: its parsed conclusion and facts, their subterms by
    (head, arity), the symbols, and the variables by type."""
    concl: Term | None
    all: set
    vars: dict            # type -> variable names, context order
    sub: dict             # (head, arity) -> [(term, where)]: where is None (conclusion), a
                          # hypothesis, or "" (a premise of the conclusion)
    text: dict            # id(term) -> its source text
    intro: bool = False   # the conclusion is a product: tactics run after ``intros``
    types: dict = None    # local name -> its type


def _view(goal: Goal) -> _View:
    """The goal as the matcher sees it. A conclusion that is a product (``forall x, P -> Q``)
    is seen as after ``intros``: its binders are local names, its premises facts without a name
    (no ``rewrite ... in``), its tactics prefixed with ``intros;`` (``_View.intro``)."""
    local = {n for h in goal.hyps for n in h.names}
    ctoks = tokenize(goal.conclusion)
    intro = False
    roots: list[tuple[str, list[Tok], str | None]] = []
    tvars: dict[str, list[str]] = {}
    split = _strip(ctoks) if ctoks and (ctoks[0].text == "forall" or len(_split_top(ctoks, "->")) > 1) else None
    if split is not None and split[2]:
        args, prems, ctoks = split
        intro = True
        for n, typ, kind in args:
            local.add(n)
            if kind == "var":
                tvars.setdefault(typ.strip(), []).append(n)
        roots += [(goal.conclusion, p, "") for p in prems]
    roots.insert(0, (goal.conclusion, ctoks, None))
    for h in goal.hyps:
        t = h.type.strip()
        if h.body is None and _FACT.search(t.replace("<->", " ").replace("->", " ")):
            toks = tokenize(t)
            roots += [(t, toks, n) for n in h.names]
        elif h.body is None:
            for n in h.names:
                tvars.setdefault(t, []).append(n)
    allsyms: set[str] = set()
    sub: dict[tuple, list] = {}
    text: dict[int, str] = {}
    concl = None
    parsed: dict[tuple, Term | None] = {}
    for src, toks, where in roots:
        allsyms |= symbols(toks, local)
        k = (src, toks[0].start if toks else 0, len(toks))
        if k not in parsed:
            parsed[k] = parse_term(toks)
        term = parsed[k]
        if where is None:
            concl = term
        if term is None:
            continue
        for t in term.subterms():
            sub.setdefault((t.head, len(t.args)), []).append((t, where))
            text[id(t)] = src[t.start:t.end]
    types = {n: t for t, names in tvars.items() for n in names}
    return _View(concl, allsyms, tvars, sub, text, intro, types)


def _closer(lem: Lemma, view: _View, nonlinear: bool) -> str:
    dom = lem.domain or frozenset(view.vars)
    real = any("R" in re.findall(r"\w+", t) for t in dom) or not dom & {"nat", "Z", "N", "positive"}
    if nonlinear:
        return "nra" if real else "nia"
    return "lra" if real else "lia"


def _arg(a: str) -> str:
    a = " ".join(a.split())
    if re.fullmatch(r"[\w'.]+(%\w+)?", a):
        return a
    if a.startswith("(") and _closes(tokenize(a)) == len(tokenize(a)) - 1:
        return a
    return f"({a})"


def _occurs(pat: Term, view: _View) -> list:
    """Where (None: the conclusion, else hypothesis names) a goal subterm matches ``pat``."""
    out = []
    for t, where in view.sub.get((pat.head, len(pat.args)), ()):
        if where not in out and match(pat, t, {}):
            out.append(where)
    return out


_ARITH = {"+", "-", "*", "/", "^", "²", "mod"}


def _fits(term: Term, typ: str, view: _View) -> bool:
    """Whether ``term`` may have type ``typ``: a local variable of another type may not, nor an
    arithmetic term over one (``2 * b`` with ``b : R`` is no ``Z``). Other terms are not judged."""
    if not term.args:
        known = view.types.get(term.head)
        return known is None or known == typ or known not in _NUMBER_TYPES
    if term.head.split("%")[0] in _ARITH:
        return all(_fits(a, typ, view) for a in term.args)
    return True


_NUMBER_TYPES = {"R", "nat", "Z", "N", "positive", "Q", "C"}


def _instances(lem: Lemma, view: _View, cap: int = 3) -> tuple[list[list[str]], bool]:
    """Argument lists for the lemma's explicit variables, from matching its subterms against the
    goal's (``sqrt x`` against ``sqrt (a + 1)`` binds ``x := (a + 1)``), a variable no match binds
    filled with a goal variable of its type; and whether matching bound every one."""
    explicit = [(n, t) for n, t, k in lem.args if k == "var"]
    substs: list[dict] = [{}]
    hit = False
    for part in lem.parts:
        found = []
        for t, _ in view.sub.get((part.head, len(part.args)), ()):
            s: dict = {}
            if match(part, t, s):
                found.append(s)
        if not found:
            continue
        hit = True
        merged = []
        for s in substs:
            for f in found:
                if all(s[k].key == v.key for k, v in f.items() if k in s):
                    merged.append({**s, **f})
        substs = merged[:8] or substs
    out, complete = [], False
    if not hit:
        return out, complete
    for s in substs:
        args, full = [], True
        for n, typ in explicit:
            if n in s:
                arg = _arg(view.text.get(id(s[n]), s[n].key))
                if not _fits(s[n], typ.strip(), view) or len(arg) > MAX_ARG:
                    break
                args.append(arg)
            elif view.vars.get(typ.strip()):
                args.append(view.vars[typ.strip()][0])
                full = False
            else:
                break
        else:
            if args not in out and (s or not explicit):
                out.append(args)
                complete = complete or full
    return out[:cap], complete


def _vars(t: Term) -> set[str]:
    return {u.head for u in t.subterms() if u.var}


def _info(lib: Library, syms) -> float:
    """The IDF weight of the symbols that are not relations, connectives or numerals: a lemma
    about nothing else (``r <= 0``, ``r1 <= r2 \\/ r2 < r1``) matches too much to be a premise."""
    return sum(lib.w(s) for s in syms if s.split("%")[0] not in _RELATIONS and not s[0].isdigit())


def _uses(lib: Library, lem: Lemma, view: _View, out: list) -> None:
    """Append ``(score, name, order, tactic)`` for each way ``lem`` may serve the goal: ``apply``
    when its conclusion matches the goal's, ``rewrite`` (``<-``, ``in H``) when a side matches a
    subterm (a variable the side does not fix, or a side that is an atom, rules it out),
    ``pose proof`` of an inequality or other fact instantiated from the goal's subterms."""
    n = lem.name
    pre = "intros; " if view.intro else ""
    explicit = {a for a, _, k in lem.args if k == "var"}
    if (view.concl is not None and explicit <= _vars(lem.concl) and _info(lib, lem.syms) > 0
            and match(lem.concl, view.concl, {})):
        cov = sum(lib.w(s) for s in lem.syms)
        out.append((cov + 4.0, n, 0, f"{pre}apply {n}."))
        if lem.premises:
            out.append((cov + 3.75, n, 1, f"{pre}apply {n}; {_closer(lem, view, False)}."))
    for side, other, arrow, order in ((lem.lhs, lem.rhs, "", 2), (lem.rhs, lem.lhs, "<- ", 3)):
        if side is None or not side.args or side.head[0] in "?⟨" or not explicit <= _vars(side):
            continue
        syms = side.syms()
        if _info(lib, syms) <= 0:
            continue
        # what the rewrite brings in that the goal does not have counts against it
        new = sum(lib.w(s) for s in other.syms() - syms if s not in view.all)
        cov = sum(lib.w(s) for s in syms) - 0.5 * new - (0.1 if arrow else 0.0)
        for where in _occurs(side, view):
            if where is None:
                out.append((cov + 3.0, n, order, f"{pre}rewrite {arrow}{n}."))
            elif where:
                out.append((cov + 2.5, n, order + 2, f"rewrite {arrow}{n} in {where}."))
    if (not lem.premises and lem.parts and lem.lhs is None and _info(lib, lem.syms) > 0
            and all(k == "var" for _, _, k in lem.args)):  # an implicit argument would be left open
        rel = lem.concl.head
        cov = sum(lib.w(s) for s in lem.syms if s in view.all and s != rel)
        miss = sum(lib.w(s) for s in lem.syms if s not in view.all and s != rel)
        if cov <= miss:
            return
        insts, complete = _instances(lem, view)
        score = cov - miss - (0.5 if complete else 1.5)
        for args in insts:
            term = " ".join([n] + args)
            term = f"({term})" if args else term
            out.append((score, n, 6, f"{pre}pose proof {term}."))
            out.append((score - 0.25, n, 7, f"{pre}pose proof {term}; {_closer(lem, view, True)}."))


_CLOSERS = (1, 7)  # the orders of the closing variants in _uses


def rank(goal: Goal, lib: Library, extra=(), pool: int = 400) -> list[tuple]:
    """Every scored use of the library's lemmas (and ``extra``) for ``goal``, best first:
    ``(score, lemma, order, tactic)``."""
    view = _view(goal)
    acc: dict[int, float] = {}
    common = lib.n / 3
    for s in view.all:
        post = lib.postings.get(s)
        if not post or len(post) > common:
            continue
        w = lib.w(s)
        for i in post:
            acc[i] = acc.get(i, 0.0) + w
    out: list[tuple] = []
    for i in sorted(acc, key=lambda i: (-acc[i], i))[:pool]:
        _uses(lib, lib.lemmas[i], view, out)
    for lem in extra:
        _uses(lib, lem, view, out)
    out.sort(key=lambda r: (-round(r[0], 6), r[1], r[2], r[3]))
    return out


_LEMMA_HEAD = re.compile(r"\s*(?:Lemma|Theorem|Fact|Remark|Corollary|Proposition)\s+([A-Za-z_][\w']*)\s*")


def own_lemma(sentence: str, proof: str) -> tuple[str, str, str] | None:
    """``(name, type, prefix)`` for one of the run's own lemmas: its name, its statement as a type
    (``forall (x : R) (h : 0 <= x), CONCL``) and the tactic that states and proves it in place
    (``assert (NAME : TYPE) by (clear; intros x h; PROOF); ``), to go before each tactic that
    uses it. None when ``sentence`` is not ``Lemma NAME BINDERS : CONCL.`` with parenthesised
    binders, or the proof is empty."""
    text = (sentence or "").strip()
    m = _LEMMA_HEAD.match(text)
    proof = (proof or "").strip().rstrip(".").strip()
    if m is None or not proof:
        return None
    name, i = m.group(1), m.end()
    binders, names = [], []
    while i < len(text) and text[i] == "(":
        depth, j = 0, i
        while j < len(text):
            depth += {"(": 1, ")": -1}.get(text[j], 0)
            if depth == 0:
                break
            j += 1
        if depth:
            return None
        group = text[i:j + 1]
        if " : " not in group:
            return None
        names += group[1:].split(" : ", 1)[0].split()
        binders.append(group)
        i = j + 1
        while i < len(text) and text[i] == " ":
            i += 1
    if not text.startswith(":", i) or not text.endswith("."):
        return None
    concl = text[i + 1:-1].strip()
    if not concl:
        return None
    typ = f"forall {' '.join(binders)}, {concl}" if binders else concl
    intros = f"intros {' '.join(names)}; " if names else ""
    return name, typ, f"assert ({name} : {typ}) by (clear; {intros}{proof}); "


@functools.lru_cache(maxsize=64)
def _extra(pairs: tuple) -> tuple:
    return tuple(lem for n, s in pairs if (lem := parse_lemma(n, s)) is not None)


def candidates(goal: Goal, limit: int = 64, header: str | None = None, cache_dir=None,
               extra_lemmas=(), timeout: float = 180.0, min_score: float = 0.0,
               use_library: bool = True) -> list[str]:
    """Premise tactics for ``goal``, best first: at most ``limit``, deterministic, no
    duplicates, each one the cheat filter accepts. ``header``: the problem's header (default:
    the one :func:`note_header` recorded in this process; without either, none).
    ``extra_lemmas``: ranked with the library's: ``(name, statement)`` pairs of lemmas in scope,
    and the run's own lemmas as ``(name, sentence, proof)`` triples, each tactic using one of
    them prefixed with its proof in place (:func:`own_lemma`; at most ``MAX_OWN`` such tactics),
    unless the goal has it already (a step before stated it): then it is used by name.
    ``use_library=False``: ``extra_lemmas`` only (the ``lemmas`` source), no header needed."""
    from .cheat import CheatError, check_tactic
    if limit <= 0:
        return []
    if use_library:
        header = current_header() if header is None else header
        if header is None:
            return []
        lib = library(header, cache_dir=cache_dir, timeout=timeout)
        if lib is None:
            return []
    else:
        lib = Library(())
    pairs, own = [], {}
    in_scope = {n for h in goal.hyps for n in h.names}
    for item in extra_lemmas or ():
        if len(item) == 3:  # (key, sentence, proof): the lemma's name is the sentence's
            made = own_lemma(str(item[1]), str(item[2]))
            if made is not None:
                if made[0] not in in_scope:  # stated on this path already: used by name
                    own[made[0]] = made[2]
                pairs.append((made[0], made[1]))
        else:
            pairs.append((str(item[0]), str(item[1])))
    extra = _extra(tuple(pairs)) if pairs else ()
    out: list[str] = []
    closers = owned = 0
    for score, name, order, tactic in rank(goal, lib, extra):
        if len(out) >= limit or score <= min_score:
            break
        if name in own:
            if owned >= MAX_OWN:
                continue
            tactic = own[name] + tactic
            if len(tactic) > MAX_OWN_TACTIC:
                continue
        elif len(tactic) > MAX_TACTIC:
            continue
        if order in _CLOSERS and closers >= MAX_CLOSERS:
            continue
        try:
            t = check_tactic(tactic)
        except CheatError:
            continue
        if t not in out:
            out.append(t)
            closers += order in _CLOSERS
            owned += name in own
    return out
