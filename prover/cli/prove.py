"""``prover prove``: the floor, the fixed automation menu tried at each problem's root (no
search, no model); ``prover search`` is the search."""
from __future__ import annotations

import time

from prover.cli.common import apply_engine, die, engine_args, load_problems_or_exit, problem_args


def cmd_prove(args) -> int:
    from prover.floor import run_floor
    menu = None
    if args.menu:
        from prover.policy import MenuPolicy
        menu = MenuPolicy.from_file(args.menu, args.backend).tactics
    problems = load_problems_or_exit(args)
    if not problems:
        return die("no problems to prove")
    t0 = time.time()
    results = run_floor(problems, args.backend, args.timeout, menu, workers=args.workers, engine=apply_engine(args))
    proved = sum(r.outcome == "proved" for r in results.values())
    for p in problems:
        r = results[p.key]
        if r.outcome == "proved":
            print(f"{p.key}: proved ({r.seconds:.1f}s) by {' '.join(r.proof)}")
        elif r.outcome == "skipped":
            print(f"{p.key}: skipped: {r.message}")
        elif r.outcome == "error":
            print(f"{p.key}: error: {r.message}")
        else:
            extra = f"; {len(r.rejected)} finished proof(s) rejected by check" if r.rejected else ""
            print(f"{p.key}: failed ({r.tried} tactics, {r.seconds:.1f}s{extra})")
    attempted = [r for r in results.values() if r.outcome != "skipped"]
    skipped = len(results) - len(attempted)
    print(f"proved {proved}/{len(attempted)}" + (f" ({skipped} skipped: do not elaborate)" if skipped else "")
          + f" in {time.time() - t0:.0f}s")
    return 0


def register(sub) -> None:
    p = sub.add_parser("prove", help="the floor: a fixed automation menu at each problem's root")
    problem_args(p)
    p.add_argument("--menu", default=None, help="file with one tactic a line (default: the built-in menu)")
    engine_args(p)
    p.set_defaults(func=cmd_prove)
