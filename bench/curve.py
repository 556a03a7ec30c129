"""miniF2F test proved against the search budget (issue #14): 4, 8, 16, 32 and 64 expansions for
the menu, menu + templates and the learned policy, with the wall-clock each took; a plot
(``curve.png``), ``curve.json`` and a README-ready ``table.md`` under ``--out``.

Each policy has one database; the budgets run in increasing order as rounds 0, 1, 2, ... of it
(resumable), so a bigger budget finds the failure cache of the smaller ones, as the loop's
growing budgets do: its wall-clock is what that costs, not a search from an empty cache.
``--every N`` keeps every N-th problem (the whole curve of 244 problems at 64 expansions is
hours on 2 cores). Per-problem wall-clock limit: ``--seconds-per-expansion`` x budget.

    python bench/curve.py --model runs/medium/models/round_1 [--every 4] [--budgets 4 8 16 32 64]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def policies(model: str | None, retrieval: str | None):
    from prover.policy import PolicySpec
    out = {"menu": PolicySpec.named("menu"), "menu+templates": PolicySpec.named("menu+hyps")}
    if model:
        sources = ("menu", "templates") + (("retrieval",) if retrieval else ())
        spec = PolicySpec(sources=sources, generator="model", scorer="model", k=8, model=model)
        if retrieval:
            spec = spec.with_options("retrieval", corpus=retrieval)
        out["learned"] = spec
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="the learned policy's model directory (omit: no learned arm)")
    ap.add_argument("--retrieval-corpus", default=None, help="the learned policy also retrieves from this corpus")
    ap.add_argument("--out", default="runs/curve")
    ap.add_argument("--split", default="test")
    ap.add_argument("--every", type=int, default=1)
    ap.add_argument("--budgets", type=int, nargs="+", default=[4, 8, 16, 32, 64])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=1.0)
    ap.add_argument("--seconds-per-expansion", type=float, default=10.0)
    ap.add_argument("--only", nargs="*", default=None)
    args = ap.parse_args()
    from prover.db import ProofDB
    from prover.backends import load_problems
    from prover.search import SearchConfig
    from prover.search.runner import run_search

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    problems = load_problems("coq", split=args.split)[::args.every]
    deny = sorted(p.key for p in problems)
    path = out / "curve.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    specs = {name: spec for name, spec in policies(args.model, args.retrieval_corpus).items()
             if args.only is None or name in args.only}
    for r, budget in enumerate(args.budgets):  # budget-major: an interrupted run has every policy's small budgets
        for name, spec in specs.items():
            if "retrieval" in spec.sources:
                spec = spec.with_options("retrieval", deny=deny)
            key = f"{name}@{budget}"
            if key in results and results[key].get("n") == len(problems):
                continue
            cfg = SearchConfig(max_expansions=budget, tactic_timeout=args.timeout,
                               max_seconds=args.seconds_per_expansion * budget)
            with ProofDB(out / f"{name.replace('+', '_')}.db") as db:
                t0 = time.time()
                label = f"eval:{name}"  # an evaluation label: no pruning, retrieval or value learns from these trees
                s = run_search(problems, db, backend="coq", spec=spec, cfg=cfg, workers=args.workers, round=r,
                               label=label, desc=key)
                wall = time.time() - t0
                proved = db.accepted_problems(label, r) & {p.key for p in problems}
            results[key] = {"policy": name, "budget": budget, "proved": len(proved), "n": len(problems),
                            "wall_seconds": round(wall, 1), "expansions": s.expansions,
                            "cache_hits": s.cache_hits}
            path.write_text(json.dumps(results, indent=1))
            write_outputs(results, out, args.budgets)
            print(f"{key}: {len(proved)}/{len(problems)} in {wall:.0f} s", flush=True)
    write_outputs(results, out, args.budgets)
    return 0


def write_outputs(results: dict, out: Path, budgets) -> None:
    names = list(dict.fromkeys(r["policy"] for r in results.values()))
    n = next(iter(results.values()))["n"] if results else 0
    lines = ["| policy | " + " | ".join(f"{b} exp." for b in budgets) + " |",
             "|---|" + "---|" * len(budgets)]
    for name in names:
        cells = []
        for b in budgets:
            r = results.get(f"{name}@{b}")
            cells.append(f"{r['proved']}/{r['n']} ({r['wall_seconds'] / 60:.0f} min)" if r else "-")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    (out / "table.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    for name in names:
        pts = [(b, results[f"{name}@{b}"]) for b in budgets if f"{name}@{b}" in results]
        ax[0].plot([b for b, _ in pts], [r["proved"] for _, r in pts], marker="o", label=name)
        ax[1].plot([r["wall_seconds"] / 60 for _, r in pts], [r["proved"] for _, r in pts], marker="o", label=name)
    ax[0].set_xscale("log", base=2)
    ax[0].set_xlabel("expansions per problem")
    ax[1].set_xlabel("wall-clock minutes (2 workers)")
    for a in ax:
        a.set_ylabel(f"proved (of {n})")
        a.grid(alpha=0.3)
        a.legend()
    fig.suptitle("miniF2F test: proved against search budget")
    fig.tight_layout()
    fig.savefig(out / "curve.png", dpi=100)


if __name__ == "__main__":
    sys.exit(main())
