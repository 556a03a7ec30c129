"""Search many problems in parallel into a proof database: the run loop behind ``prover
search``, ``prover eval`` and every search step of ``prover iterate``.

Workers (one proof-assistant process and one policy each, built once per worker) search and
check; the driver is the only writer of the database and commits each attempt as it ends.
Each job item carries its problem and its budget (expansions), so one worker pool serves a
whole run, whatever the per-problem budgets of active selection. Re-running the same run
skips the attempts already finished (same problem, round and label) and keeps their proofs.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from dataclasses import dataclass, field, replace

from prover.check import Verdict, check_proof
from prover.policy.spec import PolicySpec, build_policy
from prover.search.best_first import BestFirstSearch, SearchConfig
from prover.search.cost import CostModel, cost_model
from prover.search.failure_cache import FailureCache
from prover.search.tree import SearchResult


class SearchWorker:
    """Per-process state: an environment, a policy and a node scorer, reused across problems.
    The environment's default tactic timeout is the search's ``tactic_timeout``."""

    def __init__(self, backend: str, spec: PolicySpec, cfg: SearchConfig, threads: int = 1,
                 db_path: str | None = None):
        from prover import backends
        self.backend, self.cfg = backends.get(backend), cfg
        self.failures = FailureCache()  # shared by every tree this worker searches
        if cfg.failure_cache and db_path:  # the run's database: its failures and its tactic times
            self.failures = load_failures(db_path)
        self.costs = load_costs(db_path, backend, cfg) if cfg.cost_order else None
        self.env = self.backend.make_env(timeout=cfg.tactic_timeout)
        try:
            self.policy = build_policy(spec, self.backend, threads=max(1, threads))
            self.scorer = None  # built once per worker (a learned value loads a model)
            if cfg.node_scorer:
                from prover.search.scorers import make_scorer
                self.scorer = make_scorer(cfg.node_scorer, **(getattr(cfg, "scorer_options", None) or {}))
        except BaseException:
            self.env.close()
            raise

    def run(self, problem, budget: int | None = None) -> tuple[SearchResult, Verdict | None]:
        cfg = self.cfg if budget is None else replace(self.cfg, max_expansions=budget)
        res = BestFirstSearch(self.env, self.policy, cfg, scorer=self.scorer, failures=self.failures,
                              costs=self.costs).run(problem)
        verdict = check_proof(problem, res.proof) if res.proof else None
        return res, verdict

    def close(self):
        self.env.close()


def load_failures(path: str) -> FailureCache:
    """The failure cache of a proof database's ``failures`` table (empty when it has none)."""
    from prover.db import DBError, ProofDB
    if not Path(path).exists():
        return FailureCache()
    try:
        with ProofDB(path, create=False) as db:
            return FailureCache.from_rows(db.failure_rows())
    except DBError as e:  # no cache is slower, never wrong: said in one line, not hidden
        print(f"warning: failure cache not read: {e}", file=sys.stderr)
        return FailureCache()


def load_costs(path: str | None, backend: str, cfg: SearchConfig) -> CostModel:
    """The cost model of ``backend`` with the tactic times measured in a proof database."""
    rows, depth_rows = [], []
    if path:
        from prover.db import DBError, ProofDB
        try:
            if Path(path).exists():
                with ProofDB(path, create=False) as db:
                    rows = db.tactic_stats()
                    if getattr(cfg, "prune_after", 0) > 0:
                        depth_rows = db.tactic_depth_stats()
        except DBError as e:  # no measurements: the backend's list of expensive tactics alone
            print(f"warning: tactic times not read: {e}", file=sys.stderr)
            rows, depth_rows = [], []
    return cost_model(backend, cfg, rows, depth_rows)


def _init(backend, spec, cfg, threads, db_path=None):
    return SearchWorker(backend, spec, cfg, threads, db_path)


def _job(worker: SearchWorker, item) -> tuple[SearchResult, Verdict | None]:
    problem, budget = item
    return worker.run(problem, budget)


@dataclass
class SearchSummary:
    attempted: int = 0
    skipped: int = 0          # finished before (resume)
    proved: int = 0           # accepted by the checker, this run
    expansions: int = 0
    cache_hits: int = 0       # candidates the failure cache answered
    widened: int = 0          # expansions that widened a dead tree's node (SearchConfig.widen)
    seconds: float = 0.0
    outcomes: dict = field(default_factory=dict)

    @property
    def expansions_per_second(self) -> float:
        return self.expansions / self.seconds if self.seconds else 0.0


def run_search(problems, db, *, backend: str, spec: PolicySpec, cfg: SearchConfig, workers: int,
               round: int = 0, run_id: int | None = None, budgets: dict | None = None,
               progress: bool = True, desc: str = "search", label: str | None = None,
               engine: str = "local") -> SearchSummary:
    """Search ``problems`` with the policy of ``spec`` and record every attempt in ``db``
    under ``label`` (default: the spec's label). ``budgets`` may override ``max_expansions``
    per problem key (active selection; 0 skips a problem)."""
    from tqdm import tqdm

    from prover.engines import make_pool
    label = label or spec.label
    # One torch thread per search worker, whatever the core count: the policy's model is small
    # (a forward pass is milliseconds), the worker's Coq process waits while it runs, and two
    # threads per worker on a shared machine spin against each other. Measured on 2 cores with
    # two loop runs beside it: 8 expansions on 3 test problems took 37 s with 2 threads, 11 s
    # with 1. PROVER_TORCH_THREADS overrides it (e.g. a big model on an idle machine).
    threads = int(os.environ.get("PROVER_TORCH_THREADS") or 1)
    db.add_problems(problems)
    own_run = run_id is None
    if own_run:
        run_id = db.start_run({"command": "search", "backend": backend, "policy": label,
                               "spec": spec.as_dict(), "round": round, **cfg.as_dict()})
    summary = SearchSummary()
    items = []
    for p in problems:
        if db.finished_attempt(p.key, round, label):
            summary.skipped += 1
            continue
        n = (budgets or {}).get(p.key, cfg.max_expansions)
        if n > 0:  # a zero budget means: not this round
            items.append((p, n))
    items.sort(key=lambda it: it[1])  # small budgets first: quick results, big jobs last
    t0 = time.time()
    bar = tqdm(total=len(items), desc=desc, unit="problem", file=sys.stderr, disable=not progress)
    if items:
        pool = make_pool(engine, workers, _init, (backend, spec, cfg, threads, str(db.path)))
        for (problem, n), out in pool.imap(_job, items):
            if isinstance(out, dict):  # the worker itself failed on this problem
                res, verdict = SearchResult(problem.key, "error", None, 0, 0.0, error=out["error"]), None
            else:
                res, verdict = out
            db.record_attempt(res, run_id, round, label, replace(cfg, max_expansions=n).as_dict(), verdict)
            summary.attempted += 1
            summary.expansions += res.expansions
            summary.cache_hits += getattr(res, "cache_hits", 0)
            summary.widened += getattr(res, "widened", 0)
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
