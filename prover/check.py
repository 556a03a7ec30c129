"""The independent verdict: a proof counts only when a fresh proof-assistant process
accepts the whole file and its axioms are on the allow-list. The search's own view never
counts. Each backend provides ``check_file``; this module dispatches by the registry,
holds the verdict type and writes a proof to the temporary file every backend checks.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    reason: str = ""           # why rejected; empty when accepted
    axioms: tuple[str, ...] = ()

    def line(self) -> str:
        return "accepted" if self.accepted else f"rejected: {self.reason}"


def check_file(path, backend: str = "coq", theorem: str | None = None, timeout: float = 300.0,
               problem=None) -> Verdict:
    from prover import backends
    return backends.get(backend).check_file(path, theorem=theorem, timeout=timeout, problem=problem)


def check_proof(problem, proof, timeout: float = 300.0) -> Verdict:
    """Write ``problem`` with ``proof`` (a list of tactics) to a file and check it."""
    from prover import backends
    return backends.get(problem.backend).check_proof(problem, proof, timeout=timeout)


def render_proof(problem, proof) -> str:
    """The complete proof file for ``problem`` and ``proof`` (tactics), as the backend checks it."""
    from prover import backends
    return backends.get(problem.backend).render_proof(problem, list(proof))


def check_text(text: str, filename: str, check, **kw) -> Verdict:
    """Write ``text`` to ``filename`` in a fresh temporary directory and return
    ``check(path, **kw)``: every backend's ``check_proof`` checks its rendered file this way."""
    with tempfile.TemporaryDirectory(prefix="prover-proof-") as tmp:
        path = Path(tmp) / filename
        path.write_text(text, encoding="utf-8")
        return check(path, **kw)
