"""``prover iterate``: the main job (:mod:`prover.loop.iterate`), rounds of search, checking,
retraining and evaluation."""
from __future__ import annotations

from prover.cli.common import apply_engine, die, engine_args


def cmd_iterate(args) -> int:
    from prover.db import DBError
    from prover.env import EnvError
    from prover.labels import LeakError
    from prover.loop.config import ConfigError, IterateConfig
    from prover.loop.iterate import Experiment
    try:
        cfg = IterateConfig.load(args.config, backend=args.backend, name=args.name, rounds=args.rounds,
                                 workers=args.workers, engine=apply_engine(args, default=None),
                                 target=args.target, stop_after_stale=args.stop_after_stale,
                                 checkpoint=args.checkpoint)
        if args.no_selfplay and cfg.selfplay.get("enabled"):
            # the same preset without self-play, in a run directory of its own (same seeds, budgets)
            cfg.selfplay = {**cfg.selfplay, "enabled": False}
            cfg.name = args.name or f"{cfg.name}-noselfplay"
        from prover.backends import check_available
        check_available(cfg.backend)  # before runs/NAME/ is made: a missing prover leaves nothing behind
        exp = Experiment(cfg, progress=not args.quiet)
        rows = exp.run()
    except (ConfigError, DBError, LeakError, EnvError) as e:
        return die(str(e))
    except Exception as e:  # a missing model, a corrupt corpus...: one line, the run can resume
        from prover.model import ModelError
        if isinstance(e, (ModelError, ValueError, FileNotFoundError)):
            return die(f"{type(e).__name__}: {e}")
        raise
    print(f"results in {exp.dir}/ (rounds.csv, progress.png, proofs.db)")
    for r in rows:
        if cfg.transductive:
            print(f"round {r['round']} (transductive): target {r['valid_proved']}/{r['pool_size']} proved, "
                  f"new proofs {r['new_proofs']}")
        else:
            print(f"round {r['round']}: valid {r['valid_proved']}/{r['pool_size']}, test {r['test_proved']}/"
                  f"{r['test_size']} (menu baseline {r['menu_baseline_test']}), new proofs {r['new_proofs']}")
    if cfg.transductive:
        print(f"every proof as a file `prover check` accepts: prover db proofs {exp.dir / 'proofs.db'}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("iterate", help="expert iteration: search, check, retrain, evaluate, for R rounds")
    p.add_argument("--config", default="data/configs/default.json")
    from prover import backends
    p.add_argument("--backend", default=None, choices=backends.names(), help="default: the config's")
    p.add_argument("--name", default=None, help="experiment name (default: the config's): runs/NAME/")
    p.add_argument("--rounds", type=int, default=None)
    p.add_argument("--target", default=None, metavar="SPLIT|DIR",
                   help="iterate on these problems themselves (transductive: a split of the backend's dataset "
                        "or a directory of problem files; no evaluation split; into runs/NAME-transductive)")
    p.add_argument("--stop-after-stale", type=int, default=None, metavar="N",
                   help="stop after N rounds in a row that prove nothing new")
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--checkpoint", default=None, metavar="DIR",
                   help="start from this Hugging Face causal LM (round 0 fine-tunes it: the gpu preset, with LoRA)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    engine_args(p)
    p.add_argument("--no-selfplay", action="store_true",
                   help="run the preset with self-play off (into runs/NAME-noselfplay unless --name)")
    p.set_defaults(func=cmd_iterate)
