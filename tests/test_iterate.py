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


def _iterate(cfg_path, cwd, code=None):
    """``prover iterate`` in a session of its own; with ``code``, that Python runs instead."""
    argv = ["-c", code] if code else ["-m", "prover.cli", "iterate", "--config", str(cfg_path), "--quiet"]
    return subprocess.Popen([sys.executable, *argv], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


# `prover iterate` whose training waits, once its first checkpoint is complete, at a FIFO that
# nobody reads (opening it for writing blocks): it cannot get past that step until it is killed.
TRAINING_GATE = """
import sys
import prover.train as train
save = train.save_checkpoint

def save_then_wait(accelerator, tm, out_dir, step, *rest, **kw):
    save(accelerator, tm, out_dir, step, *rest, **kw)
    open({gate!r}, "w").close()

train.save_checkpoint = save_then_wait
from prover.cli import main
sys.exit(main(["iterate", "--config", {config!r}, "--quiet"]))
"""


def _kill_when(proc, cond, limit=900):
    """Wait until ``cond()`` holds while ``proc`` runs (``limit`` only stops a hang: each test
    waits for a state the run cannot leave), then kill its group and every process below it
    (the provers have sessions of their own); asserts it was the kill that ended it."""
    from prover.process import _descendants
    deadline, family = time.monotonic() + limit, []
    try:
        while not cond():
            assert proc.poll() is None, f"the run ended first ({proc.returncode}): {proc.stderr.read()[-2000:]}"
            assert time.monotonic() < deadline, "the run never reached the state to kill it in"
            time.sleep(0.1)
        family = _descendants(proc.pid)
    finally:
        for kill, pid in [(os.killpg, proc.pid)] + [(os.kill, pid) for pid in family]:
            try:
                kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL


def _rows(db, sql):
    try:
        with sqlite3.connect(db) as c:
            return c.execute(sql).fetchall()
    except sqlite3.Error:
        return []


@pytest.mark.slow
def test_resume_after_kill_in_training_and_in_search(tmp_path, coq_available, minif2f_coq):
    """Killed in the middle of round 0's training, then in the middle of its search, the run
    resumes each time and ends with nothing lost and nothing counted twice. Both kills land
    mid-step by construction: training waits after its first checkpoint (TRAINING_GATE), and
    the pool holds one more problem whose loading waits at a gate (a FIFO Coq's `Redirect`
    blocks on); it goes away for the last run."""
    gates = tmp_path / "gates"
    gate = tmp_path / "gate"
    os.mkfifo(f"{gate}.out")
    (gates / "stuck.v").parent.mkdir()
    (gates / "stuck.v").write_text(f'Redirect "{gate}_reached" Check 1.\nRedirect "{gate}" Check 1.\n'
                                   "Theorem stuck : False.\nProof.\nAdmitted.\n")
    tiny_pool = json.loads(TINY.read_text())["pool"]
    cfg_path = tiny_config(tmp_path, "resume", rounds=1,  # both kills land in round 0
                           pool=tiny_pool + [{"problems": str(gates)}])
    pool_names = sorted(tiny_pool[0]["names"])
    run = tmp_path / "runs" / "resume"
    (tmp_path / "runs").mkdir()
    db = run / "proofs.db"
    shutil.copytree(REPO / "data", tmp_path / "data")  # configs and seed, relative to cwd
    # 1. killed in the middle of training round 0: its first checkpoint is written, the rest never
    training_gate = tmp_path / "training_gate"
    os.mkfifo(training_gate)
    p = _iterate(cfg_path, tmp_path, TRAINING_GATE.format(gate=str(training_gate), config=str(cfg_path)))
    ckpt = run / "models" / "round_0" / "checkpoints"
    _kill_when(p, lambda: any((c / "progress.json").exists() for c in ckpt.glob("step-*[0-9]")))
    assert [c.name for c in ckpt.glob("step-*[0-9]")] == ["step-0000025"]  # the first (save_every 25 of 150)
    assert not (run / "models" / "round_0" / "metrics.json").exists()
    # 2. killed in the middle of the round-0 search: the six problems recorded, the seventh at its gate
    p = _iterate(cfg_path, tmp_path)
    model_rows = "select problem from attempts where policy = 'model' order by id"
    _kill_when(p, lambda: os.path.exists(f"{gate}_reached.out") and len(_rows(db, model_rows)) == 6)
    assert sorted(pr.split("/")[-1] for pr, in _rows(db, model_rows)) == pool_names
    before = _rows(db, "select id, problem, round, policy from attempts order by id")
    proofs_before = _rows(db, "select id, problem, proof from proofs where accepted = 1 order by id")
    # 3. run to the end
    os.unlink(f"{gate}.out")
    p = _iterate(cfg_path, tmp_path)
    out, err = p.communicate(timeout=900)
    assert p.returncode == 0, err
    metrics = json.loads((run / "models" / "round_0" / "metrics.json").read_text())
    assert metrics["resumed_from"] == 25, "training did not resume from its checkpoint"
    after = _rows(db, "select id, problem, round, policy from attempts order by id")
    assert after[:len(before)] == before                      # nothing lost
    keys = [(pr, r, pol) for _, pr, r, pol in after]
    assert len(keys) == len(set(keys))                        # nothing counted twice
    assert sorted(pr.split("/")[-1] for pr, in _rows(db, model_rows)) == sorted(pool_names + ["stuck"])
    proofs_after = _rows(db, "select id, problem, proof from proofs where accepted = 1 order by id")
    assert proofs_after[:len(proofs_before)] == proofs_before
    assert len((run / "rounds.csv").read_text().splitlines()) == 2


@pytest.mark.slow
def test_tiny_round_with_a_learned_ranker_and_a_tries_budget(tmp_path, coq_available, minif2f_coq):
    """ranker: learned trains a ranker on the menu's seed trees before round 0's search, which
    then applies at most search.tries candidates per expansion, and again on every training tree
    after it, for the evaluation; the evaluation's trees never train it."""
    tiny = json.loads(TINY.read_text())
    cfg = IterateConfig.load(tiny_config(tmp_path, "ranked", rounds=1, bootstrap_menu_expansions=1,
                                         bootstrap_policy="menu+hyps", ranker="learned",
                                         search={**tiny["search"], "tries": 6}))
    exp = Experiment(cfg, root=tmp_path / "runs", progress=False)
    rows = exp.run()
    seed = json.loads((exp.dir / "models" / "ranker_seed.json").read_text())["meta"]
    meta = json.loads((exp.dir / "models" / "ranker_0.json").read_text())["meta"]
    assert 0 < seed["examples"] < meta["examples"]  # round 0's search trees came in
    assert exp.state["ranker_model"].endswith("ranker_0.json")
    eval_keys = {a["problem"] for a in exp.db.attempts_of(["eval"])}
    from prover.policy.ranker import examples
    assert eval_keys and not {g["problem"] for g in examples(exp.db, eval_keys)} & eval_keys
    for a in exp.db.attempts_of(["model", "eval"]):
        assert 0 < a["tries"] <= 6 * a["expansions"]
    header = (exp.dir / "rounds.csv").read_text().splitlines()[0].split(",")
    assert "tries_per_problem" in header and "ranker_recall" in header
    assert 0 < rows[0]["tries_per_problem"] <= 6 * cfg.eval_expansions
