"""``prover search``: best-first search over many problems in parallel, into a proof database
(the run loop is :func:`prover.search.runner.run_search`)."""
from __future__ import annotations

from prover.cli.common import (apply_engine, check_policy, die, engine_args, load_problems_or_exit, policy_args,
                               policy_spec, problem_args)
from prover.search.best_first import EXPANSIONS, SearchConfig as _Defaults  # the one default of each setting


def spec_and_config(args, deny=()):
    """The policy spec and search config of ``policy_args`` and ``search_args``; a bad policy,
    model or option is a one-line reason (the second element None). ``deny``: problem keys a
    retrieval source must never index."""
    from prover.search import SearchConfig
    try:
        spec = policy_spec(args, deny)
        cfg = SearchConfig(max_expansions=args.expansions, max_seconds=args.max_seconds,
                           tactic_timeout=args.timeout, length_norm=args.length_norm,
                           node_scorer=args.node_scorer, value_weight=args.value_weight,
                           scorer_options={"path": args.value_model} if args.value_model else None,
                           failure_cache=not getattr(args, "no_failure_cache", False),
                           prune_after=getattr(args, "prune_after", SearchConfig.prune_after),
                           cost_order=not getattr(args, "no_cost_order", False),
                           dedupe_renamed=not getattr(args, "keep_renamed", False),
                           widen=getattr(args, "widen", 0), widen_times=getattr(args, "widen_times", 2),
                           tries=getattr(args, "tries", 0) or 0, menu_tries=getattr(args, "menu_tries", 0) or 0,
                           batch_states=getattr(args, "batch_states", 1))
        if cfg.node_scorer:  # a missing or bad value model fails here, in one line
            from prover.search.scorers import make_scorer
            make_scorer(cfg.node_scorer, **(cfg.scorer_options or {}))
    except ValueError as e:
        return str(e), None
    why = check_policy(spec)  # a missing or bad model fails here, in one line
    return (why, None) if why else (spec, cfg)


def cmd_search(args) -> int:
    from prover.backends import check_available
    from prover.db import DBError, ProofDB
    from prover.env import EnvError
    from prover.search.runner import run_search
    spec, cfg = spec_and_config(args)
    if cfg is None:
        return die(spec)
    try:
        check_available(args.backend)
    except EnvError as e:
        return die(str(e))
    problems = load_problems_or_exit(args)
    if not problems:
        return die("no problems to search")
    try:
        db = ProofDB(args.db)
    except DBError as e:
        return die(str(e))
    with db:
        try:
            s = run_search(problems, db, backend=args.backend, spec=spec, cfg=cfg, workers=args.workers,
                           round=args.round, engine=apply_engine(args))
        except DBError as e:  # a full disk, a database another program broke: what was written stays
            return die(f"{e} (every attempt recorded before this one is kept; run again to resume)")
        total_proved = len(db.accepted_problems() & {p.key for p in problems})
    print(f"searched {s.attempted} (skipped {s.skipped} finished), proved {s.proved} this run, "
          f"{total_proved}/{len(problems)} proved in the database; "
          f"{s.expansions} expansions, {s.expansions_per_second:.2f}/s; {s.cache_hits} tries answered by "
          f"the failure cache; " + (f"{s.widened} expansions widened a dead tree; " if s.widened else "")
          + f"outcomes {s.outcomes}")
    return 0


def search_args(p) -> None:
    """The search budget options shared by ``search`` and ``eval``."""
    p.add_argument("--max-seconds", type=float, default=_Defaults.max_seconds, help="wall-clock per problem")
    p.add_argument("--length-norm", action="store_true", help="order the frontier by mean log-probability")
    p.add_argument("--node-scorer", default=None,
                   help="a node scorer of prover.search.scorers (e.g. fewer_goals): adds a value to the priority")
    p.add_argument("--value-weight", type=float, default=_Defaults.value_weight, help="priority = log-probability + this * value")
    p.add_argument("--value-model", default=None, metavar="FILE",
                   help="with --node-scorer value: the model `prover value` trained")
    p.add_argument("--no-failure-cache", action="store_true",
                   help="try every (goal, tactic) again, even those that failed before in this database")
    p.add_argument("--no-cost-order", action="store_true",
                   help="try the candidates in the policy's order, each under the same time limit")
    p.add_argument("--keep-renamed", action="store_true",
                   help="a state equal to a node's up to local names is a new node (default: a dead end)")
    p.add_argument("--prune-after", type=int, default=_Defaults.prune_after, metavar="N",
                   help="a tactic that never succeeded in N tries of the database's training searches at the root "
                        "(or below it) is not tried there (0: off)")
    p.add_argument("--widen", type=int, default=_Defaults.widen, metavar="N",
                   help="once every open node is expanded and budget is left, expand expanded nodes again "
                        "with N candidates not tried there (model samples, the sources' next page; with --tries, first the "
                        "candidates the budget left untried, N at a time; 0: off)")
    p.add_argument("--widen-times", type=int, default=_Defaults.widen_times, metavar="T", help="with --widen: at most T times per node")
    p.add_argument("--tries", type=int, default=_Defaults.tries, metavar="N",
                   help="prover calls per expansion: the N best-ranked candidates not answered by the failure "
                        "cache (0: every candidate)")
    p.add_argument("--menu-tries", type=int, default=_Defaults.menu_tries, metavar="M",
                   help="with --tries N: M of the N are kept for the menu's best candidates (0: none kept)")
    p.add_argument("--batch-states", type=int, default=_Defaults.batch_states, metavar="B",
                   help="states per policy call: an expansion also asks for the next B-1 best open nodes, "
                        "one generate call for B states (a GPU policy; beam gives the same search as 1)")
    p.add_argument("--round", type=int, default=0)
    engine_args(p)


def register(sub) -> None:
    p = sub.add_parser("search", help="best-first search into a proof database")
    problem_args(p)
    policy_args(p)
    p.add_argument("--db", required=True, help="proof database, e.g. runs/NAME/proofs.db")
    p.add_argument("--expansions", type=int, default=EXPANSIONS, help=f"expansions per problem (default {EXPANSIONS})")
    search_args(p)
    p.set_defaults(func=cmd_search)
