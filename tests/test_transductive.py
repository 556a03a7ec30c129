"""Transductive runs (issue #36): `prover iterate --target DIR` iterates on the problems a user
wants proved, learning only from their own trees, on real Coq with a real (tiny) model.

The target is built so that learning is what proves the second problem: ``two_abs`` falls to
the menu and templates step by step within the budget (12 expansions: a case split into 4
cases), ``four_abs`` (four absolute values: 16 cases) does not, at any round's budget; a macro
compiled from round 0's accepted proof of ``two_abs`` closes ``four_abs`` in one step in round
1. One worker, and ``four_abs`` comes first: round 0 searches it before anything is proved."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from prover.db import ProofDB
from prover.loop.config import ConfigError, IterateConfig
from prover.loop.iterate import Experiment
from tests.conftest import write

REPO = Path(__file__).resolve().parent.parent
TINY = REPO / "data" / "configs" / "tiny.json"
HEADER = "Require Import Reals Lra.\nOpen Scope R_scope.\n"


def _target(tmp_path) -> Path:
    d = tmp_path / "mine"
    write(d / "two_abs.v", HEADER + "Theorem two_abs : forall x : R, 0 <= x <= 1 -> Rabs (x - 1) + Rabs x = 1.\n"
                                  "Proof.\nAdmitted.\n")
    write(d / "four_abs.v", HEADER + "Theorem four_abs : forall y : R, 2 <= y <= 3 -> "
                                  "Rabs (y - 3) + Rabs (y - 2) + Rabs (y - 1) + Rabs y = 2 * y.\nProof.\nAdmitted.\n")
    write(d / "broken.v", "(* a file that states nothing *)\n")  # malformed: skipped with one line
    return d


def _config(tmp_path, target, **over) -> Path:
    cfg = json.loads(TINY.read_text())
    cfg.update(name="mine", target=str(target), corpus=str(tmp_path / "corpus"), rounds=2, workers=1,
               bootstrap_menu_expansions=0, eval_names=None,
               budget={"base": 12, "growth": 1.0, "max_budget": 12, "solved_retry": 0},
               selfplay={"enabled": False})
    cfg["trace"]["roots"] = [str(REPO / "data" / "seed")]
    cfg["decode"] = {**cfg.get("decode", {}), "sources": ["menu", "templates", "macros"]}
    cfg.update(over)
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(cfg))
    return path


def _proofs(db) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in db.proofs():
        out.setdefault(r["problem"].split("/")[-1], []).append(r)
    return out


@pytest.mark.slow
def test_round_one_proves_from_the_targets_own_trees(tmp_path, coq_available, capsys, monkeypatch):
    """...and a run killed in round 1's search (before its attempt is recorded) resumes and
    loses nothing."""
    target = _target(tmp_path)
    cfg = IterateConfig.load(_config(tmp_path, target))
    assert cfg.transductive and cfg.name == "mine-transductive" and cfg.pool == [{"problems": str(target)}]
    real, killed = ProofDB.record_attempt, []

    def killed_in_round_one(self, result, run_id, round, *rest, **kw):
        if round == 1 and not killed:
            killed.append(result.problem)
            raise KeyboardInterrupt  # the process dies here: this attempt is never recorded
        return real(self, result, run_id, round, *rest, **kw)

    monkeypatch.setattr(ProofDB, "record_attempt", killed_in_round_one)
    exp = Experiment(cfg, root=tmp_path / "runs", progress=False)
    try:
        with pytest.raises(KeyboardInterrupt):
            exp.run()
        before = [(a["id"], a["problem"], a["round"], a["policy"]) for a in exp.db.attempts_of()]
        proofs_before = [(r["id"], r["proof"]) for r in exp.db.proofs()]
    finally:
        exp.close()
    assert killed and [b[2] for b in before] == [0, 0]  # round 0's two attempts, none of round 1
    monkeypatch.undo()
    exp = Experiment(IterateConfig.load(_config(tmp_path, target)), root=tmp_path / "runs", progress=False)
    try:
        rows = exp.run()
        after = [(a["id"], a["problem"], a["round"], a["policy"]) for a in exp.db.attempts_of()]
        assert after[:len(before)] == before and len(set(a[1:] for a in after)) == len(after)  # nothing lost or twice
        assert [(r["id"], r["proof"]) for r in exp.db.proofs()][:len(proofs_before)] == proofs_before
        assert [(r["round"], r["mode"], r["valid_proved"], r["pool_size"]) for r in rows] == \
            [(0, "transductive", 1, 2), (1, "transductive", 2, 2)]
        proofs = _proofs(exp.db)
        [a] = proofs["two_abs"]
        assert a["round"] == 0 and a["length"] >= 3          # round 0: step by step
        [b] = proofs["four_abs"]
        assert b["round"] == 1 and b["length"] == 1          # round 1: one step ...
        _, _, edges = exp.db.tree_rows(b["attempt_id"])
        [closing] = [e for e in edges if e["outcome"] == "proved"]
        assert closing["source"] == "macros"                 # ... a macro of the run's own proof of two_abs
        assert all(step.strip(". ") in closing["tactic"] for step in a["proof"].split("\n")[1:])
        assert not exp.db.attempts_of(["eval"]) and not exp.db.attempts_of(["menu-baseline"])  # no evaluation split
    finally:
        exp.close()
    assert "skipped:" in capsys.readouterr().err                    # the malformed file, in one line
    lines = (tmp_path / "runs" / "mine-transductive" / "rounds.csv").read_text().splitlines()
    assert all(line.endswith(",transductive") for line in lines[1:]) and len(lines) == 3
    assert not (tmp_path / "runs" / "mine").exists()                # never an inductive run's directory
    # every proof as a file that `prover check` accepts
    out = subprocess.run([sys.executable, "-m", "prover", "db", "proofs", str(exp.dir / "proofs.db"),
                          "--problem", "four_abs"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "Theorem four_abs" in out.stdout
    proof_file = tmp_path / "four_abs.v"
    proof_file.write_text(out.stdout)
    check = subprocess.run([sys.executable, "-m", "prover", "check", str(proof_file), "--problem",
                            str(target / "four_abs.v")], capture_output=True, text=True, timeout=300)
    assert check.returncode == 0 and check.stdout.startswith("accepted"), check.stdout + check.stderr


def test_a_transductive_config_is_checked(tmp_path):
    cfg = IterateConfig.load(_config(tmp_path, "test", stop_after_stale=2))
    assert cfg.pool == [{"split": "test"}] and cfg.name == "mine-transductive"  # the test split is the target
    with pytest.raises(ConfigError, match="stop_after_stale must be 0"):
        IterateConfig.load(_config(tmp_path, "test", stop_after_stale=-1))
    empty = tmp_path / "empty"
    empty.mkdir()
    exp = Experiment(IterateConfig.load(_config(tmp_path, empty)), root=tmp_path / "runs", progress=False)
    try:
        with pytest.raises(ConfigError, match="no problem to prove"):
            exp.load_sets()
    finally:
        exp.close()


@pytest.mark.slow
def test_a_run_that_proves_nothing_new_stops(tmp_path, coq_available):
    d = tmp_path / "hard"
    write(d / "hard.v", "Theorem hard : forall n : nat, n * n = n + 2 -> False.\nProof.\nAdmitted.\n")
    cfg = IterateConfig.load(_config(tmp_path, d, rounds=5, stop_after_stale=1,
                                     budget={"base": 1, "growth": 1.0, "max_budget": 1}))
    exp = Experiment(cfg, root=tmp_path / "runs", progress=False)
    try:
        rows = exp.run()
    finally:
        exp.close()
    assert [r["round"] for r in rows] == [0] and rows[0]["new_proofs"] == 0


@pytest.mark.slow
def test_a_run_without_a_tactic_model_learns_from_the_targets_trees(tmp_path, coq_available):
    """``tactic_model: false`` (the ``target-ranked`` preset's way): no model is trained or
    asked; the policy is the sources in the learned ranker's order, and what round 1 knows that
    round 0 did not comes from the target's own trees: the macro of round 0's proof, and a
    ranker trained on round 0's edges."""
    target = _target(tmp_path)
    path = _config(tmp_path, target, tactic_model=False, ranker="learned", corpus=str(tmp_path / "no-corpus"))
    cfg = IterateConfig.load(path)
    exp = Experiment(cfg, root=tmp_path / "runs", progress=False)
    try:
        rows = exp.run()
        assert [(r["round"], r["valid_proved"], r["training_pairs"], r["train_seconds"]) for r in rows] == \
            [(0, 1, 0, 0.0), (1, 2, 0, 0.0)]
        assert all(r["tries_per_problem"] > 0 for r in rows)  # of the round's search: there is no evaluation
        [b] = _proofs(exp.db)["four_abs"]
        _, _, edges = exp.db.tree_rows(b["attempt_id"])
        assert [e["source"] for e in edges if e["outcome"] == "proved"] == ["macros"]
        assert {a["policy"] for a in exp.db.attempts_of()} == {"model"}  # the loop's label, no model in it
        assert not exp.done("seed.ranker").get("examples")              # round 0: no trees yet, the fixed order
        ranker = json.loads((exp.dir / "models" / "ranker_0.json").read_text())
        assert ranker["meta"]["examples"] > 0                          # round 1's: trained on round 0's edges
        assert exp.state["ranker_model"].endswith("ranker_1.json")     # retrained after round 1's search
    finally:
        exp.close()
    assert not (exp.dir / "models" / "round_0").exists() and not (tmp_path / "no-corpus").exists()
    with pytest.raises(ConfigError, match="needs decode.sources"):
        IterateConfig.load(_config(tmp_path, target, tactic_model=False, decode={"k": 2}))
