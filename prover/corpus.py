"""The traced (goals, tactic) corpus that ``prover trace`` writes, for every backend.

One JSON object a line: ``goals`` (``prover.env.goals_text``), ``tactic``, ``file``,
``theorem``, ``step``, ``split`` (and, from Coq, ``under_bullet``). A directory holds
``train.jsonl``, ``heldout.jsonl`` and ``summary.json`` (with the ``backend`` that traced
it); a file is read as it is. Every tracer writes through :func:`write_corpus`.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Iterable

SPLITS = ("train", "heldout")
HELDOUT_MOD = 20  # about one source file in 20 is held out


def split_of(path: str) -> str:
    """train or heldout, by source file: deterministic in its path (every backend's tracer)."""
    return "heldout" if int(hashlib.sha1(path.encode()).hexdigest(), 16) % HELDOUT_MOD == 0 else "train"


def write_corpus(records: Iterable[dict], out: str | Path, summary: dict | None = None) -> dict:
    """Write ``records`` into ``out/train.jsonl`` and ``out/heldout.jsonl`` by their
    ``split`` (each file replaced atomically), and ``summary`` (when given, with the pair
    counts under ``pairs``) into ``out/summary.json``. Returns the pair counts per split."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    counts = {k: 0 for k in SPLITS}
    handles = {k: open(out / f"{k}.jsonl.tmp", "w", encoding="utf-8") for k in SPLITS}
    try:
        for r in records:
            split = r.get("split", "train")
            if split not in handles:
                raise ValueError(f"corpus record with unknown split {split!r}")
            handles[split].write(json.dumps(r, ensure_ascii=False) + "\n")
            counts[split] += 1
    finally:
        for h in handles.values():
            h.close()
    for k in SPLITS:
        os.replace(out / f"{k}.jsonl.tmp", out / f"{k}.jsonl")
    if summary is not None:
        summary.setdefault("pairs", {}).update(counts)
        write_summary(out, summary)
    return counts


def write_summary(out: str | Path, summary: dict) -> None:
    tmp = Path(out) / "summary.json.tmp"
    tmp.write_text(json.dumps(summary, indent=1, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, Path(out) / "summary.json")


def corpus_backend(path: str | Path) -> str | None:
    """The backend that traced the corpus at ``path`` (its ``summary.json``), or None."""
    summary = Path(path) / "summary.json"
    if not summary.exists():
        return None
    try:
        return json.loads(summary.read_text(encoding="utf-8")).get("backend")
    except (OSError, ValueError):
        return None


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
