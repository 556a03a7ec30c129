"""Supervision of a proof-assistant process, the same for every backend.

A prover runs in a process group of its own (``lake env`` runs the Lean REPL as a child;
micromega runs helpers under coqtop), optionally under an address-space limit, so that a
hang, a crash or a blown memory budget is handled by killing the whole group and starting
again. What is rebuilt after a restart is the backend's business (its replay).
"""
from __future__ import annotations

import os
import resource
import signal
import subprocess
from typing import Callable, Sequence, TypeVar

T = TypeVar("T")


def popen(argv: Sequence[str], *, mem_limit_mb: float = 0, **kw) -> subprocess.Popen:
    """Start ``argv`` in a new session (its own process group); with ``mem_limit_mb`` > 0
    under that address-space limit. ``kw`` goes to :class:`subprocess.Popen`."""
    limit = int(mem_limit_mb * 1024 * 1024) if mem_limit_mb else 0

    def _limits():
        os.setsid()
        if limit > 0:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return subprocess.Popen(list(argv), preexec_fn=_limits, **kw)


def kill_group(proc: subprocess.Popen | None, wait: float = 10.0) -> None:
    """Kill ``proc``'s whole process group and reap ``proc``.

    The group is killed even when ``proc`` itself has already exited: a helper it started
    (micromega's ``csdpcert`` and its ``csdp``, an ATP under CoqHammer) outlives its parent
    and would otherwise keep a core busy for minutes."""
    if proc is None:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        if proc.poll() is None:
            proc.kill()
    try:
        proc.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        pass


def kill_helpers(pid: int) -> int:
    """SIGKILL every live descendant of ``pid`` (not ``pid`` itself); return how many.

    A proof assistant answers one sentence at a time, so a helper process still running once
    it has answered works for a tactic that was interrupted (Coq's ``Timeout`` stops the tactic
    but leaves micromega's ``csdpcert`` running, measured for seconds to minutes, at 3 GB)."""
    killed = 0
    for p in _descendants(pid):
        if _zombie(p):
            continue
        try:
            os.kill(p, signal.SIGKILL)
            killed += 1
        except (ProcessLookupError, PermissionError):
            pass
    return killed


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return True


def run_group(argv: Sequence[str], *, timeout: float, **kw) -> subprocess.CompletedProcess:
    """``subprocess.run(argv, capture_output=True, text=True, timeout=timeout)``, in a process
    group of its own that is killed whole on a timeout (and afterwards, for any helper left):
    ``subprocess.run`` would kill only ``argv[0]`` and orphan its helpers."""
    proc = popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        proc.communicate()
        raise subprocess.TimeoutExpired(list(argv), timeout) from None
    kill_group(proc)
    return subprocess.CompletedProcess(list(argv), proc.returncode, out, err)


def rss_mb(pid: int, children: bool = False) -> float:
    """Resident memory of ``pid`` (and, with ``children``, of all its descendants) in MB."""
    total = 0
    for p in [pid, *(_descendants(pid) if children else ())]:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            continue
    return total / 1024


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, their children, ...), read from /proc."""
    out, todo, seen = [], _children(pid), {pid}
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        out.append(p)
        todo.extend(_children(p))
    return out


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out.extend(int(x) for x in f.read().split())
    except OSError:
        pass
    return out


def retry_once(fn: Callable[[], T], died: type[BaseException] | tuple, before_retry: Callable[[], None] | None = None) -> T:
    """Run ``fn``; if the process died under it (``died``), rebuild (``before_retry``) and run
    it once more: a process killed from outside costs nothing, a tactic that kills it twice
    is that tactic's fault (the second exception propagates)."""
    try:
        return fn()
    except died:
        if before_retry is not None:
            before_retry()
        return fn()
