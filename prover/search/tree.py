"""The search tree: explicit node states and edges, as best-first search builds it.

Nodes are proof states, keyed by ``State.id`` (a content hash of the goals), so one goal
state reached by two paths is one node. Edges are tactic applications with their
log-probability and outcome. The whole tree of every attempt, failures included, is
stored in the proof database: it is training data too.

Invariants:
  * a node is PROVED iff one of its edges is ``proved`` or leads to a PROVED node;
  * a node is FAILED iff it was expanded and every edge is an error/timeout/refused or
    leads to a FAILED node (or back to an ancestor, which cannot help);
  * the root's status decides the attempt.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Status(str, enum.Enum):
    OPEN = "open"
    PROVED = "proved"
    FAILED = "failed"


class EdgeOutcome(str, enum.Enum):
    NEW = "new"          # led to a state not seen before
    DUP = "dup"          # led to a state already in the tree
    PROVED = "proved"    # closed every goal
    ERROR = "error"      # the prover rejected the tactic
    TIMEOUT = "timeout"
    REFUSED = "refused"  # the cheat filter refused it


@dataclass
class Node:
    id: str                      # State.id
    goals: str                   # goals_text(state.goals)
    depth: int                   # length of the first path that reached it
    score: float                 # cumulative log-probability of that path
    status: Status = Status.OPEN
    expanded: bool = False
    parent: str | None = None    # the node it was first reached from
    tactic: str | None = None    # the tactic of that first edge
    value: float | None = None   # the node scorer's value (None without one)


@dataclass
class Edge:
    src: str                     # Node.id
    tactic: str
    logprob: float
    outcome: EdgeOutcome
    dst: str | None = None       # Node.id for NEW/DUP
    message: str = ""            # error text for ERROR/REFUSED
    seconds: float = 0.0
    source: str = ""             # the candidate source that offered the tactic ("model": generated)


@dataclass
class SearchResult:
    """What one attempt on one problem produced."""

    problem: str                 # Problem.key
    outcome: str                 # "proved" | "failed" | "budget" | "timeout" | "error"
    proof: list[str] | None      # tactics from the root, if proved
    expansions: int
    seconds: float
    root: str | None = None      # root Node.id
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    error: str = ""              # set when outcome == "error"
    steps: list[tuple[str, str]] = field(default_factory=list)  # (goals before, tactic) along the proof
    failures: list[dict] = field(default_factory=list)  # new failure-cache rows (prover.search.failure_cache)
    cache_hits: int = 0          # candidates answered from the failure cache, not the prover
    widened: int = 0             # expansions that widened an expanded node (SearchConfig.widen)
    tries: int = 0               # tactics sent to the prover (SearchConfig.tries caps them per expansion)
