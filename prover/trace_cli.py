"""``prover trace``: turn the installed proof-assistant sources into (goals, tactic) pairs.

The corpus of the tactic model (issue "The tactic model", item 1). Coq is traced here by
replaying each source file in coqtop (``coq_env.trace``); Lean's Mathlib is traced by
LeanDojo, which needs a live Lean toolchain.
"""
from __future__ import annotations

import json
import sys

LEAN_NEEDS = "tracing Lean needs LeanDojo and a live Lean toolchain (make lean-setup)"


def cmd_trace_lean(args) -> int:
    """``prover trace --backend lean``: LeanDojo traces a Lean repository (Mathlib at
    miniF2F-lean4's revision by default) into the same corpus format."""
    from lean_env.paths import lake
    from lean_env.trace import MATHLIB_URL, LeanDojoMissing, trace_repo
    if lake() is None:
        print(f"error: {LEAN_NEEDS}: no lake found", file=sys.stderr)
        return 2
    try:
        summary = trace_repo(args.out, url=args.repo or MATHLIB_URL, commit=args.commit)
    except LeanDojoMissing as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps({k: summary[k] for k in ("source", "pairs", "files", "wall_seconds")}))
    return 0


def cmd_trace(args) -> int:
    if args.backend == "lean":
        return cmd_trace_lean(args)
    from coq_env.coqtop import CoqMissing, find_coqtop
    from coq_env.trace import trace_corpus
    try:
        find_coqtop()
    except CoqMissing as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    summary = trace_corpus(args.out, files=args.files, workers=args.workers, timeout=args.timeout,
                           limit_files=args.limit_files, progress=not args.quiet, roots=args.roots,
                           file_budget=args.file_budget)
    brief = {
        "out": args.out,
        "pairs": {k: summary["pairs"][k] for k in ("train", "heldout")},
        "files": {k: summary["files"][k] for k in ("done", "traced", "partial", "skipped")},
        "proofs": {k: summary["proofs"][k] for k in ("replayed", "failed", "admitted", "aborted")},
        "this_run": {k: summary["this_run"][k] for k in ("traced", "resumed", "wall_seconds")},
    }
    print(json.dumps(brief))
    return 0 if not summary["this_run"]["worker_errors"] else 1


def register(sub) -> None:
    p = sub.add_parser("trace", help="trace library proofs into (goal state, tactic) pairs")
    p.add_argument("--backend", default="coq", choices=["coq", "lean"])
    p.add_argument("--out", default="runs/corpus", help="output directory (re-running resumes)")
    p.add_argument("--limit-files", type=int, default=None, help="trace at most N files")
    p.add_argument("--files", action="append", default=None, metavar="GLOB",
                   help="a file, a directory, or a glob on the relative names "
                        "(e.g. 'theories/Arith/*'); repeatable")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--timeout", type=float, default=20.0, help="seconds per sentence")
    p.add_argument("--file-budget", type=float, default=300.0, help="seconds per file")
    p.add_argument("--roots", action="append", default=None, metavar="DIR",
                   help="an extra source directory (its _CoqProject -R/-Q lines are used); repeatable")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--repo", default=None, help="lean: the Git repository LeanDojo traces (default: Mathlib)")
    p.add_argument("--commit", default=None,
                   help="lean: its commit (default: the Mathlib revision miniF2F-lean4 pins)")
    p.set_defaults(func=cmd_trace)
