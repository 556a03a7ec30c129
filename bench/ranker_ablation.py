"""What decides what to try (issue #35): fixed order vs random order vs the learned ranker, at the
same budget of tries per expansion, the same sources, expansions, seeds and time limits, a fresh
database per arm.

Steps (each resumable: a re-run skips finished attempts and existing files):
  1. train    the training trees: ``prover search`` of the *valid* split with every source, in a
              seeded random order (exploration: each kind of candidate gets tried), ``--train-tries``
              per expansion, into ``OUT/train.db``;
  2. ranker   ``prover rank train`` on those trees (test problems denied) -> ``OUT/ranker.json``,
              with its held-out recall (nodes of held-out valid problems);
  3. arms     ``prover eval`` on ``--split`` (default test) for each order, into ``OUT/ARM.db``.
Then a table (``OUT/table.md``, ``OUT/ablation.json``): proved per arm, prover tries and search
seconds, and per source: candidates offered per node (median, 90th percentile), tries, seconds
and the proofs that use one of its tactics.

    python bench/ranker_ablation.py --out runs/rank35 [--tries 16] [--expansions 8] [--workers 2]
"""
from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SOURCES = ["hints", "cases", "witnesses", "premises", "instances", "numerals", "denominators", "compute", "logs"]


def common(args) -> list[str]:
    return ["--policy", "menu+hyps", *sum((["--with", s] for s in args.sources), []),
            "--timeout", str(args.timeout), "--max-seconds", str(args.max_seconds), "--workers", str(args.workers)]


def run(cmd: list[str], log: Path) -> float:
    t0 = time.time()
    print("$", " ".join(cmd), flush=True)
    with log.open("a") as f:
        r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, cwd=ROOT)
    if r.returncode:
        raise SystemExit(f"failed ({r.returncode}): {' '.join(cmd)}; see {log}")
    return time.time() - t0


def arm_stats(db: Path) -> dict:
    c = sqlite3.connect(db)
    proved = {r[0] for r in c.execute("select distinct pr.problem from proofs pr where pr.accepted = 1")}
    att = c.execute("select count(*), sum(tries), sum(seconds), sum(expansions) from attempts").fetchone()
    per_source = {}
    for src, tries, secs in c.execute("select coalesce(source, ''), count(*), sum(seconds) from edges "
                                      "where message not like '[cached]%' group by 1"):
        per_source[src or "?"] = {"tries": tries, "seconds": round(secs or 0, 1)}
    # a proof uses a source when one of its steps is an edge of that source on the proof path
    for (pid,) in c.execute("select attempt_id from proofs where accepted = 1"):
        srcs = {r[0] for r in c.execute(
            "select distinct coalesce(e.source, '') from edges e join nodes n on n.attempt_id = e.attempt_id "
            "and n.id = e.src where e.attempt_id = ? and (e.outcome = 'proved' or (e.outcome = 'new' and "
            "exists (select 1 from nodes d where d.attempt_id = e.attempt_id and d.id = e.dst and "
            "d.status = 'proved'))) and n.status = 'proved'", [pid])}
        for s in srcs:
            per_source.setdefault(s or "?", {"tries": 0, "seconds": 0.0})
            per_source[s or "?"]["proofs_using"] = per_source[s or "?"].get("proofs_using", 0) + 1
    c.close()
    return {"proved": len(proved), "problems": sorted(proved), "attempts": att[0], "tries": att[1] or 0,
            "seconds": round(att[2] or 0, 1), "expansions": att[3] or 0, "per_source": per_source}


def offered(n_problems: int, sources: list[str]) -> dict:
    """Candidates each source proposes per node, on root states of valid problems (real Coq)."""
    from prover import backends
    from prover.policy.fixed import begin_sources
    from prover.policy.sources import make_source
    coq = backends.get("coq")
    srcs = [make_source(n, coq) for n in ["menu", "templates", *sources]]
    counts = {s.name: [] for s in srcs}
    env = coq.make_env(timeout=5)
    try:
        for p in coq.load_problems(split="valid")[:n_problems]:
            try:
                state = env.open(p)
            except Exception:
                continue
            begin_sources(srcs, p)
            for s in srcs:
                counts[s.name].append(len(s.candidates(state)))
    finally:
        env.close()

    def q(xs, f):
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(f * len(xs)))] if xs else 0
    return {k: {"median": statistics.median(v) if v else 0, "p90": q(v, 0.9), "states": len(v)}
            for k, v in counts.items()}


def budget_args(ap, train_expansions: int = 4) -> None:
    """The options every ranker bench shares: where, the tries, the budgets, the workers."""
    ap.add_argument("--out", default="runs/rank35")
    ap.add_argument("--tries", type=int, default=16)
    ap.add_argument("--expansions", type=int, default=8)
    ap.add_argument("--train-expansions", type=int, default=train_expansions)
    ap.add_argument("--timeout", type=float, default=1.0)
    ap.add_argument("--max-seconds", type=float, default=40.0)
    ap.add_argument("--workers", type=int, default=2)


def main() -> int:
    ap = argparse.ArgumentParser()
    budget_args(ap, train_expansions=6)
    ap.add_argument("--split", default="test")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--train-tries", type=int, default=24)
    ap.add_argument("--sources", nargs="*", default=SOURCES)
    ap.add_argument("--arms", nargs="*", default=["fixed", "random", "learned"])
    ap.add_argument("--skip-train", action="store_true", help="use OUT/ranker.json as it is")
    args = ap.parse_args()
    out = ROOT / args.out
    out.mkdir(parents=True, exist_ok=True)
    log = out / "log.txt"
    py = [sys.executable, "-m", "prover"]
    timings = json.loads((out / "timings.json").read_text()) if (out / "timings.json").exists() else {}
    if not args.skip_train:
        if "train" not in timings:
            timings["train"] = run(py + ["search", "--split", "valid", "--db", str(out / "train.db"),
                                         "--expansions", str(args.train_expansions), "--tries", str(args.train_tries),
                                         "--ranker", "random", *common(args)], log)
        if not (out / "ranker.json").exists():
            timings["ranker"] = run(py + ["rank", "train", "--db", str(out / "train.db"),
                                          "--out", str(out / "ranker.json")], log)
        (out / "timings.json").write_text(json.dumps(timings, indent=1))
    for arm in args.arms:
        order = str(out / "ranker.json") if arm == "learned" else arm
        key = f"arm:{arm}"
        if key not in timings:
            extra = ["--limit", str(args.limit)] if args.limit else []
            timings[key] = run(py + ["eval", "--split", args.split, "--db", str(out / f"{arm}.db"),
                                     "--expansions", str(args.expansions), "--tries", str(args.tries),
                                     "--ranker", order, "--label", f"eval:{arm}", *extra, *common(args)], log)
            (out / "timings.json").write_text(json.dumps(timings, indent=1))
    result = {"settings": vars(args), "timings": timings,
              "arms": {a: arm_stats(out / f"{a}.db") for a in args.arms if (out / f"{a}.db").exists()}}
    ranker = out / "ranker.json"
    if ranker.exists():
        result["ranker"] = json.loads(ranker.read_text())["meta"]
    if not (out / "offered.json").exists():
        (out / "offered.json").write_text(json.dumps(offered(40, args.sources), indent=1))
    result["offered"] = json.loads((out / "offered.json").read_text())
    (out / "ablation.json").write_text(json.dumps(result, indent=1))
    lines = [f"# Candidate order at {args.tries} tries per expansion ({args.split}, {args.expansions} expansions, "
             f"{args.timeout} s per tactic, {args.max_seconds} s per problem)", "",
             "| arm | proved | tries | search s | wall s |", "|---|---|---|---|---|"]
    for a, s in result["arms"].items():
        lines.append(f"| {a} | {s['proved']} | {s['tries']} | {s['seconds']} | {round(timings.get('arm:' + a, 0))} |")
    lines += ["", "| source | offered per node (median / p90) | " + " | ".join(f"{a}: tries / s / proofs using"
                                                                             for a in result["arms"]) + " |",
              "|---|---|" + "---|" * len(result["arms"])]
    for src, o in result["offered"].items():
        cells = []
        for a, s in result["arms"].items():
            ps = s["per_source"].get(src, {})
            cells.append(f"{ps.get('tries', 0)} / {ps.get('seconds', 0)} / {ps.get('proofs_using', 0)}")
        lines.append(f"| {src} | {o['median']} / {o['p90']} | " + " | ".join(cells) + " |")
    if "ranker" in result:
        lines += ["", f"ranker: {result['ranker'].get('examples')} examples at {result['ranker'].get('groups')} nodes; "
                      f"held-out {result['ranker'].get('heldout')}; sources' order {result['ranker'].get('heldout_fixed')}"]
    (out / "table.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
