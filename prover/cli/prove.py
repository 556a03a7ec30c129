"""``prover check`` (the independent verdict on one file) and ``prover prove`` (the floor:
the fixed menu at each problem's root)."""
from __future__ import annotations

import time

from prover.cli.common import apply_engine, backend_arg, die, engine_args, load_problems_or_exit, problem_args


def cmd_check(args) -> int:
    from pathlib import Path

    from prover import backends
    from prover.problems import ProblemError
    if not Path(args.file).is_file():
        return die(f"{args.file}: no such file")
    backend = backends.get(args.backend)
    problem = None
    if args.problem:
        try:
            problem = backend.parse_problem(args.problem)
        except ProblemError as e:
            return die(str(e))
    try:
        v = backend.check_file(args.file, theorem=args.theorem, timeout=args.timeout, problem=problem,
                               second_opinion=args.second_opinion)
    except ValueError as e:
        return die(str(e))
    print(v.line())
    return 0 if v.accepted else 1


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
    c = sub.add_parser("check", help="independent verdict on a complete proof file")
    c.add_argument("file")
    backend_arg(c)
    c.add_argument("--theorem", default=None, help="theorem name (default: named like the file, else the last)")
    c.add_argument("--problem", default=None, help="problem file: the proof file must state exactly this problem")
    c.add_argument("--timeout", type=float, default=300.0)
    c.add_argument("--second-opinion", action="store_true",
                   help="also re-check the compiled file with the backend's independent kernel checker "
                        "(Coq: coqchk, about 40 s for a file that loads Reals)")
    c.set_defaults(func=cmd_check)

    p = sub.add_parser("prove", help="the floor: a fixed automation menu at each problem's root")
    problem_args(p)
    p.add_argument("--policy", default="menu", choices=["menu"],
                   help="`prover prove` runs the fixed menu; use `prover search --policy model` for a model")
    p.add_argument("--menu", default=None, help="file with one tactic a line (default: the built-in menu)")
    engine_args(p)
    p.set_defaults(func=cmd_prove)
