"""Problems: a theorem statement with the header it needs, independent of the backend.

A problem keeps exactly what is needed to restate the theorem in a fresh file: the
header (imports, scopes, auxiliary definitions) and the statement up to, not including,
its proof. Proof text in the source is dropped. Each backend loads problems from its own
file format into this one type (``Backend.load_problems``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class ProblemError(ValueError):
    """A problem file is malformed; the message names the file."""


@dataclass(frozen=True)
class Problem:
    name: str          # theorem name, unique within a split
    split: str         # "valid", "test", or "" for a flat directory
    backend: str       # the registered backend's name (prover.backends)
    header: str        # imports, scopes and definitions before the statement
    statement: str     # the theorem sentence, without proof
    path: str = ""     # the file it came from

    @property
    def key(self) -> str:
        """Unique id across splits: ``split/name``."""
        return f"{self.split}/{self.name}" if self.split else self.name


def load_problems(backend: str, directory: str | Path | None = None, split: str | None = None,
                  limit: int | None = None, on_error=None) -> list[Problem]:
    """Load problems of ``backend`` from ``directory`` (default: its miniF2F copy).

    ``on_error(path, message)`` is called for each malformed file (default: raise).
    """
    from prover import backends
    return backends.get(backend).load_problems(directory, split=split, limit=limit, on_error=on_error)


def parse_problem(backend: str, path: str | Path) -> Problem:
    """One problem file of ``backend``; ProblemError names the file when it is malformed."""
    from prover import backends
    return backends.get(backend).parse_problem(path)
