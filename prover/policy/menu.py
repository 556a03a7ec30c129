"""The menu source: the backend's fixed automation menu, the same tactics at every state."""
from __future__ import annotations

from typing import Sequence


class MenuSource:
    """Candidate source ``menu``: ``tactics`` (default: the backend's menu) in the backend's
    canonical spelling, the spelling stored proofs use and the model is asked to score."""

    name, tag, static = "menu", "menu", True

    def __init__(self, backend, tactics: Sequence[str] | None = None):
        self.backend = backend
        raw = backend.menu if tactics is None else tactics
        self.tactics = list(dict.fromkeys(backend.normalise(t) for t in raw if t.strip()))

    def candidates(self, state=None) -> list[str]:
        return list(self.tactics)
