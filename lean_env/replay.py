"""Proof states rebuilt in whatever REPL process is current.

Ids are per process. :class:`~lean_env.repl.LeanRepl` counts process starts in
``generation``; :class:`Replayer` keeps a cache of ids for the current generation and
rebuilds a proof state after a restart by replaying the header command, the statement and
the tactic path.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .protocol import Answer, CommandResponse, ErrorResponse, ReplError, TacticResponse
from .repl import LeanRepl


class ReplayError(ReplError):
    """A state could not be rebuilt in a fresh process (the header, statement or a step failed)."""


def first_error(ans: Answer) -> str | None:
    """Lean's complaint in an answer, or None: an error answer or the first error message."""
    if isinstance(ans, ErrorResponse):
        return ans.message
    errs = ans.errors
    if errs:
        return "\n".join(m.data for m in errs)
    return None


@dataclass
class RootInfo:
    proof_state: int
    goal: str
    response: CommandResponse


class Replayer:
    """Ids of headers, statements and tactic paths for the current REPL process.

    A path is ``(header, statement, tactics)``. :meth:`proof_state` returns the id of the
    proof state at the end of a path, replaying whatever the current process lacks: the
    header (once per process and header text: ``import Mathlib`` is loaded once), the
    statement with ``:= by sorry``, then the tactics. After a restart (``generation``
    changes) every cached id is forgotten and rebuilt on demand.
    """

    def __init__(self, repl: LeanRepl, header_timeout: float = 900.0,
                 statement_timeout: float = 300.0, replay_timeout: float = 300.0):
        self.repl = repl
        self.header_timeout = header_timeout
        self.statement_timeout = statement_timeout
        self.replay_timeout = replay_timeout
        self._generation = -1
        self._headers: dict[str, int] = {}
        self._states: dict[tuple, int] = {}
        self._roots: dict[tuple, RootInfo] = {}

    def _sync(self) -> None:
        if self._generation != self.repl.generation or not self.repl.alive:
            if not self.repl.alive:
                self.repl.start()
            self._generation = self.repl.generation
            self._headers.clear()
            self._states.clear()
            self._roots.clear()

    def recycle_if_needed(self) -> bool:
        """Restart the process when it is above its memory limit. Call between steps only."""
        if self.repl.over_memory_limit():
            self.repl.restart()
            return True
        return False

    def header_env(self, header: str) -> int | None:
        self._sync()
        header = header.strip()
        if not header:
            return None
        if header not in self._headers:
            ans = self.repl.command(header, timeout=self.header_timeout)
            err = first_error(ans)
            if err is not None or not isinstance(ans, CommandResponse):
                raise ReplayError(f"the header does not elaborate: {err}")
            self._sync_after(ans)
            self._headers[header] = ans.env
        return self._headers[header]

    def _sync_after(self, ans: Answer) -> None:
        if self._generation != self.repl.generation:
            raise ReplayError("the Lean REPL restarted during a replay")

    def root(self, header: str, statement: str) -> RootInfo:
        """The proof state at ``by sorry`` after ``statement`` (elaborated once per process)."""
        key = (header.strip(), statement)
        self._sync()
        if key in self._roots:
            return self._roots[key]
        env = self.header_env(header)
        ans = self.repl.command(statement_with_sorry(statement), env, timeout=self.statement_timeout)
        self._sync_after(ans)
        err = first_error(ans)
        if err is not None:
            raise ReplayError(f"the statement does not elaborate: {err}")
        if not isinstance(ans, CommandResponse) or len(ans.sorries) != 1 \
                or ans.sorries[0].proof_state is None:
            raise ReplayError(f"expected exactly one `sorry` with a proof state, got {ans.to_json()}")
        info = RootInfo(ans.sorries[0].proof_state, ans.sorries[0].goal, ans)
        self._roots[key] = info
        self._states[key + ((),)] = info.proof_state
        return info

    def proof_state(self, header: str, statement: str, tactics: Sequence[str]) -> int:
        tactics = tuple(tactics)
        key = (header.strip(), statement, tactics)
        self._sync()
        if key in self._states:
            return self._states[key]
        if not tactics:
            return self.root(header, statement).proof_state
        parent = self.proof_state(header, statement, tactics[:-1])
        ans = self.repl.tactic(tactics[-1], parent, timeout=self.replay_timeout)
        self._sync_after(ans)
        err = first_error(ans)
        if err is not None or not isinstance(ans, TacticResponse):
            raise ReplayError(f"replaying {tactics[-1]!r} failed: {err}")
        self._states[key] = ans.proof_state
        return ans.proof_state

    def record(self, header: str, statement: str, tactics: Sequence[str], proof_state: int) -> None:
        """Remember the id the current process gave the state at the end of ``tactics``."""
        self._sync()
        self._states[(header.strip(), statement, tuple(tactics))] = proof_state


def statement_with_sorry(statement: str) -> str:
    return statement.rstrip() + " := by sorry"
