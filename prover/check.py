"""The independent verdict: a proof counts only when a fresh proof-assistant process
accepts the whole file and its axioms are on the allow-list. The search's own view never
counts. Each backend provides ``check_file``; this module dispatches and formats.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    reason: str = ""           # why rejected; empty when accepted
    axioms: tuple[str, ...] = ()

    def line(self) -> str:
        return "accepted" if self.accepted else f"rejected: {self.reason}"


def check_file(path, backend: str = "coq", theorem: str | None = None, timeout: float = 300.0) -> Verdict:
    if backend == "coq":
        from coq_env.check import check_file as impl
    elif backend == "lean":
        from lean_env.check import check_file as impl
    else:
        raise ValueError(f"unknown backend {backend!r} (expected coq or lean)")
    return impl(path, theorem=theorem, timeout=timeout)


def check_proof(problem, proof, timeout: float = 300.0) -> Verdict:
    """Write ``problem`` with ``proof`` (a list of tactics) to a file and check it."""
    if problem.backend == "coq":
        from coq_env.check import check_proof as impl
    elif problem.backend == "lean":
        from lean_env.check import check_proof as impl
    else:
        raise ValueError(f"unknown backend {problem.backend!r}")
    return impl(problem, proof, timeout=timeout)


def render_proof(problem, proof) -> str:
    """The complete proof file for ``problem`` and ``proof`` (tactics), as the backend checks it."""
    if problem.backend == "coq":
        from coq_env.check import render_proof as impl
    else:
        from lean_env.check import render_proof as impl
    return impl(problem, proof)
