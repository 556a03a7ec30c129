"""A direct driver of the Lean REPL (github.com/leanprover-community/repl) over a pipe:
one process at a time, killed with its process group on a hang or a crash and started
again on the next request. The protocol it speaks is :mod:`lean_env.protocol`.

Why not lean-interact: the search needs exact control of three things a wrapper hides:
which process owns which ``env``/``proofState`` id, what happens on a hang (kill and
restart, then rebuild the state that was asked for), and when a bloated process is
recycled. The protocol is small enough to drive directly.

Ids are per process. :class:`LeanRepl` counts process starts in ``generation``;
:class:`lean_env.replay.Replayer` keeps a cache of ids for the current generation and
rebuilds a proof state after a restart by replaying the header command, the statement and
the tactic path.
"""
from __future__ import annotations

import json
import os
import selectors
import subprocess
import threading
import time
from collections import deque
from pathlib import Path
from typing import Sequence

from prover import process

from . import paths
from .protocol import Answer, ReplCrashed, ReplNotInstalled, ReplTimeout, encode_request, parse_answer


class LeanRepl:
    """One REPL process at a time, restarted on demand.

    ``command``: argv of the REPL (default ``lake env <lean_home>/repl/.lake/build/bin/repl``),
    run in ``cwd`` (default: the Mathlib project). ``timeout``: default seconds per request.
    ``memory_limit_mb``: :meth:`over_memory_limit` turns true above it (the caller recycles at
    a point where no id is in flight, see :class:`lean_env.replay.Replayer`).
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
        process.kill_group(proc, wait=10)
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
        return process.rss_mb(self._proc.pid, children=True) if self.alive else 0.0

    def over_memory_limit(self) -> bool:
        return bool(self.memory_limit_mb) and self.alive and self.rss_mb() > self.memory_limit_mb

    # ---- requests
    def send(self, request: dict, timeout: float | None = None) -> Answer:
        """Send one request and return its typed answer.

        Raises :class:`ReplTimeout` (process killed), :class:`ReplCrashed` (process gone; the
        next call starts a new one) or :class:`~lean_env.protocol.ProtocolError`.
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
