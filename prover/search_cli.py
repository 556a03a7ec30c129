"""``prover search``: best-first search over many problems in parallel, into a proof database.

Workers (one proof-assistant process each) search and check; the main process is the only
writer of the database and commits each attempt as it ends. Re-running the same command
skips the attempts already finished (same problem, round and policy) and keeps their proofs.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

from prover.check import Verdict, check_proof
from prover.search import BestFirstSearch, SearchConfig
from prover.search_tree import SearchResult


def make_policy(name: str, backend: str, model: str | None = None, **kw):
    if name in ("menu", "menu+hyps"):
        from prover.policy import MenuPolicy
        return MenuPolicy(backend, templates=name == "menu+hyps")
    if name == "model":
        try:
            from prover.model_policy import load_policy
        except ImportError:
            raise SystemExit("error: the model policy is not available in this version") from None
        if not model:
            raise SystemExit("error: --policy model needs --model DIR (a trained model directory)")
        return load_policy(model, **kw)
    raise SystemExit(f"error: unknown policy {name!r} (expected menu, menu+hyps or model)")


def decode_flags(menu: bool, hyps: bool) -> dict | None:
    """The decode options of ``--with-menu`` / ``--with-hyps`` (the worker maps each ``True``
    to its backend's menu or templates)."""
    return {k: True for k, on in (("menu", menu), ("templates", hyps)) if on} or None


def add_model_extras(p) -> None:
    """``--with-menu`` and ``--with-hyps``: what the model policy scores besides its own tactics."""
    p.add_argument("--with-menu", action="store_true",
                   help="model policy: also offer the backend's menu at every state, ranked by the model")
    p.add_argument("--with-hyps", action="store_true",
                   help="model policy: also offer tactics naming the state's hypotheses, ranked by the model")


class SearchWorker:
    """Per-process state: an environment and a policy, reused across problems."""

    def __init__(self, backend: str, policy: str, cfg: SearchConfig, model: str | None = None,
                 decode: dict | None = None, threads: int = 1):
        from prover.backends import make_env
        self.env = make_env(backend, timeout=cfg.tactic_timeout)
        kw = dict(decode or {})
        if policy == "model":
            kw.setdefault("threads", max(1, threads))  # N workers share the cores
            if kw.get("menu") is True:  # "menu": true in a decode config: this backend's menu
                kw["menu"] = backend
            if kw.get("templates") is True:  # "templates": true: this backend's hypothesis templates
                kw["templates"] = backend
        self.policy = make_policy(policy, backend, model, **kw)
        self.search = BestFirstSearch(self.env, self.policy, cfg)

    def close(self):
        self.env.close()


def _init(backend, policy, cfg, model, decode, threads):
    return SearchWorker(backend, policy, cfg, model, decode, threads)


def _job(worker: SearchWorker, problem) -> tuple[SearchResult, Verdict | None]:
    res = worker.search.run(problem)
    verdict = None
    if res.proof:
        verdict = check_proof(problem, res.proof)
    return res, verdict


@dataclass
class SearchSummary:
    attempted: int = 0
    skipped: int = 0          # finished before (resume)
    proved: int = 0           # accepted by the checker, this run
    expansions: int = 0
    seconds: float = 0.0
    outcomes: dict = field(default_factory=dict)

    @property
    def expansions_per_second(self) -> float:
        return self.expansions / self.seconds if self.seconds else 0.0


def run_search(problems, db, *, backend: str, policy: str, cfg: SearchConfig, workers: int,
               round: int = 0, run_id: int | None = None, model: str | None = None,
               budgets: dict | None = None, progress: bool = True, desc: str = "search",
               label: str | None = None, decode: dict | None = None) -> SearchSummary:
    """Search ``problems`` with ``policy`` (menu or model) and record every attempt in ``db``
    under ``label`` (default: the policy name). ``budgets`` may override ``max_expansions``
    per problem key (active selection; 0 skips a problem)."""
    import os
    label = label or policy
    threads = max(1, (os.cpu_count() or 1) // max(1, workers))
    from tqdm import tqdm

    from prover.workers import WorkerPool
    db.add_problems(problems)
    own_run = run_id is None
    if own_run:
        run_id = db.start_run({"command": "search", "backend": backend, "policy": label,
                               "round": round, **cfg.as_dict()})
    summary = SearchSummary()
    todo = []
    for p in problems:
        if db.finished_attempt(p.key, round, label):
            summary.skipped += 1
        else:
            todo.append(p)
    groups: dict[int, list] = {}
    for p in todo:
        n = (budgets or {}).get(p.key, cfg.max_expansions)
        if n > 0:  # a zero budget means: not this round
            groups.setdefault(n, []).append(p)
    todo = [p for g in groups.values() for p in g]
    t0 = time.time()
    bar = tqdm(total=len(todo), desc=desc, unit="problem", file=sys.stderr, disable=not progress)
    for n, group in sorted(groups.items()):
        gcfg = SearchConfig(**{**cfg.as_dict(), "max_expansions": n})
        pool = WorkerPool(workers, _init, (backend, policy, gcfg, model, decode, threads))
        for problem, out in pool.imap(_job, group):
            if isinstance(out, dict):  # the worker itself failed on this problem
                res, verdict = SearchResult(problem.key, "error", None, 0, 0.0, error=out["error"]), None
            else:
                res, verdict = out
            db.record_attempt(res, run_id, round, label, gcfg.as_dict(), verdict)
            summary.attempted += 1
            summary.expansions += res.expansions
            summary.outcomes[res.outcome] = summary.outcomes.get(res.outcome, 0) + 1
            if verdict is not None and verdict.accepted:
                summary.proved += 1
            summary.seconds = time.time() - t0
            bar.update(1)
            bar.set_postfix(proved=summary.proved, exp_per_s=f"{summary.expansions_per_second:.1f}")
    bar.close()
    summary.seconds = time.time() - t0
    if own_run:
        db.finish_run(run_id)
    return summary


def cmd_search(args) -> int:
    from prover.cli import _die, _load
    from prover.db import DBError, ProofDB
    cfg = SearchConfig(max_expansions=args.expansions, max_seconds=args.max_seconds,
                       tactic_timeout=args.timeout, k=args.k, length_norm=args.length_norm)
    from prover.model import ModelError
    try:
        make_policy(args.policy, args.backend, args.model)  # a bad policy or model fails here, in one line
    except ModelError as e:
        return _die(str(e))
    from prover.backends import check_available
    from prover.env import EnvError
    try:
        check_available(args.backend)
    except EnvError as e:
        return _die(str(e))
    problems = _load(args)
    if not problems:
        return _die("no problems to search")
    try:
        db = ProofDB(args.db)
    except DBError as e:
        return _die(str(e))
    with db:
        s = run_search(problems, db, backend=args.backend, policy=args.policy, cfg=cfg,
                       workers=args.workers, round=args.round, model=args.model,
                       decode=decode_flags(args.with_menu, args.with_hyps))
        total_proved = sum(1 for p in problems if any(r["problem"] == p.key for r in db.proofs(p.key)))
    print(f"searched {s.attempted} (skipped {s.skipped} finished), proved {s.proved} this run, "
          f"{total_proved}/{len(problems)} proved in the database; "
          f"{s.expansions} expansions, {s.expansions_per_second:.2f}/s; outcomes {s.outcomes}")
    return 0


def register(sub, problem_args) -> None:
    p = sub.add_parser("search", help="best-first search into a proof database")
    problem_args(p)
    p.add_argument("--policy", default="menu", help="menu, menu+hyps (the menu, then tactics naming the "
                   "state's hypotheses) or model")
    p.add_argument("--model", default=None, help="model directory for --policy model")
    p.add_argument("--db", required=True, help="proof database, e.g. runs/NAME/proofs.db")
    p.add_argument("--expansions", type=int, default=32, help="expansions per problem")
    p.add_argument("--max-seconds", type=float, default=300.0, help="wall-clock per problem")
    p.add_argument("--k", type=int, default=None, help="candidates per expansion (default: the policy's; the whole menu for menu)")
    p.add_argument("--length-norm", action="store_true", help="order the frontier by mean log-probability")
    add_model_extras(p)
    p.add_argument("--round", type=int, default=0)
    p.set_defaults(func=cmd_search)
