"""Read the Lean REPL's recorded test transcripts (``test/**/*.in`` + ``*.expected.out``).

Requests are framed exactly as the REPL's ``getLines`` does: lines up to a blank line,
each right-trimmed, joined without newlines (so a raw line break inside a JSON string
disappears: see ``invalid_line_break.in``); chunks starting with ``#`` or ``--`` are
skipped by the REPL and produce no answer. Answers are the JSON objects of the
``.expected.out`` file, each kept with its verbatim text.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from prover.paths import dataset

# The two recorded sets (../shared/data): the REPL at Lean v4.33 (default) and at v4.24.0, the
# toolchain miniF2F-lean4 pins. PROVER_LEAN_TRANSCRIPTS=v4.24.0 runs the Lean tests on the
# second (`make test` runs them on both).
SETS = {"v4.33": "lean-repl-transcripts", "v4.24.0": "lean-repl-transcripts-v4.24.0"}
SET = os.environ.get("PROVER_LEAN_TRANSCRIPTS", "v4.33")
if SET not in SETS:
    raise ValueError(f"PROVER_LEAN_TRANSCRIPTS={SET!r}: expected one of {', '.join(SETS)}")
TRANSCRIPTS = dataset(SETS[SET]) / "test"


def split_requests(text: str) -> list[dict]:
    out, cur = [], []
    for line in text.split("\n") + [""]:
        if line.strip():
            cur.append(line.rstrip())
            continue
        if cur:
            query = "".join(cur)
            cur = []
            if query.startswith("#") or query.startswith("--"):
                continue
            out.append(json.loads(query, strict=False))
    return out


def split_answers(text: str) -> list[tuple[dict, str]]:
    dec = json.JSONDecoder()
    out, i = [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        obj, j = dec.raw_decode(text, i)
        out.append((obj, text[i:j]))
        i = j


@dataclass
class Transcript:
    name: str            # path relative to test/, without suffix
    requests: list[dict]
    answers: list[tuple[dict, str]] | None   # None: no recorded answers

    @property
    def paired(self) -> list[tuple[dict, dict]]:
        return [(r, a) for r, (a, _) in zip(self.requests, self.answers or [])]


def load(base: str | Path) -> Transcript:
    base = Path(base)
    if not base.is_absolute():
        base = TRANSCRIPTS / base
    inp = base.with_name(base.name + ".in")
    out = base.with_name(base.name + ".expected.out")
    answers = split_answers(out.read_text(encoding="utf-8")) if out.exists() else None
    name = str(base.relative_to(TRANSCRIPTS)) if base.is_relative_to(TRANSCRIPTS) else base.name
    return Transcript(name, split_requests(inp.read_text(encoding="utf-8")), answers)


def all_names() -> list[str]:
    return sorted(str(p.relative_to(TRANSCRIPTS))[: -len(".in")] for p in TRANSCRIPTS.rglob("*.in"))
