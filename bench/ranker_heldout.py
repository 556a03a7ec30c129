"""Fixed vs random vs learned order on held-out *valid* problems (issue #35): the ranker is trained
on the random-order trees of the other valid problems only, then the three orders search the
held-out ones at the same tries per expansion, a fresh database per arm.

The held-out problems are the ranker's own held-out split (20% of valid by a hash of the problem
key, ``prover.policy.ranker.split_groups``), copied into ``OUT/heldout/``; the ranker reads round 0
of ``OUT/train.db`` (``bench/ranker_ablation.py`` wrote it) with those problems denied.

    python bench/ranker_heldout.py --out runs/rank35 [--tries 16]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ranker_ablation import SOURCES, arm_stats, budget_args  # noqa: E402


def held(key: str, fraction: float = 0.2, seed: int = 0) -> bool:
    h = int.from_bytes(hashlib.blake2b(f"{seed}:{key}".encode(), digest_size=4).digest(), "little")
    return h / 2 ** 32 < fraction


def main() -> int:
    ap = argparse.ArgumentParser()
    budget_args(ap)
    args = ap.parse_args()
    from prover import backends
    out = ROOT / args.out
    problems = [p for p in backends.get("coq").load_problems(split="valid") if held(p.key)]
    d = out / "heldout"
    d.mkdir(parents=True, exist_ok=True)
    for p in problems:
        shutil.copy(p.path, d / Path(p.path).name)
    names = out / "heldout_names.txt"
    names.write_text("\n".join(p.name for p in problems) + "\n")
    round0 = out / "train_round0.db"
    if not round0.exists():
        shutil.copy(out / "train.db", round0)
        c = sqlite3.connect(round0)
        c.execute("delete from edges where attempt_id in (select id from attempts where round > 0)")
        c.execute("delete from nodes where attempt_id in (select id from attempts where round > 0)")
        c.execute("delete from proofs where attempt_id in (select id from attempts where round > 0)")
        c.execute("delete from attempts where round > 0")
        c.commit()
        c.close()
    py = [sys.executable, "-m", "prover"]
    ranker = out / "ranker_heldout.json"
    log = out / "heldout_log.txt"
    timings = {}
    with log.open("a") as f:
        if not ranker.exists():
            subprocess.run(py + ["rank", "train", "--db", str(round0), "--out", str(ranker), "--deny-names", str(names)],
                           stdout=f, stderr=subprocess.STDOUT, cwd=ROOT, check=True)
        for arm in ("fixed", "random", "learned"):
            db = out / f"heldout_{arm}.db"
            if db.exists():
                continue
            t0 = time.time()
            subprocess.run(py + ["eval", "--problems", str(d), "--db", str(db), "--label", f"eval:{arm}",
                                 "--expansions", str(args.expansions), "--tries", str(args.tries),
                                 "--ranker", str(ranker) if arm == "learned" else arm,
                                 "--policy", "menu+hyps", *sum((["--with", s] for s in SOURCES), []),
                                 "--timeout", str(args.timeout), "--max-seconds", str(args.max_seconds),
                                 "--workers", str(args.workers)],
                           stdout=f, stderr=subprocess.STDOUT, cwd=ROOT, check=True)
            timings[arm] = round(time.time() - t0, 1)
    meta = json.loads(ranker.read_text())["meta"]
    lines = [f"Held-out valid ({len(problems)} problems), {args.tries} tries per expansion, {args.expansions} expansions; "
             f"ranker trained on {meta['examples']} tried candidates of the other valid problems' random-order trees", "",
             "| arm | proved | tries | search s |", "|---|---|---|---|"]
    for arm in ("fixed", "random", "learned"):
        s = arm_stats(out / f"heldout_{arm}.db")
        lines.append(f"| {arm} | {s['proved']}/{len(problems)} | {s['tries']} | {s['seconds']} |")
    (out / "heldout.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
