"""Problems: a theorem statement with the header it needs, independent of the backend.

A problem keeps exactly what is needed to restate the theorem in a fresh file: the
header (imports, scopes, auxiliary definitions) and the statement up to, not including,
its proof. Proof text in the source is dropped. Each backend loads problems from its own
file format into this one type (``Backend.load_problems``; ``prover.backends.load_problems``
finds the backend by name). This module imports nothing of the project.
"""
from __future__ import annotations

from dataclasses import dataclass


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

