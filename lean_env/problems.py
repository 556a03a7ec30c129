"""Load miniF2F-lean4 (``MiniF2F/Valid/*.lean``, ``MiniF2F/Test/*.lean``) into Problems.

Each file is ``import Mathlib``, ``set_option maxHeartbeats 0``, ``open ...`` and one
``theorem NAME ... := by sorry``. The header is everything before the theorem (kept
verbatim: imports, options, opens); the statement runs from ``theorem`` up to, not
including, the ``:=`` that starts the proof (the first ``:=`` outside brackets, found on
Lean tokens so that ``:=`` inside comments or a binder's default value does not count).

Default directory: ``prover.paths.dataset("minif2f-lean4")`` (``$PROVER_DATA_DIR``, else
``../shared/data``, else ``data/external`` where ``make data`` downloads). ``directory``
may be the miniF2F root (holding ``MiniF2F/``), the ``MiniF2F`` folder, or a flat folder
of ``.lean`` files (split "").
"""
from __future__ import annotations

from pathlib import Path

from prover import paths as data_paths
from prover.problems import Problem, ProblemError

from .cheat import CheatError, tokenize

SPLITS = {"valid": "Valid", "test": "Test"}
DECL_KEYWORDS = ("theorem", "lemma")
_OTHER_DECLS = {"def", "abbrev", "instance", "example", "axiom", "structure", "inductive",
                "class", "opaque", "noncomputable"}
_OPEN, _CLOSE = set("([{⟨⦃⟦"), set(")]}⟩⦄⟧")


def default_directory() -> Path:
    return data_paths.dataset("minif2f-lean4")


def parse_text(text: str, path: str = "<text>", split: str = "") -> Problem:
    """One miniF2F-lean4 file's text -> Problem. Raises ProblemError naming ``path``."""
    try:
        toks = tokenize(text, keep_comments=True)
    except CheatError as e:
        raise ProblemError(f"{path}: {e}") from None
    decls = [k for k, t in enumerate(toks)
             if t.kind == "ident" and t.col == 0 and t.text in DECL_KEYWORDS]
    others = [t.text for t in toks if t.kind == "ident" and t.col == 0 and t.text in _OTHER_DECLS]
    if len(decls) != 1:
        raise ProblemError(f"{path}: expected one theorem, found {len(decls)}")
    if others:
        raise ProblemError(f"{path}: unexpected declaration {others[0]!r} beside the theorem")
    k = decls[0]
    if k + 1 >= len(toks) or toks[k + 1].kind != "ident":
        raise ProblemError(f"{path}: theorem without a name")
    name = toks[k + 1].text
    lines = text.split("\n")
    offsets = [0]
    for ln in lines:
        offsets.append(offsets[-1] + len(ln) + 1)

    def offset(t) -> int:
        return offsets[t.line] + t.col

    depth, assign = 0, None
    for t in toks[k + 2:]:
        if t.kind != "symbol":
            continue
        if t.text in _OPEN:
            depth += 1
        elif t.text in _CLOSE:
            depth -= 1
        elif t.text == ":=" and depth == 0:
            assign = t
            break
    if assign is None:
        raise ProblemError(f"{path}: theorem {name} has no `:=` (no proof to drop)")
    start = offset(toks[k])
    header = text[:start].strip()
    statement = text[start:offset(assign)].rstrip()
    last = [t for t in toks if offset(t) < offset(assign)][-1]
    if last.kind == "comment" and last.text.startswith("--"):
        # ``... -- note`` right before ``:=``: appending ``:= by`` would land in the comment.
        statement = text[start:offset(last)].rstrip()
    if not any(t.kind == "ident" and t.text == "import" for t in toks[:k]):
        raise ProblemError(f"{path}: no import before theorem {name}")
    return Problem(name=name, split=split, backend="lean", header=header,
                   statement=statement, path=str(path))


def _split_dirs(root: Path, split: str | None) -> list[tuple[str, Path]]:
    if (root / "MiniF2F").is_dir():
        root = root / "MiniF2F"
    subdirs = {p.name.lower(): p for p in root.iterdir() if p.is_dir()} if root.is_dir() else {}
    if split is not None:
        key = split.lower()
        if key not in SPLITS:
            raise ValueError(f"unknown split {split!r} (expected valid or test)")
        if key not in subdirs:
            raise ProblemError(f"{root}: no {SPLITS[key]}/ folder")
        return [(key, subdirs[key])]
    found = [(key, subdirs[key]) for key in SPLITS if key in subdirs]
    return found or [("", root)]


def load_dir(directory=None, split: str | None = None, limit: int | None = None,
             on_error=None) -> list[Problem]:
    """Problems of miniF2F-lean4 under ``directory``, sorted by split then file name."""
    root = Path(directory) if directory is not None else default_directory()
    if not root.is_dir():
        raise ProblemError(f"{root}: not a directory")
    out: list[Problem] = []
    for key, folder in _split_dirs(root, split):
        seen: dict[str, str] = {}
        for path in sorted(folder.glob("*.lean")):
            if limit is not None and len(out) >= limit:
                return out
            try:
                prob = parse_text(path.read_text(encoding="utf-8"), str(path), key)
                if prob.name in seen:
                    raise ProblemError(f"{path}: theorem {prob.name} also in {seen[prob.name]}")
                seen[prob.name] = str(path)
            except (ProblemError, UnicodeDecodeError) as e:
                msg = str(e) if isinstance(e, ProblemError) else f"{path}: {e}"
                if on_error is None:
                    raise ProblemError(msg) from None
                on_error(str(path), msg)
                continue
            out.append(prob)
    return out
