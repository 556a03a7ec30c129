"""The ranker's own loop (issue #35): search the training split with the newest ranker, retrain
the ranker on every tree so far, evaluate test with it; round after round, with no tactic model,
so what changes between rounds is only what the ranker learned from the search's trees.

Round 0 searches in a seeded random order (exploration: every kind of candidate gets tried);
round r > 0 with ranker r-1. Each round: ``prover search --split valid --round r`` into
``OUT/train.db`` (the same sources and budget every round), ``prover rank train`` (never a test
tree) -> ``OUT/ranker_r.json``, ``prover eval --split test`` -> ``OUT/eval_r.db``. Resumable:
finished attempts and existing files are kept. Writes ``OUT/rounds.md``.

    python bench/ranker_loop.py --out runs/rank35 --rounds 3 [--tries 16]
"""
from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ranker_ablation import SOURCES, budget_args  # noqa: E402
from bench.ranker_ablation import run as run_logged  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    budget_args(ap)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    out = ROOT / args.out
    out.mkdir(parents=True, exist_ok=True)
    py = [sys.executable, "-m", "prover"]
    common = ["--policy", "menu+hyps", *sum((["--with", s] for s in SOURCES), []), "--timeout", str(args.timeout),
              "--max-seconds", str(args.max_seconds), "--workers", str(args.workers), "--tries", str(args.tries)]
    timings_path = out / "loop_timings.json"
    timings = json.loads(timings_path.read_text()) if timings_path.exists() else {}
    log = out / "loop_log.txt"

    def run(key: str, cmd: list[str]) -> None:
        if key not in timings:
            timings[key] = round(run_logged(cmd, log), 1)
            timings_path.write_text(json.dumps(timings, indent=1))

    rows = []
    for r in range(args.rounds):
        order = "random" if r == 0 else str(out / f"ranker_{r - 1}.json")
        run(f"search_{r}", py + ["search", "--split", "valid", "--db", str(out / "train.db"), "--round", str(r),
                                 "--expansions", str(args.train_expansions), "--ranker", order, *common])
        if not (out / f"ranker_{r}.json").exists():
            run(f"ranker_{r}", py + ["rank", "train", "--db", str(out / "train.db"), "--out", str(out / f"ranker_{r}.json")])
        run(f"eval_{r}", py + ["eval", "--split", "test", "--db", str(out / f"eval_{r}.db"), "--label", f"eval:r{r}",
                               "--expansions", str(args.expansions), "--ranker", str(out / f"ranker_{r}.json"), *common])
        c = sqlite3.connect(out / "train.db")
        valid = c.execute("select count(distinct p.problem) from proofs p join attempts a on a.id = p.attempt_id "
                          "where p.accepted = 1 and a.round = ?", [r]).fetchone()[0]
        c.close()
        c = sqlite3.connect(out / f"eval_{r}.db")
        test = c.execute("select count(distinct problem) from proofs where accepted = 1").fetchone()[0]
        tries = c.execute("select sum(tries) from attempts").fetchone()[0]
        c.close()
        meta = json.loads((out / f"ranker_{r}.json").read_text())["meta"]
        rows.append({"round": r, "search order": order.rsplit("/", 1)[-1], "valid proved": valid,
                     "ranker examples": meta["examples"], "recall@8": meta.get("heldout", {}).get("recall@8"),
                     "recall@8 sources' order": meta.get("heldout_fixed", {}).get("recall@8"),
                     "test proved": test, "test tries": tries,
                     "seconds (search, rank, eval)": f"{timings.get(f'search_{r}', '-')}, "
                                                     f"{timings.get(f'ranker_{r}', '-')}, {timings.get(f'eval_{r}', '-')}"})
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(row[h]) for h in head) + " |" for row in rows]
    (out / "rounds.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
