"""A direct driver of the Lean REPL (github.com/leanprover-community/repl) over a pipe.

Why not lean-interact: the search needs exact control of three things a wrapper hides:
which process owns which ``env``/``proofState`` id, what happens on a hang (kill and
restart, then rebuild the state that was asked for), and when a bloated process is
recycled. The protocol is small enough to drive directly.

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

Ids are per process. :class:`LeanRepl` counts process starts in ``generation``;
:class:`Replayer` keeps a cache of ids for the current generation and rebuilds a proof
state after a restart by replaying the header command, the statement and the tactic path.
"""
from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence, Union

from . import paths


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


# --------------------------------------------------------------------------- process


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out.extend(int(x) for x in f.read().split())
    except OSError:
        pass
    return out


def rss_kb(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants (``lake env`` runs the REPL as a child)."""
    total, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            continue
        todo.extend(_children(p))
    return total


class LeanRepl:
    """One REPL process at a time, restarted on demand.

    ``command``: argv of the REPL (default ``lake env <lean_home>/repl/.lake/build/bin/repl``),
    run in ``cwd`` (default: the Mathlib project). ``timeout``: default seconds per request.
    ``memory_limit_mb``: :meth:`over_memory_limit` turns true above it (the caller recycles at
    a point where no id is in flight, see :class:`Replayer`).
    """

    def __init__(self, command: Sequence[str] | str | None = None, cwd: str | Path | None = None,
                 timeout: float = 60.0, memory_limit_mb: float | None = None,
                 env: dict | None = None):
        if isinstance(command, str):
            command = [command]
        self.argv = list(command) if command else paths.default_repl_command()
        self.cwd = str(cwd) if cwd else (str(paths.lean_project()) if command is None else None)
        self.timeout = timeout
        self.memory_limit_mb = memory_limit_mb
        self.env = env
        self.generation = 0          # number of processes started so far
        self.restarts = 0            # kills/crashes/recycles
        self.noise: deque[str] = deque(maxlen=50)   # non-JSON stdout chunks, for debugging
        self._proc: subprocess.Popen | None = None
        self._buf = b""
        self._stderr: deque[str] = deque(maxlen=200)

    # ---- lifecycle
    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self) -> None:
        if self.alive:
            return
        self._reap()
        if not self.argv:
            raise ReplNotInstalled(paths.NOT_INSTALLED)
        try:
            self._proc = subprocess.Popen(
                self.argv, cwd=self.cwd, env=self.env, stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        except FileNotFoundError as e:
            raise ReplNotInstalled(f"{paths.NOT_INSTALLED} ({e.filename} not found)") from e
        self._buf = b""
        self._stderr.clear()
        threading.Thread(target=self._drain_stderr, args=(self._proc,), daemon=True).start()
        self.generation += 1

    def _drain_stderr(self, proc: subprocess.Popen) -> None:
        for line in iter(proc.stderr.readline, b""):
            self._stderr.append(line.decode(errors="replace"))

    def stderr_tail(self) -> str:
        return "".join(self._stderr)

    def _reap(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                proc.kill()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for s in (proc.stdin, proc.stdout):
            try:
                s.close()
            except OSError:
                pass

    def kill(self) -> None:
        """Kill the process group; the next request starts a fresh process (new ids)."""
        if self._proc is not None:
            self.restarts += 1
        self._reap()

    def restart(self) -> None:
        self.kill()
        self.start()

    def close(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            try:
                proc.stdin.close()    # EOF: the REPL's loop returns
                proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._reap()

    def rss_mb(self) -> float:
        return rss_kb(self._proc.pid) / 1024 if self.alive else 0.0

    def over_memory_limit(self) -> bool:
        return bool(self.memory_limit_mb) and self.alive and self.rss_mb() > self.memory_limit_mb

    # ---- requests
    def send(self, request: dict, timeout: float | None = None) -> Answer:
        """Send one request and return its typed answer.

        Raises :class:`ReplTimeout` (process killed), :class:`ReplCrashed` (process gone; the
        next call starts a new one) or :class:`ProtocolError`.
        """
        return parse_answer(self.send_raw(request, timeout))

    def send_raw(self, request: dict, timeout: float | None = None) -> dict:
        self.start()
        seconds = self.timeout if timeout is None else timeout
        try:
            self._proc.stdin.write(encode_request(request))
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self._crashed("the Lean REPL exited before reading the request")
        return self._read_answer(seconds, request)

    def _crashed(self, what: str):
        proc = self._proc
        if proc is not None:
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
            time.sleep(0.05)  # let the stderr thread catch up
            code = proc.poll()
            what += f" (exit code {code})" if code is not None else ""
        err = self.stderr_tail()
        self.kill()
        raise ReplCrashed(what, err)

    def _read_answer(self, seconds: float, request: dict) -> dict:
        deadline = time.monotonic() + seconds
        fd = self._proc.stdout.fileno()
        sel = selectors.DefaultSelector()
        sel.register(fd, selectors.EVENT_READ)
        try:
            while True:
                answer = self._next_chunk()
                if answer is not None:
                    return answer
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    self.kill()
                    raise ReplTimeout(seconds, request)
                data = os.read(fd, 1 << 16)
                if not data:
                    self._crashed("the Lean REPL exited without answering")
                self._buf += data
        finally:
            sel.close()

    def _next_chunk(self) -> dict | None:
        """Pop the next complete answer off the buffer; non-JSON chunks are kept as noise."""
        while True:
            idx = self._buf.find(b"\n\n")
            if idx < 0:
                return None
            chunk, self._buf = self._buf[:idx], self._buf[idx + 2:]
            text = chunk.decode(errors="replace").strip()
            if not text:
                continue
            start = text.find("{")
            if start < 0:
                self.noise.append(text)
                continue
            try:
                obj = json.loads(text[start:])
            except json.JSONDecodeError:
                self.noise.append(text)
                continue
            if start > 0:
                self.noise.append(text[:start])
            return obj

    # ---- typed helpers
    def command(self, cmd: str, env: int | None = None, *, all_tactics: bool = False,
                root_goals: bool = False, infotree: str | None = None,
                timeout: float | None = None) -> Answer:
        req: dict = {"cmd": cmd}
        if env is not None:
            req["env"] = env
        if all_tactics:
            req["allTactics"] = True
        if root_goals:
            req["rootGoals"] = True
        if infotree:
            req["infotree"] = infotree
        return self.send(req, timeout)

    def file(self, path: str, env: int | None = None, *, all_tactics: bool = False,
             timeout: float | None = None) -> Answer:
        req: dict = {"path": str(path)}
        if env is not None:
            req["env"] = env
        if all_tactics:
            req["allTactics"] = True
        return self.send(req, timeout)

    def tactic(self, tactic: str, proof_state: int, timeout: float | None = None) -> Answer:
        return self.send({"tactic": tactic, "proofState": proof_state}, timeout)

    def pickle_env(self, path: str, env: int, timeout: float | None = None) -> Answer:
        return self.send({"pickleTo": str(path), "env": env}, timeout)

    def pickle_proof_state(self, path: str, proof_state: int, timeout: float | None = None) -> Answer:
        return self.send({"pickleTo": str(path), "proofState": proof_state}, timeout)

    def unpickle_env(self, path: str, timeout: float | None = None) -> Answer:
        return self.send({"unpickleEnvFrom": str(path)}, timeout)

    def unpickle_proof_state(self, path: str, env: int | None = None,
                             timeout: float | None = None) -> Answer:
        req: dict = {"unpickleProofStateFrom": str(path)}
        if env is not None:
            req["env"] = env
        return self.send(req, timeout)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# --------------------------------------------------------------------------- replay


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
