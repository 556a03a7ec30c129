"""Process supervision (`prover.process`): helper processes that a proof assistant leaves running
(micromega's `csdpcert` after Coq's `Timeout`, anything under a `coqc` that ran out of time) are
killed, not orphaned: an orphan keeps a core busy for minutes and slows every later tactic."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

from prover.process import kill_group, kill_helpers, popen, run_group
from tests.conftest import pid_alive, wait_gone


# The waits below return as soon as what they wait for happened; their bounds only stop a test
# that would otherwise hang, and are far beyond what a loaded machine needs.
def _read_pids(path, n: int, seconds: float = 60.0) -> list[int]:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if path.exists():
            pids = [int(x) for x in path.read_text().split()]
            if len(pids) >= n:
                return pids
        time.sleep(0.02)
    raise AssertionError(f"{path} never listed {n} pids")


def test_kill_helpers_kills_descendants_not_the_process(tmp_path):
    pids = tmp_path / "pids"
    # a parent with a child that has a child of its own: all of them must go but the parent
    proc = popen(["sh", "-c", f"sh -c 'sleep 600 & echo $! >> {pids}; wait' & echo $! >> {pids}; "
                              f"sleep 600 & echo $! >> {pids}; exec sleep 600"])
    try:
        helpers = _read_pids(pids, 3)
        assert kill_helpers(proc.pid) == 3
        assert all(wait_gone(p) for p in helpers)
        assert proc.poll() is None  # the process itself is left alone
        assert kill_helpers(proc.pid) == 0  # zombies are not counted again
    finally:
        kill_group(proc)


def test_kill_group_kills_helpers_that_outlive_their_parent(tmp_path):
    pids = tmp_path / "pids"
    proc = popen(["sh", "-c", f"sleep 600 & echo $! > {pids}"])
    helper = _read_pids(pids, 1)[0]
    proc.wait(timeout=60)  # the parent is gone, its helper runs on in the same group
    assert pid_alive(helper)
    kill_group(proc)
    assert wait_gone(helper)


def test_run_group_kills_the_whole_group_on_timeout(tmp_path, monkeypatch):
    from prover import process
    pids = tmp_path / "pids"
    real_popen = process.popen

    def popen_then_wait_for_the_helper(argv, **kw):  # the 0.5 s start once the helper runs
        proc = real_popen(argv, **kw)
        _read_pids(pids, 1)
        return proc

    monkeypatch.setattr(process, "popen", popen_then_wait_for_the_helper)
    with pytest.raises(subprocess.TimeoutExpired):
        # no output: the pipes close at once, only the timeout can end the call
        run_group(["sh", "-c", f"exec >/dev/null 2>&1; sleep 600 & echo $! > {pids}; exec sleep 600"], timeout=0.5)
    helper = _read_pids(pids, 1)[0]
    assert wait_gone(helper)
    monkeypatch.undo()
    r = run_group([sys.executable, "-c", "print('ok')"], timeout=30)
    assert (r.returncode, r.stdout.strip()) == (0, "ok")


@pytest.mark.skipif(shutil.which("csdpcert") is None, reason="Coq's csdpcert is not installed (make setup)")
def test_a_psatz_timeout_leaves_no_solver_running(tmp_path, monkeypatch):
    """Coq's `Timeout` stops `psatz` but not the `csdpcert` it started (measured: still running
    seconds later, one for 20 minutes at 3 GB); the environment kills it once Coq answers.

    Made deterministic: the `csdp` that `csdpcert` runs is one that never answers (first on
    PATH), and Coq's alarm is rung (SIGALRM, what `Timeout` itself uses) once it runs, so the
    timeout always lands while the solver works."""
    import signal
    import threading

    from coq_env import env as coq_env_module
    from prover.backends import make_env
    from prover.env import TacticTimeout
    from prover.problems import Problem
    from prover.process import _descendants
    started = tmp_path / "csdp.pids"
    fake = tmp_path / "bin" / "csdp"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\necho $$ >> {started}\nexec sleep 600\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(coq_env_module, "EARLY_TIMEOUT", 0.0)  # the rung alarm is believed at once
    p = Problem("psatz_heavy", "valid", "coq", "Require Import Reals Psatz.\nOpen Scope R_scope.",
                "Theorem psatz_heavy (a b c d e : R) (h0 : 0 < a) (h1 : 0 < b) (h2 : 0 < c) (h3 : 0 < d) :"
                " a^4*b + b^4*c + c^4*d + d^4*a + e^6 >= a*b*c*d*(a+b+c+d) - e^3*a*b.")
    with make_env("coq", timeout=120.0) as env:
        root = env.open(p)
        coq, running = env.coq, []

        def ring_the_alarm_once_the_solver_runs():
            [solver] = _read_pids(started, 1, seconds=120)
            running.extend(_descendants(coq.pid))
            assert solver in running
            os.kill(coq.pid, signal.SIGALRM)

        ring = threading.Thread(target=ring_the_alarm_once_the_solver_runs, daemon=True)
        ring.start()
        out = env.apply(root, "intros; psatz R 6")
        ring.join(timeout=120)
        assert out == TacticTimeout(120.0)
        assert env.coq is coq and env.restarts == 0
        # csdpcert, the shell it runs csdp in, and csdp: all killed once Coq answered
        assert len(running) == 3 and coq.helpers_killed == 3
        assert all(wait_gone(c) for c in running)
        assert not [c for c in _descendants(coq.pid) if pid_alive(c)]  # zombies aside: Coq reaps them
