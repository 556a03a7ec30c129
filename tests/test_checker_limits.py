"""The checkers' limits (issue #37): a missing `coqc` or `coqchk` is one clear line, a `coqc` or
`coqchk` that does not finish is a refusal within the timeout (never a hang, never a traceback),
and the Lean checker kills the whole process group of `lake` on a timeout (a helper it started
must not outlive it). Real `coqc`; `coqchk` and `lake` are replaced by scripts only where a hang
must be produced on purpose (a real one cannot be made to hang deterministically)."""
from __future__ import annotations

import os
import shutil
import signal
import time

import pytest

from prover import process
from tests.conftest import wait_gone

THEOREM = "Theorem t : True.\nProof.\n  exact I.\nQed.\n"
# Coq never finishes this proof: `repeat` of an assert that always succeeds
LOOPING = "Theorem loops : True.\nProof.\n  repeat (assert True by exact I).\n  exact I.\nQed.\n"


def _kill_leftovers(pidfile) -> None:
    """SIGKILL what a failed test left of the hanging script and its helper: only pids still
    running one of them (a pid that ended may have been reused by another process)."""
    if not pidfile.exists():
        return
    for p in (int(x) for x in pidfile.read_text().split()):
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                cmd = f.read()
            if b"sleep\x00600" in cmd or str(pidfile.parent).encode() in cmd:
                os.kill(p, signal.SIGKILL)
        except OSError:
            pass


def _bin(tmp_path, *, coqc: bool, coqchk_script: str | None = None):
    """A PATH directory with (a link to) the real coqc when ``coqc``, and a ``coqchk`` script."""
    d = tmp_path / "bin"
    d.mkdir(exist_ok=True)
    if coqc:
        real = shutil.which("coqc")
        assert real, "coqc is not installed: run `make setup`"
        (d / "coqc").symlink_to(real)
    if coqchk_script is not None:
        (d / "coqchk").write_text(coqchk_script)
        (d / "coqchk").chmod(0o755)
    return d


def _hanging_script(pidfile) -> str:
    """A program that starts a helper and waits for it: both pids go to ``pidfile``."""
    return f"#!/bin/sh\n/bin/sleep 600 &\necho $$ $! > {pidfile}\nwait\n"


def _pids(pidfile, seconds: float = 10.0) -> list[int]:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if pidfile.exists():
            pids = [int(x) for x in pidfile.read_text().split()]
            if len(pids) == 2:
                return pids
        time.sleep(0.02)
    raise AssertionError(f"{pidfile} never listed the script and its helper")


# ---- missing binaries: one clear line ----------------------------------------------------------

def test_missing_coqc_is_one_clear_line(tmp_path, monkeypatch, capsys):
    from coq_env.check import check_file
    from prover.cli import main
    f = tmp_path / "t.v"
    f.write_text(THEOREM)
    monkeypatch.setenv("PATH", str(_bin(tmp_path, coqc=False)))
    v = check_file(f)
    assert not v.accepted and v.reason.startswith("coqc not found") and "\n" not in v.reason
    rc = main(["check", str(f)])
    out = capsys.readouterr().out
    assert rc == 1 and out.strip().splitlines() == [f"rejected: {v.reason}"]


def test_missing_coqchk_is_one_clear_line(tmp_path, monkeypatch, coq_available):
    """coqc is there (the file compiles), coqchk is not: the second opinion says so in one line."""
    from coq_env.check import check_file
    f = tmp_path / "t.v"
    f.write_text(THEOREM)
    monkeypatch.setenv("PATH", str(_bin(tmp_path, coqc=True)))
    assert check_file(f, timeout=60).accepted  # the file itself is fine
    v = check_file(f, timeout=60, second_opinion=True)
    assert not v.accepted and v.reason.startswith("coqchk not found") and "\n" not in v.reason


# ---- timeouts: a refusal, never a hang ------------------------------------------------------------

@pytest.fixture
def started(monkeypatch):
    """The processes `prover.process.popen` starts (a spy: they run as they would)."""
    procs = []
    real = process.popen

    def spy(*a, **kw):
        p = real(*a, **kw)
        procs.append(p)
        return p
    monkeypatch.setattr(process, "popen", spy)
    yield procs
    for p in procs:  # what a failed test left running (poll: never a pid that was reaped)
        if p.poll() is None:
            process.kill_group(p)


def test_coqc_that_does_not_finish_is_refused_and_killed(tmp_path, started, coq_available):
    from coq_env.check import check_file
    f = tmp_path / "loops.v"
    f.write_text(LOOPING)
    v = check_file(f, timeout=2)
    assert not v.accepted and v.reason == "coqc did not finish within 2s"
    assert started and all(wait_gone(p.pid) for p in started)  # no coqc left running


def test_coqchk_that_does_not_finish_is_refused_and_its_group_killed(tmp_path, monkeypatch, started, coq_available):
    """coqc compiles the file, then coqchk hangs (a script that starts a helper and waits):
    the verdict is a refusal naming coqchk, and the script and its helper are both gone."""
    from coq_env.check import check_file
    f = tmp_path / "t.v"
    f.write_text(THEOREM)
    pidfile = tmp_path / "coqchk.pids"
    monkeypatch.setenv("PATH", str(_bin(tmp_path, coqc=True, coqchk_script=_hanging_script(pidfile))))
    try:
        v = check_file(f, timeout=3, second_opinion=True)
        pids = _pids(pidfile)
        assert not v.accepted and v.reason == "coqchk did not finish within 3s"
        assert all(wait_gone(p) for p in pids)
    finally:
        _kill_leftovers(pidfile)


def test_lean_checker_kills_the_whole_process_group_on_timeout(tmp_path, monkeypatch):
    """`lake env lean` runs Lean as a child of lake: on a timeout both must go, not just lake
    (an orphaned Lean keeps a core and gigabytes for minutes). Lean is not installed here: a
    fake `lake` starts a helper that sleeps and waits for it."""
    from lean_env import check, paths
    from prover.problems import Problem
    prob = Problem(name="t", split="", backend="lean", header="import Mathlib",
                   statement="theorem t (x : ℕ) (h : x = 2) :\n  x + 1 = 3")
    f = tmp_path / "t.lean"
    f.write_text(check.render_proof(prob, ["omega"]), encoding="utf-8")
    pidfile = tmp_path / "lake.pids"
    lake = tmp_path / "lake"
    lake.write_text(_hanging_script(pidfile))
    lake.chmod(0o755)
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.setattr(paths, "lake", lambda: str(lake))
    monkeypatch.setenv("PROVER_LEAN_PROJECT", str(project))
    try:
        v = check.check_file(f, timeout=2)
        pids = _pids(pidfile)
        assert not v.accepted and v.reason == "lean did not finish within 2s"
        script, helper = pids
        assert wait_gone(script), "lake itself is still running"
        assert wait_gone(helper), "lake's child outlived the timeout (only lake was killed, not its group)"
    finally:
        _kill_leftovers(pidfile)
