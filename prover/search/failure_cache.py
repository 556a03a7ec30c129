"""A failure cache: (context, goal state, tactic) -> the error or timeout it gave before.

Why: one expansion applies every candidate, and most fail (errors and timeouts were 518 of
575 s of tactic time in the menu's search of miniF2F test). The same goal states come back:
the same node reached by two paths, the next attempt at a problem with a bigger budget (best-first
is deterministic, so it replays the smaller search), the next round's evaluation of the same
test goals. A tactic's failure on a goal is a fact about (header, goal text, tactic), so it is
looked up, not paid for again.

Soundness: the key is the problem's header (imports, scopes, definitions) and the environment's
tactic prelude and external solvers (``env.prelude``, ``env.solvers``: a stronger prelude, or a
solver installed since, such as the ``csdp`` behind Coq's ``psatz``, retries old failures) plus
the state's goal text (every goal with its hypotheses: the very text ``State.id`` hashes, so the cache is as exact
as the search's own merging of equal states) plus the normalised tactic. Errors are kept
whatever the limit; a timeout under limit L answers only tries with a limit <= L, so a longer
limit always retries it. Crashes of the proof-assistant process (``TacticError.transient``) and
refusals of the cheat filter (free anyway) are never stored.

Scope: one cache per worker process, shared by every tree it searches; the driver stores each
attempt's new failures in the proof database (``failures`` table) and the workers of the next
search load them, so the cache spans attempts, rounds and resumes of a run.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass


def failure_context(problem, env) -> str:
    """What a tactic's failure depends on besides the goal: the problem's backend and header and
    the environment's prelude and external solvers (see the module docstring)."""
    context = (f"{getattr(problem, 'backend', '')}\0{getattr(problem, 'header', '')}"
               f"\0{getattr(env, 'prelude', '')}")
    solvers = getattr(env, "solvers", "")
    return f"{context}\0{solvers}" if solvers else context  # (keys of machines without solvers unchanged)


def failure_key(context: str, goals: str, tactic: str) -> str:
    h = hashlib.blake2b(digest_size=16)
    for part in (context, goals, tactic):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


@dataclass
class Failure:
    kind: str          # "error" | "timeout"
    limit: float       # the tactic time limit of the try (timeouts: it ran out of this)
    message: str = ""
    seconds: float = 0.0  # what the try cost: what a hit saves

    @classmethod
    def from_row(cls, r: dict) -> "Failure":
        """A row of the database's ``failures`` table (or a search's new failures)."""
        return cls(r["kind"], float(r["limit_s"]), r.get("message") or "", float(r.get("seconds") or 0))


def stronger(new: Failure, old: Failure | None) -> bool:
    """Whether ``new`` replaces ``old`` for the same key: the one rule of what is kept, for the
    in-memory cache and for the database's ``failures`` table. An error answers every limit,
    so it replaces a timeout; a timeout under a longer limit replaces one under a shorter."""
    return old is None or old.kind == "timeout" and (new.kind == "error" or new.limit > old.limit)


class FailureCache:
    """In-memory map of failure keys; ``lookup`` honours the timeout rule above."""

    def __init__(self, entries: dict[str, Failure] | None = None):
        self.entries: dict[str, Failure] = dict(entries or {})
        self.hits = 0
        self.misses = 0
        self.saved_seconds = 0.0

    def __len__(self) -> int:
        return len(self.entries)

    def lookup(self, key: str, limit: float) -> Failure | None:
        f = self.entries.get(key)
        if f is not None and (f.kind == "error" or limit <= f.limit + 1e-9):
            self.hits += 1
            self.saved_seconds += f.seconds
            return f
        self.misses += 1
        return None

    def add(self, key: str, failure: Failure) -> None:
        if stronger(failure, self.entries.get(key)):
            self.entries[key] = failure

    @classmethod
    def from_rows(cls, rows) -> "FailureCache":
        c = cls()
        for r in rows:
            c.add(r["key"], Failure.from_row(r))
        return c


def failure_row(key: str, f: Failure) -> dict:
    """A ``failures`` table row (the search collects one per new failure in ``SearchResult.failures``)."""
    return {"key": key, "kind": f.kind, "limit_s": f.limit, "message": f.message[:300], "seconds": round(f.seconds, 4)}


CACHED = "[cached] "  # the message prefix of an edge answered from the cache
