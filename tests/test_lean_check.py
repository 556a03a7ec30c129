"""The checker's parts that need no Lean: refusals, file layout, and the missing-Lean verdict."""
from __future__ import annotations

import sys

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


FAKE_LAKE = """#!{python}
# `lake env lean --json FILE` as Lean answers a clean file: one information message, the axiom
# report for `t`, on the line of the `#print axioms` command the checker appended (the shape of
# Lean's --json messages). It accepts whatever it is given, so a refusal can only come from the
# checker, before Lean; every call is logged.
import json, sys
with open({log!r}, "a") as f:
    f.write(" ".join(sys.argv[1:]) + "\\n")
lines = open(sys.argv[-1], encoding="utf-8").read().split("\\n")
line = next(k for k, l in enumerate(lines, 1) if l.startswith("#print axioms "))
print(json.dumps({{"severity": "information", "pos": {{"line": line, "column": 0}},
                  "endPos": {{"line": line, "column": 13}}, "keepFullRange": False,
                  "fileName": sys.argv[-1], "caption": "",
                  "data": "'t' depends on axioms: [propext, Classical.choice, Quot.sound]"}}))
"""


@pytest.fixture
def fake_lake(monkeypatch, tmp_path):
    """A ``lake`` that accepts every file (see FAKE_LAKE); returns the log of its calls."""
    log = tmp_path / "lake.log"
    exe = tmp_path / "bin" / "lake"
    exe.parent.mkdir()
    exe.write_text(FAKE_LAKE.format(python=sys.executable, log=str(log)), encoding="utf-8")
    exe.chmod(0o755)
    (tmp_path / "project").mkdir()
    monkeypatch.setattr(paths, "lake", lambda: str(exe))
    monkeypatch.setenv("PROVER_LEAN_PROJECT", str(tmp_path / "project"))
    return log


def test_fake_lake_accepts_a_clean_proof(fake_lake):
    """The fake Lean of the refusal tests does accept: what they refuse, the checker refuses."""
    v = check.check_proof(PROB, ["norm_num [h]"])
    assert v.accepted, v.reason
    assert v.axioms == ("propext", "Classical.choice", "Quot.sound")
    assert fake_lake.read_text().startswith("env lean --json ")


@pytest.mark.parametrize("proof,why", [
    (["sorry"], "tactic 1 refused: forbidden word 'sorry'"),
    (["norm_num\n#exit"], "tactic 1 refused: command #exit (not a tactic)"),
    (["simp", "native_decide"], "tactic 2 refused: forbidden word 'native_decide'"),
    ([], "empty proof"),
])
def test_refused_proofs(proof, why, fake_lake):
    v = check.check_proof(PROB, proof)
    assert (v.accepted, v.reason) == (False, why)
    assert not fake_lake.exists()  # refused before any Lean ran


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


# ---- `--problem`: the file must state exactly the problem (no Lean needed to refuse) -------

def _file(tmp_path, text):
    f = tmp_path / "t.lean"
    f.write_text(text, encoding="utf-8")
    return f


def test_shape_accepts_the_rendered_proof():
    assert check.check_shape(check.render_proof(PROB, ["norm_num [h]"]), PROB) is None
    # layout and comments aside, the same tokens are the same statement
    text = check.render_proof(PROB, ["norm_num [h]"]).replace("(x : ℝ) (h : x = 2) :\n  x + 1 = 3",
                                                              "(x : ℝ)  -- a comment\n    (h : x = 2) : x + 1 = 3")
    assert check.check_shape(text, PROB) is None


@pytest.mark.parametrize("edit,why", [
    (lambda t: t.replace("x + 1 = 3 :=", "x + 1 = 3 ∨ True :="), "statement differs"),
    (lambda t: t.replace("(h : x = 2)", "(h : x = 2) (h' : False)"), "statement differs"),
    (lambda t: t.replace("open Real", "open Real Nat"), "does not start with the problem's header"),
    (lambda t: t + "\ntheorem t2 : True := trivial\n", "nothing may follow the proof"),
    (lambda t: t.replace(" := by", ""), "statement differs"),
])
def test_shape_refuses_another_statement(edit, why, fake_lake, tmp_path):
    text = edit(check.render_proof(PROB, ["norm_num [h]"]))
    assert why in check.check_shape(text, PROB)
    v = check.check_file(_file(tmp_path, text), problem=PROB)
    assert not v.accepted and why in v.reason
    assert not fake_lake.exists()  # the shape refuses first: no Lean ran (which would accept)


def test_cli_check_compares_the_file_with_problem(tmp_path, capsys):
    from prover.cli import main
    problem_file = tmp_path / "t_problem.lean"
    problem_file.write_text(f"{PROB.header}\n\n{PROB.statement} := by\n  sorry\n", encoding="utf-8")
    other = _file(tmp_path, check.render_proof(PROB, ["norm_num [h]"]).replace("x + 1 = 3 :=", "x + 1 = 3 ∨ True :="))
    rc = main(["check", "--backend", "lean", str(other), "--problem", str(problem_file)])
    out = capsys.readouterr().out
    assert rc == 1 and "statement differs" in out


# ---- judge_output: the verdict of Lean's --json messages, case by case --------------------

def _msg(line, data, severity="information"):
    import json
    return json.dumps({"severity": severity, "pos": {"line": line, "column": 0}, "data": data})


REPORT = "'t' depends on axioms: [propext, Classical.choice, Quot.sound]"


def test_judge_accepts_a_clean_report():
    v = check.judge_output(_msg(9, REPORT) + "\n", 0, "t", 9)
    assert v.accepted and v.axioms == ("propext", "Classical.choice", "Quot.sound")
    assert check.judge_output(_msg(9, "'t' does not depend on any axioms") + "\n", 0, "t", 9).accepted


@pytest.mark.parametrize("stdout,code,why", [
    (_msg(9, "'t' depends on axioms: [propext, sorryAx]"), 0, "outside the allow-list: sorryAx"),
    (_msg(9, "'t' depends on axioms: [propext, Classical.choice, cheat]"), 0, "outside the allow-list: cheat"),
    (_msg(4, "declaration uses 'sorry'", "warning") + "\n" + _msg(9, REPORT), 0, "uses sorry"),
    (_msg(4, "declaration uses `sorry`", "warning") + "\n" + _msg(9, REPORT), 0, "uses sorry"),  # v4.33 wording
    (_msg(9, REPORT) + "\n" + _msg(10, "'t' does not depend on any axioms"), 0, "messages after the axiom report"),
    (_msg(5, "unknown identifier 'foo'", "error") + "\n" + _msg(9, REPORT), 0, "error at line 5"),
    (_msg(9, REPORT) + "\n" + _msg(9, "'t' does not depend on any axioms"), 0, "found 2"),
    (_msg(9, REPORT, "warning"), 0, "severity warning"),
    (_msg(9, "'u' depends on axioms: [propext]"), 0, "not an axiom report for t"),
    (_msg(9, REPORT), 1, "exited with code 1"),
    ("", 0, "found 0"),
])
def test_judge_rejects(stdout, code, why):
    v = check.judge_output(stdout + "\n", code, "t", 9)
    assert not v.accepted and why in v.reason
