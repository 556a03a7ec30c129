"""Cost-aware order within an expansion: cheap tactics first, expensive decision procedures
only where they are likely to pay, and per-tactic time limits from measured times.

Why: an expansion applies every candidate, each under the tactic time limit; in the menu's
search of miniF2F test, `compute; reflexivity` and `vm_compute; reflexivity` alone took 167 of
575 s, and 247 timeouts 293 s. Order matters because an expansion stops at the first tactic
that closes the node and at the search's deadline.

A candidate is *expensive* when it names one of the backend's expensive procedures
(``Backend.expensive``: nra, nia, psatz, the hammer family, ...) or when its measured mean time
is above ``expensive_seconds``. Within an expansion the cheap candidates come first, in the
policy's order, then the expensive ones, in the policy's order; an expensive candidate is tried
only when the policy ranks it among its first ``expensive_rank`` candidates or the node is
promising (depth <= ``expensive_depth``: the root and its children).

Time limits: ``timeouts`` (word -> seconds, the config's ``tactic_timeouts``) set the limit of
every tactic naming the word (a ``hammer`` call needs time for its external provers); otherwise
a tactic with at least ``min_samples`` measured successes gets
``min(tactic_timeout, max(min_timeout, timeout_factor * its slowest success))``. The
statistics come from the run's database (``tactic_stats``: every edge the prover itself
answered in a training search, per normalised tactic and per its first word; like the pruning
counts below, evaluation trees are left out, so an evaluation's timings never set the limits
or the order of a later evaluation).

Learned pruning: a tactic the run's training searches tried at least ``prune_after`` times at
nodes of one depth class (the root, or below it) without a single success there (a new state
or a proof) is not tried at that class of node any more. In the menu's search of miniF2F test,
the hammer-family and ``compute; reflexivity`` below the root succeeded 0 times in ~1,400 tries
that took 35% of the search time. The counts come from the database's trees of training
searches only (``prover.db.queries.DEPTH_STATS_SQL`` leaves out the evaluation labels: ``eval``, ``eval:...`` of
``prover eval``, and ``menu-baseline``): what fails on the evaluation problems never decides
what is tried on them. The counts are conditional on the order: a variant tried only after
an equivalent tactic failed (``intros; lia`` after ``lia``) never succeeds, and is dropped.
"""
from __future__ import annotations

import re
from dataclasses import dataclass


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_']*")


@dataclass
class TacticStats:
    tries: int = 0
    ok: int = 0            # new, dup or proved
    timeouts: int = 0
    seconds: float = 0.0   # total
    max_ok: float = 0.0    # the slowest success

    @property
    def mean(self) -> float:
        return self.seconds / self.tries if self.tries else 0.0


def family(tactic: str) -> str:
    m = _WORD.search(tactic)
    return m.group(0) if m else tactic


def configured_timeout(tactic: str, timeouts: dict | None) -> float | None:
    """The configured limit of ``tactic`` (``tactic_timeouts``: word -> seconds, the largest of
    the words it names; a hammer call needs its provers' time), or None. It applies whether
    or not the cost order is on."""
    own = [timeouts[w] for w in _WORD.findall(tactic) if w in timeouts] if timeouts else []
    return max(own) if own else None


class CostModel:
    """Orders and times one expansion's candidates (see the module docstring)."""

    def __init__(self, expensive_words=(), stats: dict[str, TacticStats] | None = None, *,
                 expensive_rank: int = 8, expensive_depth: int = 1, expensive_seconds: float = 0.5,
                 min_samples: int = 5, min_timeout: float = 0.25, timeout_factor: float = 3.0,
                 timeouts: dict | None = None, depth_rows=(), prune_after: int = 0):
        self.words = frozenset(expensive_words)
        # (tactic, below the root?) -> never succeeded in at least prune_after tries there
        self.dead: set[tuple[str, bool]] = set()
        if prune_after > 0:
            self.dead = {(r["tactic"], bool(r["deep"])) for r in depth_rows
                         if int(r["tries"]) >= prune_after and not int(r["ok"] or 0)}
        self.stats: dict[str, TacticStats] = dict(stats or {})
        self.families: dict[str, TacticStats] = {}
        for t, s in self.stats.items():
            f = self.families.setdefault(family(t), TacticStats())
            f.tries += s.tries
            f.ok += s.ok
            f.timeouts += s.timeouts
            f.seconds += s.seconds
            f.max_ok = max(f.max_ok, s.max_ok)
        self.expensive_rank, self.expensive_depth = expensive_rank, expensive_depth
        self.expensive_seconds, self.min_samples = expensive_seconds, min_samples
        self.min_timeout, self.timeout_factor = min_timeout, timeout_factor
        self.timeouts = {str(k): float(v) for k, v in (timeouts or {}).items()}
        self.skipped = 0
        self.pruned = 0

    @classmethod
    def from_rows(cls, expensive_words, rows, **options) -> "CostModel":
        stats = {r["tactic"]: TacticStats(int(r["tries"]), int(r["ok"] or 0), int(r["timeouts"] or 0),
                                          float(r["seconds"] or 0.0), float(r["max_ok"] or 0.0)) for r in rows}
        return cls(expensive_words, stats, **options)

    def measured(self, tactic: str) -> TacticStats | None:
        s = self.stats.get(tactic)
        if s is not None and s.tries >= self.min_samples:
            return s
        f = self.families.get(family(tactic))
        return f if f is not None and f.tries >= self.min_samples else None

    def expensive(self, tactic: str) -> bool:
        if self.words and any(w in self.words for w in _WORD.findall(tactic)):
            return True
        s = self.measured(tactic)
        return s is not None and s.mean > self.expensive_seconds

    def timeout(self, tactic: str, limit: float) -> float:
        own = configured_timeout(tactic, self.timeouts)
        if own is not None:
            return own
        s = self.stats.get(tactic)
        if self.timeout_factor <= 0 or s is None or s.ok < self.min_samples:
            return limit
        return min(limit, max(self.min_timeout, self.timeout_factor * s.max_ok))

    def plan(self, cands: list, depth: int, limit: float) -> list[tuple[object, float]]:
        """(candidate, time limit) in the order to try them; expensive ones past the policy's
        first ``expensive_rank`` are dropped at nodes deeper than ``expensive_depth``, and
        tactics that never succeeded at this class of node (``prune_after``) are dropped."""
        cheap, dear = [], []
        for rank, c in enumerate(cands):
            if self.dead and (c.tactic, depth > 0) in self.dead:
                self.pruned += 1
            elif not self.expensive(c.tactic):
                cheap.append(c)
            elif rank < self.expensive_rank or depth <= self.expensive_depth:
                dear.append(c)
            else:
                self.skipped += 1
        return [(c, self.timeout(c.tactic, limit)) for c in cheap + dear]


def cost_model(backend: str | None, cfg, rows=(), depth_rows=()) -> CostModel:
    """The cost model of a search config (``expensive_rank``, ``expensive_depth``,
    ``timeout_factor``, ``tactic_timeouts``, ``prune_after``) for ``backend``'s expensive
    tactics, measured ``rows`` and ``depth_rows`` (``prover.db.queries.STATS_SQL``, ``DEPTH_STATS_SQL``)."""
    words = ()
    if backend:
        from prover import backends
        try:
            words = backends.get(backend).expensive
        except Exception:  # an unknown backend: measured costs only
            words = ()
    return CostModel.from_rows(words, rows, expensive_rank=cfg.expensive_rank,
                               expensive_depth=cfg.expensive_depth, timeout_factor=cfg.timeout_factor,
                               timeouts=getattr(cfg, "tactic_timeouts", None),
                               depth_rows=depth_rows, prune_after=getattr(cfg, "prune_after", 0))
