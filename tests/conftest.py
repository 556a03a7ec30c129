"""Shared fixtures: a real Coq environment and small real problem files."""
from __future__ import annotations

import os
import shutil
import textwrap
import time

import pytest

from prover.paths import dataset


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not)."""
    from prover.process import _zombie
    return os.path.exists(f"/proc/{pid}") and not _zombie(pid)


def wait_gone(pid: int, seconds: float = 60.0) -> bool:
    """Whether ``pid`` is gone (or a zombie), polling: it returns as soon as it is; the bound
    only stops a test that would otherwise hang (a kill is not instant)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not pid_alive(pid):
            return True
        time.sleep(0.02)
    return False


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


@pytest.fixture(scope="session")
def coq_available():
    if not shutil.which("coqtop"):
        pytest.fail("coqtop is not installed: run `make setup` (make test installs it)")
    return True


@pytest.fixture
def problem_dir(tmp_path):
    """A flat directory of small Coq problems (one real, one broken, one not elaborating)."""
    d = tmp_path / "problems"
    write(d / "add_zero.v", """
        Require Import Arith.
        Theorem add_zero : forall n : nat, n + 0 = n.
        Proof.
        Admitted.
        """)
    write(d / "real_lin.v", """
        Require Import Reals.
        Open Scope R_scope.
        Theorem real_lin (x y : R) (h0 : x + y = 10) (h1 : x - y = 2) : x = 6.
        Proof.
        Admitted.
        """)
    write(d / "two_goals.v", """
        Require Import Arith.
        Theorem two_goals (a b : nat) (h : a = b) : a + 0 = b /\\ b = a.
        Proof.
        Admitted.
        """)
    return d


@pytest.fixture(scope="session")
def minif2f_coq():
    d = dataset("minif2f-coq")
    if not d.is_dir():
        pytest.skip(f"miniF2F-coq not found at {d}: run `make data`")
    return d


@pytest.fixture
def env(coq_available):
    from coq_env.env import CoqEnv
    e = CoqEnv(timeout=10)  # generous: a loaded 2-core machine must give the same verdicts (tests that want a timeout say so)
    yield e
    e.close()


def first_proof(env, state, tactics, timeout=5):
    """The first of ``tactics`` that proves ``state`` outright (its ProofFinished), or None."""
    from prover.env import ProofFinished
    for t in tactics:
        out = env.apply(state, t, timeout=timeout)
        if isinstance(out, ProofFinished):
            return out
    return None
