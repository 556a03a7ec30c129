"""The Ray engine's overhead (issue #15): expansions per second with the local process pool and
with Ray actors, on the same problems, workers and budget, in one run.

Ray is a private single-machine cluster bound to 127.0.0.1 (what ``--engine ray`` starts when no
``--address`` or ``RAY_ADDRESS`` is given); its start-up is timed apart from the search. The
menu policy is used, so the figure is the engine's cost around search, Coq and the database.

    python bench/bench_ray.py [--problems 24] [--expansions 2] [--workers 2]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prover.db import ProofDB  # noqa: E402
from prover.policy import PolicySpec  # noqa: E402
from prover.backends import load_problems  # noqa: E402
from prover.search import SearchConfig  # noqa: E402
from prover.search.runner import run_search  # noqa: E402


def timed(problems, engine: str, db_path: Path, workers: int, expansions: int) -> dict:
    cfg = SearchConfig(max_expansions=expansions, tactic_timeout=1.0, max_seconds=60, failure_cache=False)
    with ProofDB(db_path) as db:
        t0 = time.time()
        s = run_search(problems, db, backend="coq", spec=PolicySpec(sources=("menu",)), cfg=cfg, workers=workers,
                       engine=engine, progress=False)
        wall = time.time() - t0
        proofs = {k: v["proof"] for k, v in db.best_proofs().items()}
    return {"seconds": wall, "expansions": s.expansions, "eps": s.expansions / wall, "proved": s.proved,
            "proofs": proofs}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", type=int, default=24)
    ap.add_argument("--expansions", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    try:
        import ray
    except ImportError:
        print("ray is not installed (make setup)")
        return 1
    from prover.engines.ray_pool import _connect
    problems = load_problems("coq", split="valid")[::max(1, 244 // args.problems)][:args.problems]
    t0 = time.time()
    _connect(None)  # a private Ray on 127.0.0.1, started once
    start = time.time() - t0
    with tempfile.TemporaryDirectory() as tmp:
        local = timed(problems, "local", Path(tmp) / "local.db", args.workers, args.expansions)
        on_ray = timed(problems, "ray", Path(tmp) / "ray.db", args.workers, args.expansions)
    ray.shutdown()
    print(f"{len(problems)} miniF2F valid problems, menu policy, {args.workers} workers, "
          f"{args.expansions} expansions each, no failure cache (the same work in both)")
    print(f"{'engine':>7} {'expansions':>11} {'seconds':>8} {'exp/s':>7} {'proved':>7}")
    for name, r in (("local", local), ("ray", on_ray)):
        print(f"{name:>7} {r['expansions']:>11} {r['seconds']:>8.1f} {r['eps']:>7.2f} {r['proved']:>7}")
    differ = sorted(k for k in set(local["proofs"]) | set(on_ray["proofs"])
                    if local["proofs"].get(k) != on_ray["proofs"].get(k))
    same = "the same proofs" if not differ else (
        "different proofs for " + "; ".join(f"{k}: {local['proofs'].get(k)!r} vs {on_ray['proofs'].get(k)!r}"
                                           for k in differ) + " (a tactic near its time limit on a loaded machine)")
    print(f"ray / local: {on_ray['eps'] / local['eps']:.2f}x expansions per second ({same}); "
          f"Ray start-up {start:.1f} s, once per run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
