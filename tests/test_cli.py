"""The `prover` command end to end on real Coq: check, prove, one-line errors."""
from __future__ import annotations

import subprocess
import sys

from coq_env.check import render_proof
from coq_env.problems import parse_file
from tests.conftest import write


def run(*args):
    return subprocess.run([sys.executable, "-m", "prover.cli", *args], capture_output=True, text=True, timeout=600)


def test_check_accepts_and_rejects(problem_dir, tmp_path, coq_available):
    p = parse_file(problem_dir / "add_zero.v")
    good = tmp_path / "good" / "add_zero.v"
    good.parent.mkdir()
    good.write_text(render_proof(p, ["intros; lia."]))
    r = run("check", str(good))
    assert r.returncode == 0 and r.stdout.strip() == "accepted"
    r = run("check", str(good), "--problem", str(problem_dir / "add_zero.v"))
    assert r.returncode == 0 and r.stdout.strip() == "accepted"
    bad = write(tmp_path / "add_zero.v", p.header + "\n" + p.statement + "\nProof.\nAdmitted.\n")
    r = run("check", str(bad))
    assert r.returncode == 1 and r.stdout.startswith("rejected: ")
    r = run("check", str(tmp_path / "missing.v"))
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "missing.v" in r.stderr


def test_prove_menu_reports_each_problem(problem_dir, coq_available):
    write(problem_dir / "zz_broken.v", "Require Import Arith.\n")
    write(problem_dir / "zz_noelab.v", "Theorem zz_noelab : undefined_thing = 1.\nProof.\nAdmitted.\n")
    r = run("prove", "--backend", "coq", "--problems", str(problem_dir), "--workers", "2", "--timeout", "2")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert any(l.startswith("add_zero: proved") for l in lines)
    assert any(l.startswith("real_lin: proved") for l in lines)
    assert any(l.startswith("zz_noelab: skipped: zz_noelab: does not elaborate") for l in lines)
    assert "zz_broken.v" in r.stderr
    assert lines[-1].startswith("proved 3/3 (1 skipped")


def test_prove_missing_directory_is_one_line(tmp_path):
    r = run("prove", "--problems", str(tmp_path / "nope"))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1


def test_lean_runs_say_what_to_install(tmp_path):
    import shutil
    import pytest
    if shutil.which("lake"):
        pytest.skip("lean is installed here")
    from prover.loop.iterate import RUNS
    for args in (["iterate", "--config", "data/configs/tiny.json", "--backend", "lean"],
                 ["iterate", "--config", "data/configs/lean.json", "--name", "lean-missing-test"],
                 ["search", "--backend", "lean", "--split", "valid", "--db", str(tmp_path / "x.db")]):
        r = run(*args)
        assert r.returncode == 2 and r.stderr.strip() == "error: lean is not installed: run `make lean-setup`"
    assert not (RUNS / "lean-missing-test").exists()  # nothing made before the check
