"""``prover eval``: one policy on one split at one fixed budget, into a proof database (its
attempts carry an evaluation label, so they never train anything)."""
from __future__ import annotations

from prover.cli.common import apply_engine, die, load_problems_or_exit, policy_args, problem_args
from prover.cli.search import search_args, spec_and_config
from prover.search.best_first import EXPANSIONS


def cmd_eval(args) -> int:
    from prover.db import DBError, ProofDB
    from prover.search.runner import run_search
    problems = load_problems_or_exit(args)
    spec, cfg = spec_and_config(args, deny=[p.key for p in problems])  # evaluated problems never retrieved
    if cfg is None:
        return die(spec)
    try:
        db = ProofDB(args.db)
    except DBError as e:
        return die(str(e))
    label = args.label or f"eval:{spec.label}:{args.model or 'menu'}"
    with db:
        try:
            s = run_search(problems, db, backend=args.backend, spec=spec, cfg=cfg, workers=args.workers,
                           round=args.round, label=label, desc="eval", engine=apply_engine(args))
        except DBError as e:  # a full disk...: what was written stays
            return die(f"{e} (every attempt recorded before this one is kept; run again to resume)")
        proved = db.accepted_problems(label, args.round) & {p.key for p in problems}
    print(f"proved {len(proved)}/{len(problems)} ({label}, {args.expansions} expansions per problem; "
          f"{s.expansions_per_second:.2f} expansions/s; {s.cache_hits} tries answered by the failure cache; "
          + (f"{s.widened} expansions widened a dead tree; " if s.widened else "") + f"recorded in {args.db})")
    return 0


def register(sub) -> None:
    e = sub.add_parser("eval", help="evaluate one policy on a split at a fixed budget, into a database")
    problem_args(e)
    e.set_defaults(split="test")
    policy_args(e, default="model")
    e.add_argument("--db", default="runs/eval/proofs.db")
    e.add_argument("--expansions", type=int, default=EXPANSIONS,
                   help=f"expansions per problem (the budget; default {EXPANSIONS})")
    e.add_argument("--label", default=None, help="policy label in the database")
    search_args(e)
    e.set_defaults(func=cmd_eval)
