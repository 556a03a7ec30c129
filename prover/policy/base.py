"""What a policy is to the search: given proof states, candidate tactics with log-probabilities."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

from prover.env import State


@dataclass(frozen=True)
class Candidate:
    tactic: str
    logprob: float
    source: str = ""   # the candidate source that offered it ("model": generated; "": not known)


class Policy(Protocol):
    name: str
    default_k: int | None

    def propose(self, states: Sequence[State], k: int | None = None) -> list[list[Candidate]]:
        """For each state, distinct candidates, best first."""


class CandidateSource(Protocol):
    """Tactics offered at a state whatever the generator says (``prover.policy.sources``).

    ``name`` is the registry name (used in a policy spec), ``tag`` its part of a policy's
    label (``menu``, ``hyps``); a ``static`` source offers the same tactics at every state
    (and is asked with ``state=None`` when there is no state, e.g. ranking goal texts)."""

    name: str
    tag: str
    static: bool

    def candidates(self, state: State | None) -> list[str]:
        """The tactics, in the backend's canonical spelling, best first."""
