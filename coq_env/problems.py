"""Load miniF2F-in-Coq problems (or any directory of ``.v`` problem files).

Each file holds imports, optional auxiliary definitions, and one theorem (named like the
file) followed by a proof or ``Admitted``. A problem keeps the header and the theorem
sentence and drops every proof. Rocq 9 names (``From Stdlib``, ``Stdlib.``) are mapped to
Coq 8 names when the installed Coq is 8.x.
"""
from __future__ import annotations

import functools
import re
import subprocess
from pathlib import Path

from prover.paths import dataset
from prover.problems import Problem, ProblemError

from .sentences import SentenceError, split_sentences

_THEOREM = re.compile(r"^(?:Theorem|Lemma|Example|Corollary|Proposition|Fact|Remark)\s+([\w']+)")
_PROOF_END = re.compile(r"^(?:Proof|Qed|Defined|Admitted|Abort|Save)\b")


@functools.lru_cache(maxsize=1)
def coq_major() -> int:
    """Major version of the installed Coq (8 for Debian's 8.16); 9 if unknown."""
    try:
        out = subprocess.run(["coqc", "--version"], capture_output=True, text=True, timeout=30).stdout
        m = re.search(r"version (\d+)\.", out)
        return int(m.group(1)) if m else 9
    except (OSError, subprocess.SubprocessError):
        return 9


def map_names(text: str, major: int | None = None) -> str:
    """Map Rocq 9 library names to Coq 8 names when Coq 8 is installed."""
    if (major if major is not None else coq_major()) >= 9:
        return text
    text = re.sub(r"\bFrom\s+Stdlib\b", "From Coq", text)
    return re.sub(r"\bStdlib\.", "Coq.", text)


def parse_text(text: str, path: str, split: str = "", major: int | None = None) -> Problem:
    stem = Path(path).stem
    try:
        sentences = split_sentences(text, bullets=False)
    except SentenceError as e:
        raise ProblemError(f"{path}: malformed Coq file: {e}") from None
    idx = None
    for i, s in enumerate(sentences):
        m = _THEOREM.match(s.text)
        if m and (idx is None or m.group(1) == stem):
            if idx is None or m.group(1) == stem:
                idx = i
            if m.group(1) == stem:
                break
    if idx is None:
        raise ProblemError(f"{path}: no Theorem/Lemma statement found")
    stmt = sentences[idx].text
    name = _THEOREM.match(stmt).group(1)
    header_sents = []
    for s in sentences[:idx]:
        header_sents.append(s.text)
    header = map_names("\n".join(header_sents), major)
    return Problem(name=name, split=split, backend="coq", header=header,
                   statement=map_names(stmt, major), path=str(path))


def parse_file(path: str | Path, split: str = "") -> Problem:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ProblemError(f"{p}: cannot read: {e}") from None
    return parse_text(text, str(p), split)


def default_dir() -> Path:
    return dataset("minif2f-coq")


def load_dir(directory=None, split: str | None = None, limit: int | None = None, on_error=None) -> list[Problem]:
    """Problems of ``directory`` (default miniF2F-coq). With split subfolders (valid/,
    test/), ``split`` picks one (None: all); a flat directory gives split ""."""
    root = Path(directory) if directory else default_dir()
    if not root.is_dir():
        raise ProblemError(f"{root}: problem directory not found (run `make data` to download miniF2F)")
    subdirs = sorted(d.name for d in root.iterdir() if d.is_dir() and any(d.glob("*.v")))
    if split and split in subdirs:
        groups = [(split, root / split)]
    elif split and subdirs:
        raise ProblemError(f"{root}: no split {split!r} (has {', '.join(subdirs)})")
    elif subdirs and not list(root.glob("*.v")):
        groups = [(s, root / s) for s in subdirs]
    else:
        groups = [("", root)]
    out: list[Problem] = []
    for sp, d in groups:
        for f in sorted(d.glob("*.v")):
            if limit is not None and len(out) >= limit:
                return out
            try:
                out.append(parse_file(f, sp))
            except ProblemError as e:
                if on_error is None:
                    raise
                on_error(str(f), str(e))
    return out
