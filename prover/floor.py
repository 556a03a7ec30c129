"""The floor: try a fixed automation menu at the root of each problem.

``prover prove --policy menu`` runs every menu tactic on each problem's root state through
the environment, and counts a problem proved only when ``prover check`` accepts the
complete proof file. This is the baseline every learned policy must beat.
"""
from __future__ import annotations

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
