"""Expert iteration end to end on real Coq with real (tiny) models: the `tiny` preset."""
from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from prover.loop.iterate import Experiment, IterateConfig

REPO = Path(__file__).resolve().parent.parent
TINY = REPO / "data" / "configs" / "tiny.json"


def tiny_config(tmp_path, name="tiny", **overrides):
    cfg = json.loads(TINY.read_text())
    cfg["name"] = name
    cfg.update(overrides)
    cfg["corpus"] = str(tmp_path / "corpus")
    cfg["trace"]["roots"] = [str(REPO / "data" / "seed")]
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(cfg))
    return path


@pytest.mark.slow
def test_tiny_two_rounds_feed_proofs_back(tmp_path, coq_available, minif2f_coq):
    cfg = IterateConfig.load(tiny_config(tmp_path))
    exp = Experiment(cfg, root=tmp_path / "runs", progress=False)
    rows = exp.run()
    assert [r["round"] for r in rows] == [0, 1]
    lines = (exp.dir / "rounds.csv").read_text().splitlines()
    assert lines[0].startswith("round,valid_proved,pool_size,test_proved") and len(lines) == 3
    assert (exp.dir / "progress.png").stat().st_size > 1000
    # every proof the model found in round 0 is in the round-1 training set
    found = exp.db.query("select pr.steps from proofs pr join attempts a on a.id = pr.attempt_id "
                         "where pr.accepted = 1 and a.policy = 'model' and a.round = 0")
    assert found, "the round-0 model found no proof in the tiny pool"
    # the new verified pairs of each round, by source: round 0's include the model's proofs
    assert "new_pairs" in lines[0].split(",")
    assert rows[0]["new_pairs_proof"] >= 1 and rows[0]["new_pairs"] == sum(
        rows[0][f"new_pairs_{s}"] for s in ("proof", "hindsight", "conjecture"))
    train1 = [json.loads(l) for l in (exp.dir / "data" / "round_1.jsonl").read_text().splitlines()]
    pairs1 = {(p["goals"], p["tactic"]) for p in train1}
    for row in found:
        steps = row["steps"] if isinstance(row["steps"], list) else json.loads(row["steps"])
        assert steps and all((g, t) in pairs1 for g, t in steps)
    # the evaluation split never reached a training set
    eval_keys = {r["problem"] for r in exp.db.query("select problem from attempts where policy = 'eval'")}
    assert eval_keys and all(p.get("problem") not in eval_keys for p in train1)
    assert rows[1]["valid_proved"] >= rows[0]["valid_proved"]
    pool = {r["problem"] for r in exp.db.query("select problem from attempts where policy = 'model'")}
    for r in rows:  # pool proved as of each round, not as of the last one
        assert r["valid_proved"] == len(exp.db.accepted_problems(max_round=r["round"]) & pool)
    assert exp.db.accepted_problems(max_round=-1) == set()


def _iterate(cfg_path, cwd):
    return subprocess.Popen([sys.executable, "-m", "prover.cli", "iterate", "--config", str(cfg_path), "--quiet"],
                            cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _kill_when(proc, cond, limit=300):
    deadline = time.time() + limit
    while time.time() < deadline and proc.poll() is None:
        if cond():
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.05)
    return False


def _rows(db, sql):
    try:
        with sqlite3.connect(db) as c:
            return c.execute(sql).fetchall()
    except sqlite3.Error:
        return []


@pytest.mark.slow
def test_resume_after_kill_in_training_and_in_search(tmp_path, coq_available, minif2f_coq):
    cfg_path = tiny_config(tmp_path, "resume", rounds=1)  # both kills land in round 0
    run = tmp_path / "runs" / "resume"
    (tmp_path / "runs").mkdir()
    db = run / "proofs.db"
    shutil.copytree(REPO / "data", tmp_path / "data")  # configs and seed, relative to cwd
    # 1. killed in the middle of training round 0 (a checkpoint exists, the model does not)
    p = _iterate(cfg_path, tmp_path)
    ckpt = run / "models" / "round_0" / "checkpoints"
    done = lambda: ckpt.exists() and any((c / "progress.json").exists() for c in ckpt.glob("step-*[0-9]"))
    assert _kill_when(p, done), p.stderr.read()
    assert not (run / "models" / "round_0" / "metrics.json").exists()
    # 2. killed in the middle of the round-0 search
    p = _iterate(cfg_path, tmp_path)
    assert _kill_when(p, lambda: len(_rows(db, "select id from attempts where policy = 'model'")) >= 2), \
        p.stderr.read()
    before = _rows(db, "select id, problem, round, policy from attempts order by id")
    proofs_before = _rows(db, "select id, problem, proof from proofs where accepted = 1 order by id")
    # 3. run to the end
    p = _iterate(cfg_path, tmp_path)
    out, err = p.communicate(timeout=900)
    assert p.returncode == 0, err
    metrics = json.loads((run / "models" / "round_0" / "metrics.json").read_text())
    assert metrics["resumed_from"], "training did not resume from its checkpoint"
    after = _rows(db, "select id, problem, round, policy from attempts order by id")
    assert after[:len(before)] == before                      # nothing lost
    keys = [(pr, r, pol) for _, pr, r, pol in after]
    assert len(keys) == len(set(keys))                        # nothing counted twice
    proofs_after = _rows(db, "select id, problem, proof from proofs where accepted = 1 order by id")
    assert proofs_after[:len(proofs_before)] == proofs_before
    assert len((run / "rounds.csv").read_text().splitlines()) == 2


@pytest.mark.slow
def test_tiny_round_with_a_learned_ranker_and_a_tries_budget(tmp_path, coq_available, minif2f_coq):
    """ranker: learned trains a ranker on the menu's seed trees before round 0's searches, which
    then apply at most search.tries candidates per expansion; the evaluation's trees never train it."""
    tiny = json.loads(TINY.read_text())
    cfg = IterateConfig.load(tiny_config(tmp_path, "ranked", rounds=1, bootstrap_menu_expansions=1,
                                         bootstrap_policy="menu+hyps", ranker="learned",
                                         search={**tiny["search"], "tries": 6}))
    exp = Experiment(cfg, root=tmp_path / "runs", progress=False)
    rows = exp.run()
    ranker = exp.dir / "models" / "ranker_0.json"
    assert ranker.exists()
    meta = json.loads(ranker.read_text())["meta"]
    assert meta["examples"] > 0
    eval_keys = {a["problem"] for a in exp.db.attempts_of(["eval"])}
    from prover.policy.ranker import examples
    assert eval_keys and not {g["problem"] for g in examples(exp.db, eval_keys)} & eval_keys
    for a in exp.db.attempts_of(["model", "eval"]):
        assert 0 < a["tries"] <= 6 * a["expansions"]
    header = (exp.dir / "rounds.csv").read_text().splitlines()[0].split(",")
    assert "tries_per_problem" in header and "ranker_recall" in header
    assert 0 < rows[0]["tries_per_problem"] <= 6 * cfg.eval_expansions
