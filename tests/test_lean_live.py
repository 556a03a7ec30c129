"""Checks that need a live Lean (``make lean-setup``); skipped, with the reason shown, without one."""
from __future__ import annotations

import pytest

from lean_env import paths

pytestmark = [
    pytest.mark.lean,
    pytest.mark.skipif(paths.lake() is None or not paths.repl_binary().exists(),
                       reason="needs a live Lean: `lake` or the REPL is missing (run `make lean-setup`)"),
]


@pytest.fixture(scope="module")
def problem():
    from lean_env.problems import load_dir
    [p] = [p for p in load_dir(split="valid") if p.name == "mathd_numbertheory_188"] or [None]
    if p is None:
        pytest.skip("mathd_numbertheory_188 not in the data")
    return p


def test_env_and_checker_agree(problem):
    from lean_env.check import check_proof
    from lean_env.env import LeanEnv
    from prover.env import ProofFinished, TacticError
    with LeanEnv(timeout=120) as env:
        root = env.open(problem)
        assert isinstance(env.apply(root, "exact my_fake_premise"), TacticError)
        done = env.apply(root, "norm_num")
        assert isinstance(done, ProofFinished)
    v = check_proof(problem, list(done.proof))
    assert v.accepted, v.reason
    assert set(v.axioms) <= {"propext", "Classical.choice", "Quot.sound"}


def test_checker_rejects_sorry_and_wrong_proof(problem, tmp_path):
    from lean_env.check import check_file, render_proof
    f = tmp_path / "bad.lean"
    f.write_text(render_proof(problem, ["norm_num"]).replace("norm_num", "exact rfl\n  done"))
    assert not check_file(f, problem.name).accepted
