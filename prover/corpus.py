"""Read the traced (goals, tactic) corpus that ``prover trace`` writes.

One JSON object a line: ``goals`` (``prover.env.goals_text``), ``tactic``, ``file``,
``theorem``, ``step``, ``under_bullet`` and ``split``. A directory holds
``train.jsonl`` and ``heldout.jsonl``; a file is read as it is.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

SPLITS = ("train", "heldout")
HELDOUT_MOD = 20  # about one source file in 20 is held out


def split_of(path: str) -> str:
    """train or heldout, by source file: deterministic in its path (every backend's tracer)."""
    return "heldout" if int(hashlib.sha1(path.encode()).hexdigest(), 16) % HELDOUT_MOD == 0 else "train"


def load_pairs(path_or_dir: str | Path, split: str = "train") -> list[dict]:
    """The pairs of ``split`` (``train``, ``heldout`` or ``all``) from a corpus directory,
    or every pair of one JSONL file whose ``split`` matches (any, for ``all``)."""
    p = Path(path_or_dir)
    if split not in SPLITS + ("all",):
        raise ValueError(f"unknown split {split!r}: expected train, heldout or all")
    if p.is_dir():
        names = SPLITS if split == "all" else (split,)
        files = [p / f"{n}.jsonl" for n in names]
        missing = [str(f) for f in files if not f.is_file()]
        if missing:
            raise FileNotFoundError(f"no traced corpus at {p}: missing {', '.join(missing)} (run `prover trace`)")
    elif p.is_file():
        files = [p]
    else:
        raise FileNotFoundError(f"{p}: no such file or directory")
    pairs = []
    for f in files:
        with open(f, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as e:
                    raise ValueError(f"{f}:{n}: not JSON: {e}") from None
                if split == "all" or rec.get("split", split) == split:
                    pairs.append(rec)
    return pairs
