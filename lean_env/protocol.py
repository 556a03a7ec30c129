"""The Lean REPL's protocol (github.com/leanprover-community/repl): typed answers, the
wire format and the errors of a REPL that cannot answer. The process is :mod:`lean_env.repl`,
the replay of states in a fresh process :mod:`lean_env.replay`.

Protocol (the REPL's README and ``REPL/Main.lean``): a request is one JSON object followed
by a blank line; the REPL reads lines up to a blank line, right-trims each line and joins
them *without* newlines, parses the result as JSON and answers with one JSON object
(pretty-printed over several lines, never containing a blank line) followed by a blank
line. Requests: ``{"cmd", "env"?, "allTactics"?, "rootGoals"?, "infotree"?}``,
``{"path", ...}``, ``{"tactic", "proofState"}``, ``{"pickleTo", "env"|"proofState"}``,
``{"unpickleEnvFrom"}``, ``{"unpickleProofStateFrom", "env"?}``. Answers: a command
answer (``env``, ``messages``, ``sorries``, ``tactics``, ``infotree``), a proof-step answer
(``proofState``, ``goals``, ``messages``, ``sorries``, ``traces``, ``proofStatus``) or an
error (``{"message": ...}``). Empty lists are omitted by the REPL; ``goals`` and
``usedConstants`` are always written.

Every answer is parsed into the dataclasses below; a field the parser does not know is
kept in ``extra`` (and written back by ``to_json``), never dropped, so a protocol change
shows up in the round-trip test instead of being lost.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Sequence, Union


class ReplError(RuntimeError):
    """The REPL process cannot answer (missing, crashed, or spoke something that is not the protocol)."""


class ReplNotInstalled(ReplError):
    pass


class ReplTimeout(ReplError):
    """A request took longer than its timeout; the process was killed (restarted on next use)."""

    def __init__(self, seconds: float, request: dict):
        super().__init__(f"the Lean REPL did not answer within {seconds:g}s")
        self.seconds = seconds
        self.request = request


class ReplCrashed(ReplError):
    """The process exited (or closed stdout) before answering; ``stderr`` holds its last words."""

    def __init__(self, message: str, stderr: str = ""):
        super().__init__(message + (f": {stderr.strip()[-500:]}" if stderr.strip() else ""))
        self.stderr = stderr


class ProtocolError(ReplError):
    pass


# --------------------------------------------------------------------------- answers


@dataclass(frozen=True)
class Pos:
    line: int
    column: int

    @classmethod
    def of(cls, d: dict | None) -> "Pos | None":
        if d is None:
            return None
        if set(d) != {"line", "column"}:
            raise ProtocolError(f"position with fields {sorted(d)}")
        return cls(int(d["line"]), int(d["column"]))

    def to_json(self) -> dict:
        return {"line": self.line, "column": self.column}


def _take(d: dict, known: Sequence[str]) -> dict:
    return {k: v for k, v in d.items() if k not in known}


@dataclass(frozen=True)
class Message:
    severity: str             # "error" | "warning" | "info"
    pos: Pos | None
    end_pos: Pos | None
    data: str
    extra: dict = field(default_factory=dict, compare=False)

    KEYS = ("severity", "pos", "endPos", "data")

    @classmethod
    def of(cls, d: dict) -> "Message":
        return cls(d["severity"], Pos.of(d.get("pos")), Pos.of(d.get("endPos")), d["data"],
                   _take(d, cls.KEYS))

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def to_json(self) -> dict:
        out: dict = {"severity": self.severity}
        if self.pos is not None:
            out["pos"] = self.pos.to_json()
        if self.end_pos is not None:
            out["endPos"] = self.end_pos.to_json()
        out["data"] = self.data
        out.update(self.extra)
        return out


@dataclass(frozen=True)
class Sorry:
    goal: str
    proof_state: int | None
    pos: Pos | None = None          # absent for sorries reported by a tactic step
    end_pos: Pos | None = None
    extra: dict = field(default_factory=dict, compare=False)

    KEYS = ("goal", "proofState", "pos", "endPos")

    @classmethod
    def of(cls, d: dict) -> "Sorry":
        return cls(d["goal"], d.get("proofState"), Pos.of(d.get("pos")), Pos.of(d.get("endPos")),
                   _take(d, cls.KEYS))

    def to_json(self) -> dict:
        out: dict = {}
        if self.proof_state is not None:
            out["proofState"] = self.proof_state
        if self.pos is not None:
            out["pos"] = self.pos.to_json()
        out["goal"] = self.goal
        if self.end_pos is not None:
            out["endPos"] = self.end_pos.to_json()
        out.update(self.extra)
        return out


@dataclass(frozen=True)
class TacticInfo:
    """One entry of ``tactics`` (``allTactics: true``): a tactic of the command and its goals."""

    tactic: str
    goals: str
    proof_state: int | None
    pos: Pos | None
    end_pos: Pos | None
    used_constants: tuple[str, ...] | None = None
    extra: dict = field(default_factory=dict, compare=False)

    KEYS = ("tactic", "goals", "proofState", "pos", "endPos", "usedConstants")

    @classmethod
    def of(cls, d: dict) -> "TacticInfo":
        used = d.get("usedConstants")
        return cls(d["tactic"], d["goals"], d.get("proofState"), Pos.of(d.get("pos")),
                   Pos.of(d.get("endPos")), None if used is None else tuple(used), _take(d, cls.KEYS))

    def to_json(self) -> dict:
        out: dict = {}
        if self.used_constants is not None:
            out["usedConstants"] = list(self.used_constants)
        out["tactic"] = self.tactic
        if self.proof_state is not None:
            out["proofState"] = self.proof_state
        if self.pos is not None:
            out["pos"] = self.pos.to_json()
        out["goals"] = self.goals
        if self.end_pos is not None:
            out["endPos"] = self.end_pos.to_json()
        out.update(self.extra)
        return out


def _list(d: dict, key: str, kind) -> tuple:
    return tuple(kind.of(x) for x in d.get(key) or ())


def _put(out: dict, key: str, items) -> None:
    if items:
        out[key] = [x.to_json() for x in items]


@dataclass(frozen=True)
class CommandResponse:
    """Answer to ``cmd``, ``path``, ``pickleTo``/``env`` and ``unpickleEnvFrom``."""

    env: int
    messages: tuple[Message, ...] = ()
    sorries: tuple[Sorry, ...] = ()
    tactics: tuple[TacticInfo, ...] = ()
    infotree: Any = None             # kept as raw JSON: a tree of syntax/elaboration nodes
    extra: dict = field(default_factory=dict, compare=False)

    KEYS = ("env", "messages", "sorries", "tactics", "infotree")

    @classmethod
    def of(cls, d: dict) -> "CommandResponse":
        return cls(int(d["env"]), _list(d, "messages", Message), _list(d, "sorries", Sorry),
                   _list(d, "tactics", TacticInfo), d.get("infotree"), _take(d, cls.KEYS))

    @property
    def errors(self) -> tuple[Message, ...]:
        return tuple(m for m in self.messages if m.is_error)

    def to_json(self) -> dict:
        out: dict = {}
        _put(out, "tactics", self.tactics)
        _put(out, "sorries", self.sorries)
        _put(out, "messages", self.messages)
        if self.infotree is not None:
            out["infotree"] = self.infotree
        out["env"] = self.env
        out.update(self.extra)
        return out


@dataclass(frozen=True)
class TacticResponse:
    """Answer to ``tactic``, ``pickleTo``/``proofState`` and ``unpickleProofStateFrom``."""

    proof_state: int
    goals: tuple[str, ...]
    messages: tuple[Message, ...] = ()
    sorries: tuple[Sorry, ...] = ()
    traces: tuple[str, ...] = ()
    proof_status: str | None = None  # "Completed", "Incomplete: ...", "Error: ..."; absent in old REPLs
    extra: dict = field(default_factory=dict, compare=False)

    KEYS = ("proofState", "goals", "messages", "sorries", "traces", "proofStatus")

    @classmethod
    def of(cls, d: dict) -> "TacticResponse":
        return cls(int(d["proofState"]), tuple(d["goals"]), _list(d, "messages", Message),
                   _list(d, "sorries", Sorry), tuple(d.get("traces") or ()), d.get("proofStatus"),
                   _take(d, cls.KEYS))

    @property
    def errors(self) -> tuple[Message, ...]:
        return tuple(m for m in self.messages if m.is_error)

    @property
    def completed(self) -> bool:
        """No goals, no errors, and (when the REPL reports it) the proof term checked."""
        return (not self.goals and not self.errors and not self.sorries
                and self.proof_status in (None, "Completed"))

    def to_json(self) -> dict:
        out: dict = {}
        if self.traces:
            out["traces"] = list(self.traces)
        _put(out, "sorries", self.sorries)
        if self.proof_status is not None:
            out["proofStatus"] = self.proof_status
        out["proofState"] = self.proof_state
        _put(out, "messages", self.messages)
        out["goals"] = list(self.goals)
        out.update(self.extra)
        return out


@dataclass(frozen=True)
class ErrorResponse:
    """``{"message": ...}``: unknown id, a tactic that threw ("Lean error:\\n..."), bad JSON..."""

    message: str

    def to_json(self) -> dict:
        return {"message": self.message}


Answer = Union[CommandResponse, TacticResponse, ErrorResponse]


def parse_answer(d: dict) -> Answer:
    """Type one decoded answer. Raises :class:`ProtocolError` on a shape the protocol lacks."""
    if not isinstance(d, dict):
        raise ProtocolError(f"answer is not a JSON object: {d!r:.200}")
    try:
        if set(d) == {"message"}:
            return ErrorResponse(d["message"])
        if "proofState" in d and "goals" in d:
            return TacticResponse.of(d)
        if "env" in d:
            return CommandResponse.of(d)
    except (KeyError, TypeError, ValueError) as e:
        raise ProtocolError(f"malformed answer ({e!r}): {json.dumps(d)[:300]}") from e
    raise ProtocolError(f"unknown answer shape with fields {sorted(d)}")


def encode_request(request: dict) -> bytes:
    """One request on the wire: compact JSON (no raw newlines: the REPL would drop them) + blank line."""
    return (json.dumps(request, ensure_ascii=False) + "\n\n").encode()
