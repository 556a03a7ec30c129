"""Self-play on real Coq: hindsight lemmas from solved goals (failed searches included), and
conjectures (stuck subgoals, named mutations) screened, firewalled and selected."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from prover import backends
from prover.db import ProofDB
from prover.env import Goal, Hyp, parse_goals_text
from prover.labels import LeakError
from prover.policy import PolicySpec
from prover.backends import load_problems
from prover.search import SearchConfig
from prover.search.runner import run_search
from prover.selfplay import SelfPlayConfig
from prover.selfplay import conjecture as C
from prover.selfplay import hindsight as H
from tests.conftest import write

ROOT = Path(__file__).resolve().parent.parent
COQ = backends.get("coq")


@pytest.fixture
def searched(tmp_path, coq_available):
    """A failed search whose tree solved two of three goals (x*y = 25 is false), and a
    proved one, both training problems; and an 'evaluation' problem searched too."""
    d = tmp_path / "problems"
    write(d / "valid" / "three.v", """
        Require Import Reals.
        Open Scope R_scope.
        Theorem three (x y : R) (h0 : x + y = 10) (h1 : x - y = 2) : x = 6 /\\ y = 4 /\\ x * y = 25.
        Proof.
        Admitted.
        """)
    write(d / "valid" / "easy.v", """
        Require Import Arith.
        Theorem easy (a b : nat) (h : a = b) : a + 0 = b /\\ b = a.
        Proof.
        Admitted.
        """)
    write(d / "test" / "held.v", """
        Require Import Arith.
        Theorem held (a : nat) : a + 0 = a /\\ 0 + a = a.
        Proof.
        Admitted.
        """)
    pool = load_problems("coq", d, split="valid")
    evalp = load_problems("coq", d, split="test")
    db = ProofDB(tmp_path / "proofs.db")
    cfg = SearchConfig(max_expansions=6, tactic_timeout=5)
    run_search(pool, db, backend="coq", spec=PolicySpec.named("menu+hyps"), cfg=cfg, workers=1, progress=False,
               label="model")
    run_search(evalp, db, backend="coq", spec=PolicySpec.named("menu"), cfg=cfg, workers=1, progress=False,
               label="eval")
    yield db, pool, evalp
    db.close()


def test_goal_text_round_trip():
    g = (Goal((Hyp(("x", "y"), "R"), Hyp(("h0",), "x + y = 10"), Hyp(("n",), "nat", "5")), "x = 6"), Goal((), "True"))
    from prover.env import goals_text
    assert parse_goals_text(goals_text(g)) == g
    lean = (Goal((Hyp(("x", "y"), "ℝ"),), "x = x", case="h", style="lean"),)
    assert parse_goals_text(goals_text(lean), "lean") == lean
    assert COQ.statement(g[0], "l") is None  # a let-bound hypothesis is not stated
    assert COQ.statement(Goal((Hyp(("x", "y"), "R"), Hyp(("h0",), "x + y = 10")), "x = 6"), "l") == \
        "Lemma l (x y : R) (h0 : x + y = 10) : x = 6."


def test_hindsight_lemmas_from_a_failed_search_are_checked_and_train(searched):
    db, pool, evalp = searched
    pool_keys, eval_keys = {p.key for p in pool}, {p.key for p in evalp}
    three = db.attempts_of(["model"])
    assert {a["problem"]: a["outcome"] for a in three}["valid/three"] != "proved"
    cands = H.harvest(db, [a for a in three if a["problem"] in pool_keys], COQ, pool_keys, eval_keys)
    goals = {c.goal.split("⊢ ")[-1] for c in cands if c.problem == "valid/three"}
    assert {"x = 6", "y = 4"} <= goals and "x * y = 25" not in goals
    counts = H.verify(db, cands, {p.key: p for p in pool}, COQ, 0, workers=1, progress=False)
    assert counts == {"candidates": 2, "unstatable": 0, "checked": 2, "accepted": 2}  # x = 6 and y = 4
    rows = db.hindsight_rows(accepted_only=True)
    for r in rows:  # every accepted lemma passes `prover check` as a file of its own
        assert r["problem"] in pool_keys
        lemma = H.lemma_problem(H.Candidate(r["key"], r["problem"], r["attempt_id"], r["node"], r["goal"],
                                            r["proof"].split("\n")), {p.key: p for p in pool}[r["problem"]], COQ)
        f = Path(db.path).parent / f"{r['key']}.v"
        f.write_text(COQ.render_proof(lemma, r["proof"].split("\n")))
        out = subprocess.run([sys.executable, "-m", "prover", "check", str(f)], capture_output=True, text=True,
                             timeout=300)
        assert out.stdout.strip() == "accepted", out
    # their pairs are the tree's own (state, tactic) steps, from training problems only
    pairs = H.pairs(db, eval_keys)
    assert pairs and all(p["source"] == "hindsight" and p["problem"] in pool_keys for p in pairs)
    assert any(p["goals"].startswith("x, y : R") and p["tactic"] == "lra." for p in pairs)
    # checked goals are not checked again
    again = H.harvest(db, [a for a in three if a["problem"] in pool_keys], COQ, pool_keys, eval_keys)
    assert not ({c.key for c in again} & {r["key"] for r in rows})


def test_hindsight_never_reads_an_evaluation_tree(searched):
    db, pool, evalp = searched
    eval_attempts = db.attempts_of(["eval"])
    with pytest.raises(LeakError):
        H.harvest(db, eval_attempts, COQ, {p.key for p in pool}, {p.key for p in evalp})
    assert not H.harvest(db, eval_attempts, COQ, {p.key for p in pool}, set())  # not a training problem


def test_mutation_operators():
    g = Goal((Hyp(("x", "y"), "R"), Hyp(("h0",), "x = 3"), Hyp(("h1",), "0 < y"), Hyp(("h2",), "y + 1 = 7")),
             "x + y = 9")
    dropped = C.drop_hyp(g)
    # nothing else mentions h0, h1 or h2 by name: each can go; x, y are variables, not facts
    assert len(dropped) == 3 and all(len(d.hyps) == 3 for d in dropped)
    assert any(d.conclusion == "x + y = 10" for d in C.perturb_const(g))
    spec = C.specialise(g)
    assert any(s.conclusion == "3 + y = 9" and not any("h0" in h.names for h in s.hyps) for s in spec)
    assert [h.type for h in C.weaken(g)[0].hyps] == ["R", "x = 3", "0 <= y", "y + 1 = 7"]
    # the order symbols are the backend's (Lean writes ≤), passed through mutations
    lean = backends.get("lean").order_symbols
    assert [h.type for h in C.weaken(g, lean)[0].hyps] == ["R", "x = 3", "0 ≤ y", "y + 1 = 7"]
    [w] = C.mutations([("valid/p", g)], ["weaken"], 1, seed=1, order=lean)
    assert w.goal.hyps[2].type == "0 ≤ y"
    assert C.goal_key(g.text()) == C.goal_key(g.text().replace(" ", "  "))
    ms = C.mutations([("valid/p", g)], ["drop_hyp", "weaken"], 3, seed=1)
    assert len(ms) == 3 and {m.operator for m in ms} == {"drop_hyp", "weaken"}
    assert C.mutations([("valid/p", g)], ["drop_hyp"], 10, 1) == C.mutations([("valid/p", g)], ["drop_hyp"], 10, 1)


def test_stuck_subgoals_come_best_first_from_unsolved_trees(searched):
    db, pool, _ = searched
    st = C.stuck(db, db.attempts_of(["model"]), "coq", limit=5, per_problem=2)
    assert st and all(c.parent == "valid/three" and c.operator == "stuck" for c in st)
    assert [c.score for c in st] == sorted((c.score for c in st), reverse=True)


def test_conjectures_are_screened_firewalled_and_keep_their_provenance(searched, tmp_path):
    db, pool, evalp = searched
    parents = {p.key: p for p in pool}
    eval_goal = db.tree_rows(db.attempts_of(["eval"])[0]["id"])[1]
    eval_root = next(n["goals"] for n in eval_goal.values() if n["parent"] is None)
    cands = [
        C.Candidate("valid/three", "perturb_const", Goal((Hyp(("x",), "R"), Hyp(("h",), "x = 3")), "x + 1 = 4")),
        C.Candidate("valid/three", "drop_hyp", Goal((Hyp(("x",), "R"),), "x = undefined_thing")),  # no such name
        C.Candidate("valid/easy", "weaken", Goal((), "(1 + 1 = 2)%nat")),                    # reflexivity: trivial
        C.Candidate("valid/three", "specialise", Goal((Hyp(("x",), "R"), Hyp(("h",), "x = 3")), "x + 1 = 4")),  # dup
        C.Candidate("test/held", "drop_hyp", Goal((), "True")),                                # from an eval problem
        C.Candidate("valid/easy", "stuck", parse_goals_text(eval_root)[0]),                    # equals an eval goal
    ]
    counts = C.propose(db, cands, COQ, 0, {**parents, **{p.key: p for p in evalp}}, set(parents),
                       {p.key for p in evalp}, {C.normalise(eval_root)})
    assert counts == {"candidates": 6, "refused": 2, "unstatable": 0, "duplicate": 1, "proposed": 3}
    rows = {r["operator"]: r for r in db.conjectures()}
    assert rows["perturb_const"]["parent"] == "valid/three" and rows["perturb_const"]["round"] == 0
    assert all(r["status"] == "proposed" for r in rows.values())
    screened = C.screen(db, "coq", 60.0, workers=1, progress=False)  # a verdict, whatever the machine's load
    rows = {r["operator"]: r for r in db.conjectures()}
    assert rows["drop_hyp"]["status"] == "not_elaborated" and "undefined_thing" in rows["drop_hyp"]["reason"]
    assert rows["weaken"]["status"] == "trivial"
    assert rows["perturb_const"]["status"] == "trivial"  # x = 3 -> x + 1 = 4: lra
    assert screened == {"not_elaborated": 1, "trivial": 2, "open": 0, "error": 0}
    # the conjecture's problem row carries its statement in its parent's header
    p = db.problem(rows["weaken"]["key"])
    assert p["split"] == "conj" and p["header"] == parents["valid/easy"].header


def test_selection_keeps_the_barely_provable(searched, tmp_path):
    """Solved at the first budget: easy (dropped); only at a larger one: proved (kept);
    never: kept, and it joins the pool."""
    db, pool, evalp = searched
    parents = {p.key: p for p in pool}
    cands = [C.Candidate("valid/easy", "drop_hyp", Goal((Hyp(("a", "b"), "nat"),), "a + 0 = a /\\ b = b")),
             C.Candidate("valid/easy", "perturb_const", Goal((Hyp(("a",), "nat"),), "a + 1 = a"))]
    C.propose(db, cands, COQ, 0, parents, set(parents), set(), set())
    for r in db.conjectures():
        db.set_conjecture(r["key"], status="open")
    spec = PolicySpec.named("menu", k=2)  # the two first menu tactics: neither closes a conjunction

    def search(problems, label, spec, b):
        return run_search(problems, db, backend="coq", spec=spec, label=label,
                          cfg=SearchConfig(max_expansions=b, tactic_timeout=5), workers=1, progress=False)

    counts = C.select(db, search, spec, 0, [1, 3])
    by = {r["operator"]: r for r in db.conjectures()}
    assert by["perturb_const"]["status"] == "kept"  # false: a + 1 <> a
    assert counts["kept"] == 1 and counts["easy"] + counts["proved"] == 1


def test_selfplay_config_is_checked():
    with pytest.raises(ValueError, match="unknown selfplay keys"):
        SelfPlayConfig.from_dict({"hindsigth": True})
    with pytest.raises(ValueError, match="operator"):
        SelfPlayConfig.from_dict({"operators": ["stuck", "negate"]})
    with pytest.raises(ValueError, match="growing"):
        SelfPlayConfig.from_dict({"attempt_budgets": [4, 1]})
    assert SelfPlayConfig.from_dict(json.loads((ROOT / "data/configs/long.json").read_text())["selfplay"]).enabled


CONJECTURE_GATE = """
import sys
from prover.db.store import ProofDB
record = ProofDB.record_attempt

def record_then_wait(self, result, run_id, round, policy, *rest, **kw):
    out = record(self, result, run_id, round, policy, *rest, **kw)
    if policy == "conj-b1":
        open({gate!r}, "w").close()
    return out

ProofDB.record_attempt = record_then_wait
from prover.cli import main
sys.exit(main(["iterate", "--config", {config!r}, "--quiet"]))
"""


@pytest.mark.slow
def test_tiny_selfplay_run_killed_while_conjecturing_resumes_without_loss(tmp_path, coq_available):
    """`prover iterate` with self-play (the optional ``written`` operator on too), killed right
    after its first conjecture attempt is recorded (it waits at a gate there); the resumed run
    finishes, loses no conjecture or verdict, and counts no attempt twice."""
    cfg = json.loads((ROOT / "data/configs/tiny.json").read_text())
    cfg.update(name="sp", rounds=1, corpus=str(tmp_path / "corpus"))
    cfg["trace"]["roots"] = [str(ROOT / r) for r in cfg["trace"]["roots"]]  # the run's cwd is tmp_path
    cfg["selfplay"].update(enabled=True, written_parents=2, written_max_tokens=64,
                           operators=cfg["selfplay"].get("operators", list(C.OPERATORS[:-1])) + ["written"])
    conf = tmp_path / "sp.json"
    conf.write_text(json.dumps(cfg))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-m", "prover", "iterate", "--config", str(conf), "--quiet"]
    # the first run records its first conjecture attempt, then waits at a FIFO nobody reads
    # (opening it for writing blocks): it is killed mid-conjecturing by construction
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    code = CONJECTURE_GATE.format(gate=str(gate), config=str(conf))
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    db_path = tmp_path / "runs" / "sp" / "proofs.db"
    seen_before: dict = {}
    deadline = time.monotonic() + 900  # only stops a hang: the run cannot get past the gate
    while not seen_before:
        assert proc.poll() is None, f"the run ended first ({proc.returncode}): {proc.stderr.read()[-2000:]}"
        assert time.monotonic() < deadline, "the run never reached the conjecture attempts"
        time.sleep(0.2)
        if db_path.exists():
            with sqlite3.connect(db_path) as c:
                try:
                    if c.execute("select 1 from attempts where policy = 'conj-b1' limit 1").fetchall():
                        seen_before = {k: st for k, st in c.execute("select key, status from conjectures")}
                except sqlite3.Error:  # mid-creation
                    continue
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL  # the kill ended it, at the gate
    assert seen_before, "the run never reached the conjecture attempts"
    done = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    with ProofDB(db_path, create=False) as db:
        after = {r["key"]: r for r in db.conjectures()}
        assert set(seen_before) <= set(after)
        for k, st in seen_before.items():  # a verdict given before the kill stands
            if st not in ("proposed", "open"):
                assert after[k]["status"] == st
        assert all(r["status"] not in ("proposed", "open") for r in after.values())
        pairs = [(a["problem"], a["policy"], a["round"]) for a in db.attempts_of()]
        assert len(pairs) == len(set(pairs))  # no attempt counted twice
        assert all(r["parent"].startswith("valid/") or r["parent"].startswith("conj/") for r in after.values())
    rounds = (tmp_path / "runs" / "sp" / "rounds.csv").read_text().splitlines()
    assert "conj_proposed" in rounds[0] and "pairs_statements" in rounds[0] and len(rounds) == 2
    state = json.loads((tmp_path / "runs" / "sp" / "state.json").read_text())
    wrote = state["done"]["r0.conjecture"]["proposed"]  # the written operator ran in the loop
    assert wrote["written_parents"] >= 1 and wrote["written_sampled"] > 0


def test_hindsight_share_and_source_counts():
    from prover.loop.training import source_counts, with_share
    base = [{"goals": f"g{i}", "tactic": "t", "source": "proof"} for i in range(6)]
    extra = [{"goals": f"h{i}", "tactic": "t", "source": "hindsight"} for i in range(2)] + [dict(base[0])]
    mixed = with_share(base, extra, 0.5, seed=0)  # half of the non-corpus pairs: 6 hindsight pairs
    assert sum(p["source"] == "hindsight" for p in mixed) == 6 and len(mixed) == 12
    assert with_share(base, extra, 0.0, 0) == base and with_share([], extra, 0.3, 0) == extra
    counts = source_counts(mixed + [{"goals": "c", "tactic": "t"}])
    assert counts == {"corpus": 1, "proof": 6, "hindsight": 2, "conjecture": 0, "statement": 0}


def test_conjecture_proofs_train_and_an_evaluation_key_among_them_is_a_leak(tmp_path):
    from prover.check import Verdict
    from prover.loop.training import build_training_set
    from prover.problems import Problem
    from prover.search.tree import SearchResult
    with ProofDB(tmp_path / "t.db") as db:
        for key in ("valid/a", "conj/cj_1", "test/b"):
            split, name = key.split("/")
            db.add_problems([Problem(name, split, "coq", "", f"Theorem {name} : True.")])
            res = SearchResult(key, "proved", ["auto."], 1, 0.1, steps=[(f"goal of {key}", "auto.")])
            db.record_attempt(res, db.start_run({}), 0, "model", {}, Verdict(True))
        pairs = build_training_set(db, {"valid/a"}, {"test/b"}, 3, conjecture_keys={"conj/cj_1"})
        assert {(p["problem"], p["source"]) for p in pairs} == {("valid/a", "proof"), ("conj/cj_1", "conjecture")}
        with pytest.raises(LeakError):
            build_training_set(db, {"valid/a"}, {"test/b"}, 3, conjecture_keys={"test/b"})


def test_stuck_leaves_out_goals_reached_by_introductions_alone():
    nodes = {"r": {"parent": None, "tactic": None},
             "i": {"parent": "r", "tactic": "intros."},
             "j": {"parent": "i", "tactic": "intros x y h."},
             "s": {"parent": "j", "tactic": "subst."},
             "t": {"parent": "s", "tactic": "intros."}}
    assert C._restates(nodes, nodes["i"]) and C._restates(nodes, nodes["j"])
    assert not C._restates(nodes, nodes["s"]) and not C._restates(nodes, nodes["t"])


def test_the_model_trained_on_statements_writes_firewalled_conjectures(searched, tmp_path):
    """The ``written`` operator: statement-writing examples come from accepted hindsight lemmas
    of training problems only; a real model trained on them writes statements that parse as
    goals, and they enter the conjectures table with their provenance."""
    from prover.policy.model import load_policy
    from prover.selfplay import written as W
    from prover.train import TrainConfig, train
    db, pool, evalp = searched
    pool_keys, eval_keys = {p.key for p in pool}, {p.key for p in evalp}
    H.verify(db, H.harvest(db, db.attempts_of(["model"]), COQ, pool_keys, eval_keys), {p.key: p for p in pool},
             COQ, 0, workers=1, progress=False)
    ex = W.pairs(db, eval_keys, "coq")
    assert ex and all(e["source"] == "statement" and e["problem"] in pool_keys for e in ex)
    assert all(e["goals"].startswith(W.TAG + "\n") and W.parse_written(e["tactic"], "coq") for e in ex)
    assert any(e["tactic"].endswith("⊢ x = 6") for e in ex)
    assert not W.pairs(db, pool_keys, "coq")  # a forbidden problem gives no example
    # a real model, trained on them (repeated), writes statements for an unsolved pool problem
    data = tmp_path / "statements.jsonl"
    data.write_text("".join(json.dumps(e) + "\n" for e in ex * 40))
    cfg = TrainConfig.from_json(ROOT / "data" / "configs" / "model_tiny.json")
    cfg.model.context, cfg.max_len, cfg.steps = 256, 256, 120
    train([str(data)], tmp_path / "model", cfg, progress=False)
    nodes = db.tree_rows(next(a["id"] for a in db.attempts_of(["model"]) if a["problem"] == "valid/three"))[1]
    parents = [("valid/three", C.statement_goal(nodes, "coq"))]
    policy = load_policy(tmp_path / "model", k=4, mode="sample", top_p=0.95, max_new_tokens=64, seed=3)
    cands, counts = W.write(policy, parents, 4, "coq")
    assert counts["sampled"] == counts["unparsable"] + counts["restated"] + len(cands)
    assert cands and all(c.operator == "written" and c.parent == "valid/three" for c in cands)
    assert all(isinstance(c.goal, Goal) and c.goal.conclusion for c in cands)
    C.propose(db, cands, COQ, 2, {p.key: p for p in pool}, pool_keys, eval_keys, set())
    rows = [r for r in db.conjectures() if r["operator"] == "written"]
    assert rows and all(r["parent"] == "valid/three" and r["round"] == 2 for r in rows)
    # the frontier: unsolved pool statements only, in a seeded order
    assert W.frontier([("valid/easy", parents[0][1]), ("valid/three", parents[0][1])], {"valid/easy"}, 5, 0) == \
        [("valid/three", parents[0][1])]
    assert W.parse_written("x : R\n⊢ x = 1\n\n⊢ True", "coq") is None and W.parse_written("junk", "coq") is None
