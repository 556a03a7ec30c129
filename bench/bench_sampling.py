"""Which decoder gives the search more distinct tactics that work: beam search, or sampling
(temperature, nucleus) with de-duplication? Same model, same problems, same budget, in one run.

The policy is the model alone (no menu, no templates: only generated tactics are counted).
Per expansion: distinct tactics tried, and distinct *successful* ones (the prover accepted
them: a new state, a known state or a finished proof); plus problems proved and seconds.

    python bench/bench_sampling.py --model runs/NAME/models/round_R [--problems 24] [--expansions 4]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from prover.db import ProofDB  # noqa: E402
from prover.policy import model_spec  # noqa: E402
from prover.backends import load_problems  # noqa: E402
from prover.search import SearchConfig  # noqa: E402
from prover.search.runner import run_search  # noqa: E402

DECODERS = {
    "beam": {"mode": "beam"},
    "sample T=1.0": {"mode": "sample", "temperature": 1.0},
    "sample T=1.0 p=0.95": {"mode": "sample", "temperature": 1.0, "top_p": 0.95},
    "sample T=0.7": {"mode": "sample", "temperature": 0.7},
}


def measure(db, label: str) -> dict:
    rows = db.query("select e.src, e.attempt_id, e.tactic, e.outcome from edges e join attempts a "
                    "on a.id = e.attempt_id where a.policy = ?", [label])
    tried: dict = {}
    ok: dict = {}
    for r in rows:
        node = (r["attempt_id"], r["src"])
        tried.setdefault(node, set()).add(r["tactic"])
        if r["outcome"] in ("new", "dup", "proved"):
            ok.setdefault(node, set()).add(r["tactic"])
    n = max(1, len(tried))
    return {"expansions": len(tried), "tried": sum(map(len, tried.values())) / n,
            "successful": sum(map(len, ok.values())) / n}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--problems", type=int, default=24)
    ap.add_argument("--split", default="valid")
    ap.add_argument("--expansions", type=int, default=4)
    ap.add_argument("--k", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    problems = load_problems("coq", split=args.split, limit=args.problems)
    cfg = SearchConfig(max_expansions=args.expansions, tactic_timeout=1.0, max_seconds=40)
    print(f"{len(problems)} {args.split} problems, {args.expansions} expansions, k={args.k}, model {args.model}")
    print(f"  {'decoder':<22} {'tried/exp':>9} {'worked/exp':>10} {'proved':>7} {'seconds':>8}")
    with tempfile.TemporaryDirectory() as tmp, ProofDB(Path(tmp) / "s.db") as db:
        for name, decode in DECODERS.items():
            spec = model_spec(args.model, {"k": args.k, "max_new_tokens": 32, **decode})
            t0 = time.time()
            s = run_search(problems, db, backend="coq", spec=spec, cfg=cfg, workers=args.workers,
                           label=name, progress=False)
            m = measure(db, name)
            print(f"  {name:<22} {m['tried']:9.2f} {m['successful']:10.2f} {s.proved:7d} {time.time() - t0:8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
