"""The checker's parts that need no Lean: refusals, file layout, and the missing-Lean verdict."""
from __future__ import annotations

import pytest

from lean_env import check, paths
from prover.check import check_file as dispatch_file, check_proof as dispatch_proof
from prover.problems import Problem

PROB = Problem(name="t", split="", backend="lean", header="import Mathlib\n\nset_option maxHeartbeats 0\n\nopen Real",
               statement="theorem t (x : ℝ) (h : x = 2) :\n  x + 1 = 3")


def test_not_installed(monkeypatch, tmp_path):
    monkeypatch.setattr(paths, "lake", lambda: None)
    v = dispatch_proof(PROB, ["rw [h]", "norm_num"])
    assert not v.accepted and v.reason == "lean is not installed: run `make lean-setup`"
    f = tmp_path / "t.lean"
    f.write_text(check.render_proof(PROB, ["norm_num [h]"]))
    assert dispatch_file(f, backend="lean").reason == paths.NOT_INSTALLED


def test_render_proof_layout():
    text = check.render_proof(PROB, ["rw [h]", "calc x + 1 = 2 + 1 := by rw [h]\n  _ = 3 := by norm_num"])
    assert text.endswith(":\n  x + 1 = 3 := by\n  rw [h]\n  calc x + 1 = 2 + 1 := by rw [h]\n    _ = 3 := by norm_num\n")
    full, line = check.with_axiom_command(text, "t")
    assert full.split("\n")[line - 1] == "#print axioms t"
    assert check.scan_file(text) is None and check.declared_theorems(text) == ["t"]


@pytest.mark.parametrize("proof", [["sorry"], ["norm_num\n#exit"], ["simp", "native_decide"], []])
def test_refused_proofs(proof, monkeypatch):
    monkeypatch.setattr(paths, "lake", lambda: "/usr/bin/false")
    assert not check.check_proof(PROB, proof).accepted


@pytest.mark.parametrize("extra,why", [
    ("\n#print axioms t\n", "#print"), ("\naxiom cheat : False\n", "axiom"),
    ("\nmacro \"x\" : command => `(#check 1)\n", "macro"), ("\nnamespace Foo\n", "namespace"),
    ("\nset_option debug.skipKernelTC true\n", "debug.skipKernelTC"), ("\n/- open comment\n", "unterminated"),
    ("\n@[implemented_by foo] def g := 1\n", "implemented_by"), ("\n#eval IO.println \"x\"\n", "#eval"),
])
def test_scan_file_refuses(extra, why):
    reason = check.scan_file(check.render_proof(PROB, ["norm_num [h]"]) + extra)
    assert reason and why in reason


def test_axiom_report_reading():
    assert check.parse_axioms("'t' does not depend on any axioms", "t") == ()
    assert check.parse_axioms("'t' depends on axioms: [propext, Classical.choice, Quot.sound]", "t") == \
        ("propext", "Classical.choice", "Quot.sound")
    assert check.parse_axioms("'u' depends on axioms: [propext]", "t") is None
    assert not check.judge_output("not json\n", 0, "t", 9).accepted
    assert not check.judge_output("", 0, "t", 9).accepted
