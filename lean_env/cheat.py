"""The Lean cheat filter: what the search may send to Lean as one proof step.

A proof step runs inside ``theorem ... := by`` (REPL tactic mode, and later indented
under ``:= by`` in the file the checker compiles). It must stay a tactic: it may not
close goals without proof, change the rules, or end the tactic block and start commands.
The text is tokenised like Lean does (comments, nested block comments, strings,
identifiers with ``«»``, ``#commands``) and then checked:

  * it is non-empty, at most ``MAX_CHARS`` long, without control characters, with every
    comment and string closed (an open ``/-`` would swallow the checker's own command);
  * lines keep their relative indentation (the first line's indentation is removed from
    all); the checker indents the whole step under ``:= by``, so a line at column 0 here
    is the next tactic of a sequence, never a command;
  * the first token is a tactic head: a lower-case identifier (all Lean tactics are),
    a focusing dot ``·``/``.``, ``(`` or ``{``;
  * no string or char literal (a proof step never needs one), no doc comment, no
    attribute ``@[``, no syntax quotation `` `( ``, no ``#command`` (``#eval``, ``#exit``...);
  * no forbidden word anywhere, as an identifier or a component of a dotted one:
    proof-less closers (``sorry``, ``admit``, ``stop``, ``apply?``, ``sorryAx``), compiler
    trust (``native_decide``, ``native``, ``ofReduceBool``, ``implemented_by``...),
    metaprogramming (``run_tac``, ``elab``, ``macro``, ``by_elab``...), options
    (``set_option``) and every command keyword (``theorem``, ``axiom``, ``where``,
    ``end``...): Lean's command parser takes over at such a keyword even mid-line;
  * ``open`` only as ``open A B in tac`` with plain namespace names.

``native_decide`` and ``decide +native`` can be allowed by a flag: they are sound only if
the compiler is trusted, and the checker still rejects the ``Lean.ofReduceBool`` axiom.
"""
from __future__ import annotations

from dataclasses import dataclass

MAX_CHARS = 4000


class CheatError(ValueError):
    """The text is not an allowed tactic; the message says why."""


@dataclass(frozen=True)
class Token:
    kind: str      # ident | number | string | char | symbol | hashcmd | doccomment | comment
    text: str
    line: int      # 0-based
    col: int


_SUBSCRIPTS = set("₀₁₂₃₄₅₆₇₈₉ₐₑₒₓₔₕₖₗₘₙₚₛₜᵢᵣᵤᵥⱼ")
_NOT_IDENT_START = set("λΠΣ")


def _id_start(c: str) -> bool:
    return (c.isalpha() or c == "_") and c not in _NOT_IDENT_START


def _id_rest(c: str) -> bool:
    return c.isalnum() or c in "_'!?" or c in _SUBSCRIPTS or (c.isalpha() and c not in _NOT_IDENT_START)


def tokenize(text: str, keep_comments: bool = False) -> list[Token]:
    """Lean-like tokens. Raises CheatError on an unterminated comment, string or ``«``."""
    toks: list[Token] = []
    i, n, line, col0 = 0, len(text), 0, 0

    def pos(k: int) -> tuple[int, int]:
        return line, k - col0

    while i < n:
        c = text[i]
        if c == "\n":
            i += 1
            line += 1
            col0 = i
            continue
        if c.isspace():
            i += 1
            continue
        ln, col = pos(i)
        if text.startswith("--", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            if keep_comments:
                toks.append(Token("comment", text[i:j], ln, col))
            i = j
            continue
        if text.startswith("/-", i):
            doc = text.startswith("/--", i) or text.startswith("/-!", i)
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/-", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("-/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            if depth:
                raise CheatError("unterminated block comment")
            body = text[i:j]
            if doc or keep_comments:
                toks.append(Token("doccomment" if doc else "comment", body, ln, col))
            line += body.count("\n")
            if "\n" in body:
                col0 = i + body.rfind("\n") + 1
            i = j
            continue
        if c == '"' or (c == "r" and i + 1 < n and text[i + 1] in '"#'):
            j = _string_end(text, i)
            body = text[i:j]
            toks.append(Token("string", body, ln, col))
            line += body.count("\n")
            if "\n" in body:
                col0 = i + body.rfind("\n") + 1
            i = j
            continue
        if c == "'":
            if i + 2 < n and text[i + 1] != "\\" and text[i + 2] == "'":
                toks.append(Token("char", text[i:i + 3], ln, col))
                i += 3
                continue
            if i + 3 < n and text[i + 1] == "\\":
                j = text.find("'", i + 2)
                if 0 < j < i + 12:
                    toks.append(Token("char", text[i:j + 1], ln, col))
                    i = j + 1
                    continue
            toks.append(Token("symbol", c, ln, col))
            i += 1
            continue
        if c == "#" and i + 1 < n and _id_start(text[i + 1]):
            j = i + 1
            while j < n and _id_rest(text[j]):
                j += 1
            toks.append(Token("hashcmd", text[i:j], ln, col))
            i = j
            continue
        if _id_start(c) or c == "«":
            j = i
            while True:
                if j < n and text[j] == "«":
                    k = text.find("»", j)
                    if k < 0:
                        raise CheatError("unterminated «identifier»")
                    j = k + 1
                elif j < n and _id_start(text[j]):
                    while j < n and _id_rest(text[j]):
                        j += 1
                else:
                    break
                if j + 1 < n and text[j] == "." and (_id_start(text[j + 1]) or text[j + 1] == "«"):
                    j += 1
                    continue
                break
            toks.append(Token("ident", text[i:j], ln, col))
            i = j
            continue
        if c.isdigit():
            j = i
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            toks.append(Token("number", text[i:j], ln, col))
            i = j
            continue
        for sym in ("@[", "`(", ":=", "<;>", "=>"):
            if text.startswith(sym, i):
                toks.append(Token("symbol", sym, ln, col))
                i += len(sym)
                break
        else:
            toks.append(Token("symbol", c, ln, col))
            i += 1
    return toks


def _string_end(text: str, i: int) -> int:
    n = len(text)
    if text[i] == "r":
        j = i + 1
        hashes = 0
        while j < n and text[j] == "#":
            hashes, j = hashes + 1, j + 1
        if j >= n or text[j] != '"':
            raise CheatError("malformed raw string")
        close = '"' + "#" * hashes
        k = text.find(close, j + 1)
        if k < 0:
            raise CheatError("unterminated string")
        return k + len(close)
    j = i + 1
    while j < n:
        if text[j] == "\\":
            j += 2
            continue
        if text[j] == '"':
            return j + 1
        j += 1
    raise CheatError("unterminated string")


# Identifiers (or components of dotted identifiers) that may not appear in a tactic.
CLOSERS = {"sorry", "admit", "stop", "apply?", "sorryAx", "lcProof", "cheat"}
COMPILER_TRUST = {"native_decide", "native", "ofReduceBool", "ofReduceNat", "trustCompiler",
                  "implemented_by", "extern", "unsafeCast", "unsafe", "csimp", "reduceBool"}
META = {"run_tac", "run_cmd", "run_elab", "run_meta", "by_elab", "elab", "elab_rules", "macro",
        "macro_rules", "syntax", "declare_syntax_cat", "notation", "infix", "infixl", "infixr",
        "prefix", "postfix", "binder_predicate", "initialize", "builtin_initialize",
        "simproc", "dsimproc", "simproc_decl", "register_simp_attr", "register_option",
        "evalTactic", "Elab", "TacticM", "TermElabM", "MetaM", "CoreM", "CommandElabM"}
OPTIONS = {"set_option", "options", "debug"}
COMMANDS = {"theorem", "lemma", "def", "definition", "abbrev", "instance", "example", "axiom",
            "axioms", "opaque", "structure", "class", "inductive", "coinductive", "mutual",
            "deriving", "attribute", "universe", "variable", "variables", "namespace",
            "section", "end", "import", "export", "where", "termination_by", "decreasing_by",
            "partial", "private", "protected", "noncomputable", "omit", "include", "local",
            "scoped", "add_decl_doc", "alias", "irreducible_def", "assert_not_exists",
            "compile_inductive", "library_note", "suppress_compilation"}
FORBIDDEN = CLOSERS | COMPILER_TRUST | META | OPTIONS | COMMANDS
NATIVE = {"native_decide", "native"}

TACTIC_HEAD_SYMBOLS = {"·", ".", "(", "{"}


def normalise(tactic: str) -> str:
    """Drop surrounding blank lines and the first line's indentation (from every line)."""
    lines = tactic.strip("\n").rstrip().split("\n")
    first = lines[0]
    indent = len(first) - len(first.lstrip(" "))
    if indent and all(not ln.strip() or ln.startswith(" " * indent) for ln in lines):
        lines = [ln[indent:] for ln in lines]
    return "\n".join(ln.rstrip() for ln in lines)


def check_tactic(tactic: str, allow_native_decide: bool = False) -> str:
    """Return the normalised tactic, or raise :class:`CheatError` saying why it is refused."""
    if not tactic or not tactic.strip():
        raise CheatError("empty tactic")
    if len(tactic) > MAX_CHARS:
        raise CheatError(f"tactic longer than {MAX_CHARS} characters")
    bad = [c for c in tactic if (ord(c) < 32 and c != "\n") or ord(c) == 127 or c in "\u2028\u2029"]
    if bad:
        raise CheatError(f"control character {bad[0]!r}")
    text = normalise(tactic)
    lines = text.split("\n")
    if lines[0][:1].isspace():
        raise CheatError("inconsistent indentation of the first line")
    toks = tokenize(text)
    if not toks:
        raise CheatError("only comments")
    forbidden = FORBIDDEN - NATIVE if allow_native_decide else FORBIDDEN
    for t in toks:
        if t.kind in ("string", "char"):
            raise CheatError(f"string literal {t.text[:20]!r} (not needed in a proof step)")
        if t.kind == "doccomment":
            raise CheatError("doc comment (only declarations take one)")
        if t.kind == "hashcmd":
            raise CheatError(f"command {t.text} (not a tactic)")
        if t.kind == "symbol" and t.text == "@[":
            raise CheatError("attribute @[...] (not a tactic)")
        if t.kind == "symbol" and t.text == "`(":
            raise CheatError("syntax quotation (metaprogramming)")
        if t.kind == "ident":
            for part in _components(t.text):
                if part in forbidden:
                    raise CheatError(f"forbidden word {part!r}")
    head = toks[0]
    if head.kind == "ident":
        if not (head.text[0].islower() or head.text[0] == "_") or "." in head.text:
            raise CheatError(f"{head.text!r} is not a tactic (tactic names are lower-case)")
    elif not (head.kind == "symbol" and head.text in TACTIC_HEAD_SYMBOLS):
        raise CheatError(f"{head.text!r} does not start a tactic")
    _check_open(toks)
    return text


def _components(ident: str) -> list[str]:
    parts, cur, i = [], "", 0
    while i < len(ident):
        c = ident[i]
        if c == "«":
            k = ident.find("»", i)
            cur += ident[i + 1:k]
            i = k + 1
            continue
        if c == ".":
            parts.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    parts.append(cur)
    return parts


def _check_open(toks: list[Token]) -> None:
    for k, t in enumerate(toks):
        if t.kind == "ident" and t.text == "open":
            j = k + 1
            while j < len(toks) and toks[j].kind == "ident" and toks[j].text not in ("in", "hiding", "renaming"):
                j += 1
            if j == k + 1 or j >= len(toks) or toks[j].text != "in":
                raise CheatError("`open` is allowed only as `open Namespace ... in tactic`")


def is_allowed(tactic: str, allow_native_decide: bool = False) -> bool:
    try:
        check_tactic(tactic, allow_native_decide)
        return True
    except CheatError:
        return False
