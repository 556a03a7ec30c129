"""The ``prover`` command: one entry point for checking, proving, searching and inspecting.

Every subcommand turns bad input (a missing file, a malformed problem, a corrupt
database) into one line on stderr and exit code 2, never a traceback.
"""
from __future__ import annotations

import argparse
import sys
import time

from prover.problems import ProblemError, load_problems


def _die(msg: str, code: int = 2) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return code


def cmd_check(args) -> int:
    from prover.check import check_file
    from pathlib import Path
    if not Path(args.file).is_file():
        return _die(f"{args.file}: no such file")
    problem = None
    if args.problem:
        try:
            if args.backend == "coq":
                from coq_env.problems import parse_file
            else:
                from lean_env.problems import parse_file
            problem = parse_file(args.problem)
        except ProblemError as e:
            return _die(str(e))
    kw = {"problem": problem} if problem is not None else {}
    if args.backend == "coq":
        from coq_env.check import check_file as impl
        v = impl(args.file, theorem=args.theorem, timeout=args.timeout, **kw)
    else:
        v = check_file(args.file, backend=args.backend, theorem=args.theorem, timeout=args.timeout)
    print(v.line())
    return 0 if v.accepted else 1


def _load(args):
    errors = []
    try:
        problems = load_problems(args.backend, args.problems, split=args.split, limit=args.limit,
                                 on_error=lambda p, m: errors.append(m))
    except ProblemError as e:
        raise SystemExit(_die(str(e)))
    for m in errors:
        print(f"skipped (malformed): {m}", file=sys.stderr)
    return problems


def cmd_prove(args) -> int:
    from tqdm import tqdm

    from prover.prove import _init, _job
    from prover.workers import WorkerPool
    if args.policy != "menu":
        return _die(f"unknown policy {args.policy!r}: `prover prove` runs the fixed menu; use `prover search --policy model`")
    menu = None
    if args.menu:
        from prover.policy import MenuPolicy
        menu = MenuPolicy.from_file(args.menu, args.backend).tactics
    problems = _load(args)
    if not problems:
        return _die("no problems to prove")
    pool = WorkerPool(args.workers, _init, (args.backend, args.timeout, menu))
    t0 = time.time()
    results = {}
    bar = tqdm(total=len(problems), desc="prove", unit="problem", file=sys.stderr)
    proved = 0
    for problem, res in pool.imap(_job, problems):
        if isinstance(res, dict):  # the worker failed on this problem
            from prover.prove import ProveResult
            res = ProveResult(problem.key, "error", message=res["error"])
        results[problem.key] = res
        proved += res.outcome == "proved"
        bar.update(1)
        bar.set_postfix(proved=proved)
    bar.close()
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


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="prover", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    c = sub.add_parser("check", help="independent verdict on a complete proof file")
    c.add_argument("file")
    c.add_argument("--backend", default="coq", choices=["coq", "lean"])
    c.add_argument("--theorem", default=None, help="theorem name (default: named like the file, else the last)")
    c.add_argument("--problem", default=None, help="problem file: the proof file must state exactly this problem")
    c.add_argument("--timeout", type=float, default=300.0)
    c.set_defaults(func=cmd_check)

    def problem_args(p):
        p.add_argument("--backend", default="coq", choices=["coq", "lean"])
        p.add_argument("--problems", default=None, help="problem directory (default: miniF2F of the backend)")
        p.add_argument("--split", default=None, help="valid or test (default: all)")
        p.add_argument("--limit", type=int, default=None)
        from prover.workers import default_workers
        p.add_argument("--workers", type=int, default=default_workers())
        p.add_argument("--timeout", type=float, default=5.0, help="seconds per tactic")

    p = sub.add_parser("prove", help="the floor: a fixed automation menu at each problem's root")
    problem_args(p)
    p.add_argument("--policy", default="menu")
    p.add_argument("--menu", default=None, help="file with one tactic a line (default: the built-in menu)")
    p.set_defaults(func=cmd_prove)

    from prover import iterate_cli, search_cli
    search_cli.register(sub, problem_args)
    iterate_cli.register(sub, problem_args)
    from prover import trace_cli, train_cli
    trace_cli.register(sub)
    train_cli.register(sub)
    from prover.db_cli import add_db_parser
    add_db_parser(sub)
    return ap


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return _die("interrupted", 130)


if __name__ == "__main__":
    sys.exit(main())
