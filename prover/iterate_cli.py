"""``prover iterate`` (the main job) and ``prover eval`` (one model, one split, one budget)."""
from __future__ import annotations


def cmd_iterate(args) -> int:
    from prover.cli import _die
    from prover.db import DBError
    from prover.env import EnvError
    from prover.iterate import ConfigError, Experiment, IterateConfig, LeakError
    try:
        cfg = IterateConfig.load(args.config, backend=args.backend, name=args.name, rounds=args.rounds,
                                 workers=args.workers)
        from prover.backends import check_available
        check_available(cfg.backend)  # before runs/NAME/ is made: a missing prover leaves nothing behind
        exp = Experiment(cfg, progress=not args.quiet)
        rows = exp.run()
    except (ConfigError, DBError, LeakError, EnvError) as e:
        return _die(str(e))
    except Exception as e:  # a missing model, a corrupt corpus...: one line, the run can resume
        from prover.model import ModelError
        if isinstance(e, (ModelError, ValueError, FileNotFoundError)):
            return _die(f"{type(e).__name__}: {e}")
        raise
    print(f"results in {exp.dir}/ (rounds.csv, progress.png, proofs.db)")
    for r in rows:
        print(f"round {r['round']}: valid {r['valid_proved']}/{r['pool_size']}, test {r['test_proved']}/"
              f"{r['test_size']} (menu baseline {r['menu_baseline_test']}), new proofs {r['new_proofs']}")
    return 0


def cmd_eval(args) -> int:
    from prover.cli import _die, _load
    from prover.db import DBError, ProofDB
    from prover.model import ModelError, load
    from prover.search import SearchConfig
    from prover.search_cli import decode_flags, run_search
    if args.policy == "model":
        try:
            load(args.model)
        except ModelError as e:
            return _die(str(e))
    problems = _load(args)
    cfg = SearchConfig(max_expansions=args.expansions, tactic_timeout=args.timeout, k=args.k,
                       max_seconds=args.max_seconds)
    try:
        db = ProofDB(args.db)
    except DBError as e:
        return _die(str(e))
    menu = args.policy == "model" and args.with_menu
    hyps = args.policy == "model" and args.with_hyps
    decode = decode_flags(menu, hyps)
    label = args.label or (f"eval:{args.policy}{'+menu' if menu else ''}{'+hyps' if hyps else ''}:"
                           f"{args.model or 'menu'}")
    with db:
        s = run_search(problems, db, backend=args.backend, policy=args.policy, cfg=cfg, workers=args.workers,
                       round=args.round, model=args.model, label=label, desc="eval", decode=decode)
        keys = {p.key for p in problems}
        proved = {r["problem"] for r in db.query(
            "select distinct pr.problem from proofs pr join attempts a on a.id = pr.attempt_id "
            "where pr.accepted = 1 and a.policy = ? and a.round = ?", [label, args.round])} & keys
    print(f"proved {len(proved)}/{len(problems)} ({label}, {args.expansions} expansions per problem; "
          f"{s.expansions_per_second:.2f} expansions/s; recorded in {args.db})")
    return 0


def register(sub, problem_args) -> None:
    p = sub.add_parser("iterate", help="expert iteration: search, check, retrain, evaluate, for R rounds")
    p.add_argument("--config", default="data/configs/default.json")
    p.add_argument("--backend", default=None, choices=["coq", "lean"])
    p.add_argument("--name", default=None, help="experiment name (default: the config's): runs/NAME/")
    p.add_argument("--rounds", type=int, default=None)
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_iterate)

    e = sub.add_parser("eval", help="evaluate one policy on a split at a fixed budget, into a database")
    problem_args(e)
    e.set_defaults(split="test")
    e.add_argument("--policy", default="model", choices=["model", "menu", "menu+hyps"])
    e.add_argument("--model", default=None)
    e.add_argument("--db", default="runs/eval/proofs.db")
    e.add_argument("--expansions", type=int, default=8, help="expansions per problem (the budget)")
    e.add_argument("--k", type=int, default=None)
    from prover.search_cli import add_model_extras
    add_model_extras(e)
    e.add_argument("--max-seconds", type=float, default=120.0)
    e.add_argument("--round", type=int, default=0)
    e.add_argument("--label", default=None, help="policy label in the database")
    e.set_defaults(func=cmd_eval)

