"""Every registered backend honours the Backend interface (prover.backends): Coq on a real
coqtop and coqc, Lean through the recorded-transcript stand-in (tests needing a live Lean
are skipped, visibly). Also: prover/ reaches a backend only through the registry."""
from __future__ import annotations

import ast
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from prover import backends  # noqa: E402
from prover.backends import Backend  # noqa: E402
from prover.env import EnvError, Goal, Hyp, NewState, ProofFinished, State, TacticError  # noqa: E402
from prover.problems import Problem, ProblemError  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Case:
    """What the suite needs to know about one backend to exercise it."""
    name: str
    problem_file: str          # a problem file in the backend's format
    proof: tuple[str, ...]     # a proof of it, tactic by tactic (as the environment takes them)
    cheat: str                 # a tactic the cheat filter must refuse
    goal: Goal                 # a goal with an equation hypothesis (templates)
    live: bool                 # the environment and checker are the real proof assistant here
    env_problem: Problem | None = None  # what the recorded session opened, when not the file's


    def env(self):
        if self.name == "lean":
            from lean_fixtures import fake_env
            return fake_env("proof_branching")
        return backends.get(self.name).make_env(timeout=5)


COQ = Case("coq", """Require Import Arith.
Theorem conf_add (a b : nat) (h : a = b) : a + 0 = b /\\ b = a.
Proof.
Admitted.
""", ("split.", "lia.", "lia."), "admit.",
    Goal((Hyp(("a", "b"), "nat"), Hyp(("h",), "a = b")), "a + 0 = b"), True)

LEAN = Case("lean", """import Mathlib

theorem complex_and (p q r : Prop) (h1 : p ∧ q) (h2 : q → r) : p ∧ r := by
  sorry
""", ("apply And.intro", "exact h1.left", "apply h2", "exact h1.right"), "sorry",
    Goal((Hyp(("x", "y"), "ℝ"), Hyp(("h₀",), "x + y = 10")), "x = 6", style="lean"), False,
    # the recorded REPL session elaborated this statement without a header
    Problem("complex_and", "", "lean", "",
            "theorem complex_and (p q r : Prop) (h1 : p ∧ q) (h2 : q → r) : p ∧ r"))

CASES = {"coq": COQ, "lean": LEAN}


def test_every_registered_backend_has_a_case():
    assert set(backends.names()) == set(CASES), "add a conformance Case for the new backend"


@pytest.fixture(params=sorted(CASES))
def case(request):
    return CASES[request.param]


@pytest.fixture
def problem(case, tmp_path):
    ext = {"coq": ".v", "lean": ".lean"}[case.name]
    name = "conf_add" if case.name == "coq" else "complex_and"
    f = tmp_path / f"{name}{ext}"
    f.write_text(case.problem_file, encoding="utf-8")
    return backends.get(case.name).parse_problem(f)


def test_registry_gives_the_named_backend(case):
    b = backends.get(case.name)
    assert isinstance(b, Backend) and b.name == case.name and backends.get(b) is b
    assert b.dataset and isinstance(b.auto_trace, bool)
    with pytest.raises(ValueError, match="unknown backend"):
        backends.get("isabelle")
    with pytest.raises(EnvError, match="unknown backend"):
        backends.check_available("isabelle")


def test_menu_and_templates_are_spelled_and_pass_the_cheat_filter(case):
    b = backends.get(case.name)
    assert b.menu
    for t in list(b.menu) + b.templates(case.goal):
        assert b.refusal(t) is None, t
        assert b.normalise(b.normalise(t)) == b.normalise(t)  # idempotent
    ts = b.templates(case.goal)
    assert any("h" in t and t.split()[0] in ("rewrite", "rw") for t in ts)
    assert b.refusal(case.cheat)


def test_parse_problem_and_malformed_file(case, problem, tmp_path):
    b = backends.get(case.name)
    assert isinstance(problem, Problem) and problem.backend == case.name
    assert problem.name in problem.statement and problem.header
    bad = tmp_path / ("bad.v" if case.name == "coq" else "bad.lean")
    bad.write_text("this is not a problem file (*", encoding="utf-8")
    with pytest.raises(ProblemError) as e:
        b.parse_problem(bad)
    assert "bad." in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("content", [b"", b"   \n\n", b"Theorem t : True.\n\xff\xfe\x00 broken\n"],
                         ids=["empty", "blank", "not-utf8"])
def test_empty_or_undecodable_problem_file_is_one_line(case, content, tmp_path):
    b = backends.get(case.name)
    bad = tmp_path / ("odd.v" if case.name == "coq" else "odd.lean")
    bad.write_bytes(content)
    with pytest.raises(ProblemError) as e:
        b.parse_problem(bad)
    assert "odd." in str(e.value) and "\n" not in str(e.value)


def test_load_problems_from_its_dataset(case):
    from prover.paths import dataset
    b = backends.get(case.name)
    if not dataset(b.dataset).is_dir():
        pytest.skip(f"{dataset(b.dataset)} not found: run `make data`")
    ps = b.load_problems(None, split="test", limit=3)
    assert len(ps) == 3 and all(p.backend == case.name and p.split == "test" for p in ps)


def test_render_proof_and_comment(case, problem):
    b = backends.get(case.name)
    text = b.render_proof(problem, list(case.proof))
    assert problem.statement.strip() in text and all(t.rstrip(".") in text for t in case.proof)
    from prover.check import render_proof
    assert render_proof(problem, list(case.proof)) == text  # the dispatcher reaches the backend's
    c = b.comment("attempt 3 *) evil")
    assert "\n" not in c and "attempt 3" in c


def test_environment_walks_the_proof_and_refuses_the_cheat(case, problem, coq_available):
    if case.name == "lean":
        import lean_transcripts as T
        if not T.TRANSCRIPTS.is_dir():
            pytest.skip(f"{T.TRANSCRIPTS} not found: run `make data`")
    with case.env() as env:
        state = env.open(case.env_problem or problem)
        assert isinstance(state, State) and state.goals
        refused = env.apply(state, case.cheat)
        assert isinstance(refused, TacticError) and refused.refused
        out = None
        for t in case.proof:
            out = env.apply(state, t)
            assert isinstance(out, (NewState, ProofFinished)), (t, out)
            if isinstance(out, NewState):
                state = out.state
        assert isinstance(out, ProofFinished)
        b = backends.get(case.name)
        assert [b.normalise(t) for t in out.proof] == [b.normalise(t) for t in case.proof]


def test_checker_accepts_the_proof_and_rejects_the_cheat(case, problem, coq_available):
    b = backends.get(case.name)
    if not case.live:
        try:
            b.check_available()
        except EnvError as e:
            pytest.skip(f"needs a live {case.name}: {e}")
    assert b.check_proof(problem, list(case.proof)).accepted
    v = b.check_proof(problem, [case.cheat])
    assert not v.accepted and v.reason


def test_tracer_refuses_an_option_it_does_not_take(case, tmp_path):
    with pytest.raises(ValueError, match="takes no option"):
        backends.get(case.name).trace(tmp_path / "c", bogus_option=1)


# ---- the seam itself ------------------------------------------------------------------

def _code_strings(tree: ast.AST) -> list[ast.Constant]:
    """String constants that are not docstrings."""
    docs = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = getattr(node, "body", [])
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docs.add(id(body[0].value))
    return [n for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
            and id(n) not in docs]


def test_prover_reaches_backends_only_through_the_registry():
    """No module of prover/ imports coq_env or lean_env, names them in code, or compares a
    value with a backend's name: only prover/backends.py's registry lines name them."""
    names = set(backends.names())
    offences = []
    for path in sorted((ROOT / "prover").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                mods = [node.module or ""]
            else:
                mods = []
            for m in mods:
                if m.split(".")[0] in ("coq_env", "lean_env"):
                    offences.append(f"{rel}:{node.lineno}: imports {m}")
            if isinstance(node, ast.Compare):
                for side in [node.left, *node.comparators]:
                    if isinstance(side, ast.Constant) and side.value in names:
                        offences.append(f"{rel}:{node.lineno}: compares with {side.value!r}")
        if rel != "prover/backends.py":
            for s in _code_strings(tree):
                if s.value.startswith(("coq_env", "lean_env")):
                    offences.append(f"{rel}:{s.lineno}: names {s.value!r}")
    assert not offences, "\n".join(offences)


def test_each_backend_registers_one_object_from_one_module():
    for name, where in backends.REGISTRY.items():
        module, attr = where.split(":")
        assert module == f"{name}_env.backend" and attr == "BACKEND"
