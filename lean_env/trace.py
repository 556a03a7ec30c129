"""The Lean corpus: (goal state, tactic) pairs of a Lean repository traced by LeanDojo.

The Lean counterpart of ``coq_env.trace``: LeanDojo (``lean-dojo``, the ``lean`` extra)
builds a Lean repository with its own instrumentation and records, for every tactic of
every tactic proof, the pretty-printed goals before it (``state_before``). Those strings are
what Lean prints, the same printer the REPL's ``goals`` come from, so they are parsed by
``lean_env.goals`` and re-rendered by ``prover.env.goals_text``: the model reads one text
form whether a state came from LeanDojo or from a search.

Output (as ``prover trace --backend coq``): ``train.jsonl`` / ``heldout.jsonl`` with one
``{"goals", "tactic", "file", "theorem", "step", "split"}`` a line, split by file, and
``summary.json`` (``"backend": "lean"``). Pairs whose tactic the Lean cheat filter refuses
(``sorry``, ``native_decide``...) or whose state does not parse are counted and skipped:
the corpus holds only tactics the search may issue.

Tracing needs a live Lean toolchain and LeanDojo (hours for Mathlib); it cannot run on a
machine without Lean, where ``prover trace --backend lean`` says so in one line.
"""
from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Iterable

from lean_env.cheat import CheatError, check_tactic
from lean_env.goals import GoalParseError, parse_goals
from prover import corpus
from prover.corpus import split_of
from prover.env import goals_text

MATHLIB_URL = "https://github.com/leanprover-community/mathlib4"


class LeanDojoMissing(RuntimeError):
    """LeanDojo or the Lean toolchain it drives is not installed."""


def pairs_from_theorems(theorems: Iterable, stats: Counter | None = None) -> list[dict]:
    """Corpus records from LeanDojo ``TracedTheorem``s (anything with ``theorem.full_name``,
    ``theorem.file_path`` and ``get_traced_tactics()`` giving ``tactic``/``state_before``)."""
    stats = stats if stats is not None else Counter()
    out: list[dict] = []
    for thm in theorems:
        name, path = str(thm.theorem.full_name), str(thm.theorem.file_path)
        stats["theorems"] += 1
        tactics = list(thm.get_traced_tactics())
        if not tactics:
            stats["theorems_without_tactics"] += 1
            continue
        for step, t in enumerate(tactics):
            before = (t.state_before or "").strip()
            if not before or before == "no goals":
                stats["skipped_no_goals"] += 1
                continue
            try:
                tactic = check_tactic(t.tactic)
            except CheatError as e:
                stats[f"refused: {str(e)[:60]}"] += 1
                continue
            try:
                goals = parse_goals(before)
            except GoalParseError:
                stats["skipped_unparsed_state"] += 1
                continue
            out.append({"goals": goals_text(goals), "tactic": tactic, "file": path, "theorem": name,
                        "step": step, "split": split_of(path)})
            stats["pairs"] += 1
    return out


def trace_repo(out: str | Path, url: str = MATHLIB_URL, commit: str | None = None,
               build_deps: bool = False) -> dict:
    """Trace ``url`` at ``commit`` with LeanDojo and write the corpus to ``out``. LeanDojo
    caches traced repositories (``CACHE_DIR``), so a second run reads the cache."""
    try:
        from lean_dojo import LeanGitRepo, trace
    except ImportError:
        raise LeanDojoMissing("LeanDojo is not installed: pip install -e '.[lean]' (and make lean-setup)") from None
    if commit is None:
        commit = mathlib_commit()
    t0 = time.time()
    traced = trace(LeanGitRepo(url, commit), build_deps=build_deps)
    stats: Counter = Counter()
    records = pairs_from_theorems(traced.get_traced_theorems(), stats)
    summary = {"backend": "lean", "source": {"url": url, "commit": commit},
               "pairs": {},  # filled by write_corpus: {"train": .., "heldout": ..}
               "files": len({r["file"] for r in records}), "stats": dict(stats)}
    corpus.write_corpus(records, out, summary)
    summary["wall_seconds"] = round(time.time() - t0, 1)
    return summary


def mathlib_commit() -> str:
    """The Mathlib revision miniF2F-lean4 pins (its ``lake-manifest.json``): the corpus then
    matches the library the problems are stated in."""
    from lean_env.problems import default_directory
    manifest = default_directory() / "lake-manifest.json"
    try:
        pkgs = json.loads(manifest.read_text())["packages"]
        return next(p["rev"] for p in pkgs if p.get("name") == "mathlib")
    except (OSError, ValueError, KeyError, StopIteration):
        raise LeanDojoMissing(f"{manifest}: no Mathlib revision found; pass --commit") from None
