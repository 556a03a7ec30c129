"""``prover trace``: turn a proof assistant's library into (goals, tactic) pairs, the corpus
of the tactic model. Each backend traces its own way (``Backend.trace``): Coq by replaying
the installed sources in coqtop, Lean's Mathlib by LeanDojo, which needs a live Lean."""
from __future__ import annotations

import json

from prover.cli.common import apply_engine, backend_arg, die, engine_args

COQ_OPTIONS = ("limit_files", "files", "timeout", "file_budget", "roots")
LEAN_OPTIONS = ("repo", "commit")


def cmd_trace(args) -> int:
    from prover import backends
    from prover.env import EnvError
    options = {k: getattr(args, k) for k in COQ_OPTIONS + LEAN_OPTIONS if getattr(args, k) is not None}
    engine = apply_engine(args, default=None)
    if engine:  # a tracer without engines says so in one line
        options["engine"] = engine
    try:
        out = backends.get(args.backend).trace(args.out, workers=args.workers, progress=not args.quiet, **options)
    except (EnvError, ValueError) as e:
        return die(str(e))
    print(json.dumps(out["brief"]))
    return 0 if out["ok"] else 1


def register(sub) -> None:
    p = sub.add_parser("trace", help="trace library proofs into (goal state, tactic) pairs")
    backend_arg(p)
    p.add_argument("--out", default="runs/corpus", help="output directory (re-running resumes)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    engine_args(p)
    coq = p.add_argument_group("coq (replayed in coqtop)")
    coq.add_argument("--limit-files", type=int, default=None, help="trace at most N files")
    coq.add_argument("--files", action="append", default=None, metavar="GLOB",
                     help="a file, a directory, or a glob on the relative names "
                          "(e.g. 'theories/Arith/*'); repeatable")
    coq.add_argument("--timeout", type=float, default=None, help="seconds per sentence (default 20)")
    coq.add_argument("--file-budget", type=float, default=None, help="seconds per file (default 300)")
    coq.add_argument("--roots", action="append", default=None, metavar="DIR",
                     help="an extra source directory (its _CoqProject -R/-Q lines are used); repeatable")
    lean = p.add_argument_group("lean (LeanDojo)")
    lean.add_argument("--repo", default=None, help="the Git repository LeanDojo traces (default: Mathlib)")
    lean.add_argument("--commit", default=None,
                      help="its commit (default: the Mathlib revision miniF2F-lean4 pins)")
    p.set_defaults(func=cmd_trace)
