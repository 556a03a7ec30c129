"""Benchmark best-first search: expansions per second with 1 and 2 workers (same problems,
same budget, one run), the proof database's size per 100 attempts, a kill/resume check, and
mixed per-problem budgets (active selection) run on one worker pool against one pool per
distinct budget (how runs were organised before the budget travelled with each job).

The menu policy is used so that the numbers measure search + Coq + database, not a model.
"""
from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coq_env.problems import load_dir  # noqa: E402
from prover.db import ProofDB  # noqa: E402
from prover.policy import PolicySpec  # noqa: E402
from prover.search import SearchConfig  # noqa: E402
from prover.search.runner import run_search  # noqa: E402


def timed_search(problems, workers: int, expansions: int, db_path: Path) -> dict:
    cfg = SearchConfig(max_expansions=expansions, tactic_timeout=2.0, max_seconds=60)
    with ProofDB(db_path) as db:
        t0 = time.time()
        s = run_search(problems, db, backend="coq", spec=PolicySpec.named("menu"), cfg=cfg, workers=workers,
                       progress=False)
        wall = time.time() - t0
        db.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        proved = s.proved
    size = db_path.stat().st_size
    return {"workers": workers, "expansions": s.expansions, "seconds": wall,
            "eps": s.expansions / wall, "proved": proved, "attempts": s.attempted,
            "db_kb_per_100": size / 1024 / max(1, s.attempted) * 100}


def mixed_budgets(problems, tmp: Path, workers: int = 2) -> dict:
    """The same problems and per-problem budgets (1, 2, 4, 8 expansions in turn), searched
    by one run_search on one pool, and by one run_search (one pool) per distinct budget."""
    cfg = SearchConfig(tactic_timeout=2.0, max_seconds=60)
    budgets = {p.key: (1, 2, 4, 8)[i % 4] for i, p in enumerate(problems)}
    spec = PolicySpec.named("menu")
    with ProofDB(tmp / "one.db") as db:
        t0 = time.time()
        one = run_search(problems, db, backend="coq", spec=spec, cfg=cfg, workers=workers, budgets=budgets,
                         progress=False)
        one_s = time.time() - t0
    with ProofDB(tmp / "many.db") as db:
        t0 = time.time()
        proved = expansions = 0
        for b in sorted(set(budgets.values())):
            group = [p for p in problems if budgets[p.key] == b]
            s = run_search(group, db, backend="coq", spec=spec, cfg=SearchConfig(**{**cfg.as_dict(), "max_expansions": b}),
                           workers=workers, progress=False)
            proved, expansions = proved + s.proved, expansions + s.expansions
        many_s = time.time() - t0
    return {"one": (one_s, one.proved, one.expansions), "many": (many_s, proved, expansions),
            "groups": len(set(budgets.values()))}


def resume_check(n: int, tmp: Path) -> dict:
    db = tmp / "resume.db"
    args = [sys.executable, "-m", "prover.cli", "search", "--split", "valid", "--limit", str(n),
            "--db", str(db), "--workers", "1", "--expansions", "2", "--timeout", "2"]
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    count = 0
    while time.time() < deadline and p.poll() is None:
        time.sleep(0.3)
        try:
            with sqlite3.connect(db) as c:
                count = c.execute("select count(*) from attempts").fetchone()[0]
        except sqlite3.Error:
            continue
        if count >= n // 2:
            break
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    with sqlite3.connect(db) as c:
        before = c.execute("select count(*) from attempts").fetchone()[0]
        proofs_before = c.execute("select count(*) from proofs where accepted = 1").fetchone()[0]
    out = subprocess.run(args, capture_output=True, text=True).stdout
    with sqlite3.connect(db) as c:
        after = c.execute("select count(*) from attempts").fetchone()[0]
        distinct = c.execute("select count(distinct problem) from attempts").fetchone()[0]
        proofs_after = c.execute("select count(*) from proofs where accepted = 1").fetchone()[0]
    return {"killed_after": before, "after_resume": after, "distinct": distinct,
            "proofs_before": proofs_before, "proofs_after": proofs_after, "line": out.strip()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", type=int, default=16)
    ap.add_argument("--expansions", type=int, default=4)
    args = ap.parse_args(argv)
    problems = load_dir(split="valid", limit=args.problems)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        one = timed_search(problems, 1, args.expansions, tmp / "w1.db")
        two = timed_search(problems, 2, args.expansions, tmp / "w2.db")
        res = resume_check(8, tmp)
        mixed = mixed_budgets(problems, tmp)
    print(f"{'workers':>8} {'expansions':>11} {'seconds':>8} {'exp/s':>7} {'proved':>7} {'DB KB/100 attempts':>19}")
    for r in (one, two):
        print(f"{r['workers']:>8} {r['expansions']:>11} {r['seconds']:>8.1f} {r['eps']:>7.2f} "
              f"{r['proved']:>7} {r['db_kb_per_100']:>19.0f}")
    print(f"2 workers vs 1: {two['eps'] / one['eps']:.2f}x expansions per second "
          f"({args.problems} miniF2F valid problems, menu policy, {args.expansions} expansions each)")
    (o_s, o_p, o_e), (m_s, m_p, m_e) = mixed["one"], mixed["many"]
    print(f"mixed budgets (1/2/4/8 expansions, 2 workers): one pool {o_s:.1f}s ({o_p} proved, {o_e} expansions), "
          f"a pool per budget ({mixed['groups']} pools) {m_s:.1f}s ({m_p} proved, {m_e} expansions): "
          f"{m_s / o_s:.2f}x faster with one pool")
    ok = res["after_resume"] == res["distinct"] == 8 and res["proofs_after"] >= res["proofs_before"]
    print(f"kill/resume: killed with {res['killed_after']} attempts recorded, "
          f"{res['after_resume']} after resuming ({res['distinct']} distinct problems), accepted proofs "
          f"{res['proofs_before']} -> {res['proofs_after']}: {'ok' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
