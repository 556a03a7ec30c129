"""The floor: try a fixed automation menu at the root of each problem.

``prover prove --policy menu`` runs every menu tactic on each problem's root state through
the environment, and counts a problem proved only when ``prover check`` accepts the
complete proof file. This is the baseline every learned policy must beat.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

from prover.backends import make_env
from prover.check import check_proof
from prover.env import EnvError, ProofFinished
from prover.policy.fixed import MenuPolicy


@dataclass
class ProveResult:
    problem: str
    outcome: str                 # proved | failed | skipped | error
    proof: list[str] | None = None
    verdict: str = ""
    message: str = ""
    seconds: float = 0.0
    tried: int = 0
    rejected: list[str] = field(default_factory=list)


class MenuProver:
    def __init__(self, backend: str, timeout: float, menu: list[str] | None = None):
        self.env = make_env(backend, timeout=timeout)
        self.policy = MenuPolicy(backend, menu)

    def close(self):
        self.env.close()

    def prove(self, problem) -> ProveResult:
        t0 = time.perf_counter()
        try:
            root = self.env.open(problem)
        except EnvError as e:
            return ProveResult(problem.key, "skipped", message=str(e), seconds=time.perf_counter() - t0)
        res = ProveResult(problem.key, "failed")
        for cand in self.policy.propose([root])[0]:
            res.tried += 1
            out = self.env.apply(root, cand.tactic)
            if isinstance(out, ProofFinished):
                v = check_proof(problem, list(out.proof))
                if v.accepted:
                    res.outcome, res.proof, res.verdict = "proved", list(out.proof), v.line()
                    break
                res.rejected.append(f"{cand.tactic}: {v.line()}")
        res.seconds = time.perf_counter() - t0
        return res


def _init(backend, timeout, menu):
    return MenuProver(backend, timeout, menu)


def _job(prover: MenuProver, problem):
    return prover.prove(problem)


def run_floor(problems, backend: str, timeout: float, menu: list[str] | None = None, workers: int = 1,
              engine: str = "local", progress: bool = True) -> dict[str, ProveResult]:
    """Every problem's ``ProveResult`` (by key) from the menu at its root, in ``workers``
    processes of ``engine``."""
    from tqdm import tqdm

    from prover.engines import make_pool
    pool = make_pool(engine, workers, _init, (backend, timeout, menu))
    results: dict[str, ProveResult] = {}
    bar = tqdm(total=len(problems), desc="prove", unit="problem", file=sys.stderr, disable=not progress)
    proved = 0
    for problem, res in pool.imap(_job, problems):
        if isinstance(res, dict):  # the worker failed on this problem
            res = ProveResult(problem.key, "error", message=res["error"])
        results[problem.key] = res
        proved += res.outcome == "proved"
        bar.update(1)
        bar.set_postfix(proved=proved)
    bar.close()
    return results
