"""What every subcommand shares: the one-line error, the problem options and loading, and
the policy options that become a :class:`prover.policy.PolicySpec`."""
from __future__ import annotations

import sys


def die(msg: str, code: int = 2) -> int:
    """Print ``error: msg`` (one line) on stderr and return ``code`` (the exit status)."""
    print(f"error: {' '.join(str(msg).split())}", file=sys.stderr)
    return code


def backend_arg(p, default: str | None = None) -> None:
    from prover import backends
    p.add_argument("--backend", default=default if default is not None else backends.DEFAULT,
                   choices=backends.names())


def problem_args(p) -> None:
    """--backend --problems --split --limit --workers --timeout."""
    from prover.engines import default_workers
    backend_arg(p)
    p.add_argument("--problems", default=None, help="problem directory (default: miniF2F of the backend)")
    p.add_argument("--split", default=None, help="valid or test (default: all)")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--workers", type=int, default=default_workers())
    from prover.search.best_first import SearchConfig
    p.add_argument("--timeout", type=float, default=SearchConfig.tactic_timeout, help="seconds per tactic")


def load_problems_or_exit(args):
    """The problems of ``args`` (``problem_args``); malformed files are reported and skipped,
    an unusable directory exits with one line."""
    from prover.problems import ProblemError
    from prover.backends import load_problems
    errors = []
    try:
        problems = load_problems(args.backend, args.problems, split=args.split, limit=args.limit,
                                 on_error=lambda p, m: errors.append(m))
    except (ProblemError, ValueError) as e:
        raise SystemExit(die(str(e)))
    for m in errors:
        print(f"skipped (malformed): {m}", file=sys.stderr)
    return problems


def policy_args(p, default: str = "menu", choices=None) -> None:
    """--policy --model --k --with-menu --with-hyps: a named policy and what the model adds."""
    from prover.policy import NAMED
    p.add_argument("--policy", default=default, choices=choices or list(NAMED),
                   help="menu (the fixed menu), menu+hyps (the menu, then tactics naming the state's "
                        "hypotheses) or model")
    p.add_argument("--model", default=None, help="model directory for --policy model")
    p.add_argument("--k", type=int, default=None,
                   help="model: tactics it generates per state (default 8); menu: a cap on the candidates")
    p.add_argument("--with-menu", action="store_true",
                   help="model policy: also offer the backend's menu at every state, ranked by the model")
    p.add_argument("--with-hyps", action="store_true",
                   help="model policy: also offer tactics naming the state's hypotheses, ranked by the model")
    p.add_argument("--with-retrieval", action="store_true",
                   help="also offer the tactics of the most similar states of a traced corpus and of the "
                        "database's accepted proofs (names mapped), ranked by the model when there is one")
    p.add_argument("--with-macros", action="store_true",
                   help="also offer, as one tactic each, the sub-proofs that the database's accepted "
                        "training proofs and hindsight lemmas found at the most similar states "
                        "(--retrieval-db, else --db; prover.policy.macros)")
    p.add_argument("--macro-limit", type=int, default=None, metavar="N",
                   help="with --with-macros: the most macros offered at a state (default: the source's)")
    p.add_argument("--retrieval-corpus", default=None, metavar="DIR",
                   help="with --with-retrieval: a traced corpus to index (e.g. runs/default/corpus)")
    p.add_argument("--retrieval-db", default=None, metavar="DB",
                   help="with --with-retrieval: index this proof database's accepted training proofs and "
                        "hindsight lemmas (e.g. a run's proofs.db) instead of --db's")
    p.add_argument("--sample", action="store_true",
                   help="model policy: sample the k tactics (temperature / nucleus, de-duplicated) "
                        "instead of beam search")
    p.add_argument("--temperature", type=float, default=None, help="with --sample (default 1.0)")
    p.add_argument("--top-p", type=float, default=None, help="with --sample: nucleus mass (default 1.0)")
    p.add_argument("--fixed-weight", type=float, default=None, metavar="W",
                   help="model policy: score = model log-probability + W * the fixed scorer's log-score of "
                        "the sources' order (a product of experts; default 0: the model alone)")
    p.add_argument("--repair-names", type=int, default=None, metavar="N",
                   help="model policy: after a generated tactic that uses names that do not exist (a hypothesis "
                        "the state lacks, a lemma no training tactic uses), also try up to N variants with "
                        "existing names (default 0: off; prover.policy.repair)")
    p.add_argument("--with", dest="with_sources", action="append", default=[], metavar="SOURCE",
                   help="also offer the candidates of this source (repeatable): hints (nonlinear-arithmetic "
                        "hints), cases (bounded case splits), witnesses (exists, destruct, induction), "
                        "premises (library lemmas by name), instances (the goal's definitions and recurrences "
                        "used at its terms), numerals (large nat numerals lia can read), "
                        "denominators (fractions cleared from real equations), compute (simpl in * before the "
                        "automation), logs (ln of numerals over their primes); see prover.policy.sources")
    p.add_argument("--ranker", default=None, metavar="fixed|random|FILE",
                   help="order of the candidates at a node: the sources' fixed order (default), a seeded "
                        "random order, or a learned ranker file (`prover rank train`)")
    p.add_argument("--novel", action="store_true",
                   help="model policy: generate 2k tactics and keep the k best that no candidate source "
                        "offers at the state (default: the k best, copies of offered tactics included)")


def policy_spec(args, deny=()):
    """The PolicySpec of ``policy_args``; --with-menu/--with-hyps add sources to a model policy,
    --with-retrieval to any policy (indexing ``--retrieval-corpus`` and ``--retrieval-db``, else
    ``args.db``; never the problems in ``deny`` nor attempts under evaluation labels),
    --with-macros likewise (the same database)."""
    from prover.policy import PolicySpec
    kw = {"model": args.model}
    if args.k is not None:
        kw["k"] = args.k
    decode = {name: v for name, v in (("temperature", getattr(args, "temperature", None)),
                                      ("top_p", getattr(args, "top_p", None))) if v is not None}
    if getattr(args, "sample", False) or decode:
        decode["mode"] = "sample"
    if getattr(args, "fixed_weight", None):
        decode["fixed_weight"] = args.fixed_weight
    if getattr(args, "repair_names", None):
        decode["repair"] = args.repair_names
    if getattr(args, "novel", False):
        decode["novel"] = True
    if decode:
        kw["decode"] = decode
    spec = PolicySpec.named(args.policy, **kw)
    extra = ()
    if spec.needs_model:
        extra = tuple(s for s, on in (("menu", args.with_menu), ("templates", args.with_hyps)) if on)
    if getattr(args, "with_retrieval", False):
        extra += ("retrieval",)
    if getattr(args, "with_macros", False):
        extra += ("macros",)
    extra += tuple(s for s in getattr(args, "with_sources", []) or [] if s not in spec.sources + extra)
    if getattr(args, "ranker", None):
        spec = PolicySpec(**{**spec.as_dict(), "ranker": args.ranker})
    if extra:
        spec = PolicySpec(**{**spec.as_dict(), "sources": spec.sources + extra})
    db = getattr(args, "retrieval_db", None) or getattr(args, "db", None)
    limit = getattr(args, "macro_limit", None)
    spec = spec.with_options("macros", db=db, deny=sorted(deny), **({"limit": limit} if limit else {}))
    spec = spec.with_options("lemmas", db=db, deny=sorted(deny))  # the lemmas this database accepted
    return spec.with_options("retrieval", corpus=args.retrieval_corpus, db=db, deny=sorted(deny))


def check_policy(spec) -> str | None:
    """Why the policy of ``spec`` cannot be built here (a missing or bad model), or None."""
    if not spec.needs_model:
        return None
    from prover.model import ModelError, load
    if not spec.model:
        return f"--policy {spec.label} needs --model DIR (a trained model directory)"
    try:
        load(spec.model)
    except ModelError as e:
        return str(e)
    return None


def engine_args(p) -> None:
    """--engine and --address: where the jobs run (``prover.engines``)."""
    from prover.engines import ENGINES
    p.add_argument("--engine", default=None, choices=sorted(ENGINES),
                   help="worker-pool engine: local processes (default) or the actors of a Ray cluster")
    p.add_argument("--address", default=None, metavar="auto|HOST:PORT",
                   help="with --engine ray: the cluster (`ray start --head` prints it; auto: the cluster "
                        "on this machine; default: $RAY_ADDRESS, else a private Ray for this run)")


def apply_engine(args, default: str = "local") -> str:
    """The engine of ``engine_args`` (``--address`` goes to Ray as ``RAY_ADDRESS``)."""
    import os
    if getattr(args, "address", None):
        os.environ["RAY_ADDRESS"] = args.address
    return getattr(args, "engine", None) or default
