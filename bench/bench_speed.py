"""Search that spends its time well (issue #14), before and after, in one run on the same problems.

Each arm searches the same miniF2F problems ``--rounds`` times into one database, the way the
loop does: a round at a small budget, then rounds at twice the budget (the loop's growth, and
each round's re-search and re-evaluation of the same goals), 2 workers, the menu policy (so
the figures measure search, Coq and the database, not a model):

    before       the plain menu, every candidate in the policy's order under one time limit, no cache
    cache+order  the plain menu with the failure cache and the cost order
    +prune       ... and learned pruning (a tactic never successful in ``--prune-after`` earlier
                 tries at the root, or below it, is not tried there; the presets use 100 on
                 244-problem searches, the bench's 24 problems need a smaller threshold to learn
                 anything in 3 searches)
    after        ... and the menu with the enabled automation (CoqHammer's sauto and qauto)

Reports expansions per second, proofs, proofs per hour and the tries the cache answered.

    python bench/bench_speed.py [--problems 24] [--split valid] [--expansions 4] [--prune-after 30]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coq_env.backend import MENU  # noqa: E402
from prover.db import ProofDB  # noqa: E402
from prover.policy import PolicySpec  # noqa: E402
from prover.backends import load_problems  # noqa: E402
from prover.search import SearchConfig  # noqa: E402
from prover.search.runner import run_search  # noqa: E402

PRUNE = "prune"  # the arm's prune_after: --prune-after
ARMS = {
    "before": (PolicySpec(sources=("menu",), options={"menu": {"tactics": list(MENU)}}),
               {"failure_cache": False, "cost_order": False, "prune_after": 0}),
    "cache+order": (PolicySpec(sources=("menu",), options={"menu": {"tactics": list(MENU)}}),
                    {"failure_cache": True, "cost_order": True, "prune_after": 0}),
    "+prune": (PolicySpec(sources=("menu",), options={"menu": {"tactics": list(MENU)}}),
               {"failure_cache": True, "cost_order": True, "prune_after": PRUNE}),
    "after": (PolicySpec(sources=("menu",)), {"failure_cache": True, "cost_order": True, "prune_after": PRUNE}),
}


def arm(name: str, problems, budgets, db_path: Path, workers: int, timeout: float, prune_after: int) -> dict:
    spec, options = ARMS[name]
    options = {k: prune_after if v == PRUNE else v for k, v in options.items()}
    out = {"expansions": 0, "seconds": 0.0, "cache_hits": 0}
    with ProofDB(db_path) as db:
        for r, budget in enumerate(budgets):
            cfg = SearchConfig(max_expansions=budget, tactic_timeout=timeout, max_seconds=60, **options)
            t0 = time.time()
            s = run_search(problems, db, backend="coq", spec=spec, cfg=cfg, workers=workers, round=r,
                           progress=False, label=name)
            out["seconds"] += time.time() - t0
            out["expansions"] += s.expansions
            out["cache_hits"] += s.cache_hits
        out["proved"] = len(db.accepted_problems() & {p.key for p in problems})
    out["eps"] = out["expansions"] / out["seconds"]
    out["per_hour"] = out["proved"] / out["seconds"] * 3600
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", type=int, default=24)
    ap.add_argument("--split", default="valid")
    ap.add_argument("--expansions", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=1.0)
    ap.add_argument("--rounds", type=int, default=3,
                    help="searches of the same problems: the budget, then twice it for the rest (the default "
                         "preset's 3 rounds re-search and re-evaluate the same goals each round)")
    ap.add_argument("--prune-after", type=int, default=30)
    args = ap.parse_args(argv)
    problems = load_problems("coq", split=args.split)[::max(1, 244 // args.problems)][:args.problems]
    with tempfile.TemporaryDirectory() as tmp:
        budgets = [args.expansions] + [2 * args.expansions] * (args.rounds - 1)
        res = {name: arm(name, problems, budgets, Path(tmp) / f"{name}.db", args.workers, args.timeout,
                         args.prune_after)
               for name in ARMS}
    print(f"{len(problems)} miniF2F {args.split} problems, menu policy, {args.workers} workers, "
          f"{args.rounds} searches of them at {', '.join(map(str, budgets))} expansions, {args.timeout:g} s per tactic, "
          f"prune after {args.prune_after}")
    print(f"{'arm':>12} {'expansions':>11} {'seconds':>8} {'exp/s':>7} {'proved':>7} {'proofs/h':>9} {'cache hits':>11}")
    for name, r in res.items():
        print(f"{name:>12} {r['expansions']:>11} {r['seconds']:>8.1f} {r['eps']:>7.2f} {r['proved']:>7} "
              f"{r['per_hour']:>9.1f} {r['cache_hits']:>11}")
    b = res["before"]
    for name in ("cache+order", "+prune", "after"):
        a = res[name]
        print(f"{name} / before: {a['eps'] / b['eps']:.2f}x expansions per second, "
              f"{a['per_hour'] / max(b['per_hour'], 1e-9):.2f}x proofs per hour, proved {b['proved']} -> {a['proved']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
