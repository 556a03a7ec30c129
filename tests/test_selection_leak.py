"""Active selection budgets and the evaluation-split firewall, on a real proof database."""
from __future__ import annotations

import json

import pytest

from prover.check import Verdict
from prover.db import ProofDB
from prover.labels import LeakError
from prover.loop.config import ConfigError, IterateConfig
from prover.loop.training import build_training_set, mix
from prover.problems import Problem
from prover.search.tree import Node, SearchResult
from prover.loop.selection import BudgetPolicy, history, report


def _problem(key):
    split, name = key.split("/")
    return Problem(name=name, split=split, backend="coq", header="", statement=f"Theorem {name} : True.")


def _attempt(db, key, budget, proof=None, round=0, policy="model", outcome="budget"):
    res = SearchResult(key, "proved" if proof else outcome, proof, budget, 1.0, root="r",
                       nodes={"r": Node("r", f"⊢ goal of {key}", 0, 0.0)},
                       steps=[(f"⊢ goal of {key}", t) for t in (proof or [])])
    verdict = Verdict(True) if proof else None
    db.record_attempt(res, 1, round, policy, {"max_expansions": budget}, verdict)


@pytest.fixture
def db(tmp_path):
    d = ProofDB(tmp_path / "proofs.db")
    d.add_problems([_problem(k) for k in ("valid/a", "valid/b", "valid/c", "valid/d", "test/t")])
    d.start_run({})
    yield d
    d.close()


def test_unsolved_gets_more_budget_next_round(db):
    pol = BudgetPolicy(base=8, growth=2.0, max_budget=64, solved_retry=2, short_enough=1)
    keys = ["valid/a", "valid/b", "valid/c", "valid/d"]
    _attempt(db, "valid/a", 8)                          # tried, unsolved
    _attempt(db, "valid/b", 8, proof=["split.", "lra.", "lia."])  # solved, long proof
    _attempt(db, "valid/c", 8, proof=["lra."])          # solved, as short as it gets
    hist = history(db, keys, ("model",))
    b = pol.budgets(keys, hist)
    assert b == {"valid/a": 16, "valid/b": 2, "valid/c": 0, "valid/d": 8}
    _attempt(db, "valid/a", 16, round=1)                # still unsolved: more again
    assert pol.budgets(keys, history(db, keys, ("model",)))["valid/a"] == 32
    for _ in range(5):
        _attempt(db, "valid/a", 64, round=2)
    assert pol.budgets(keys, history(db, keys, ("model",)))["valid/a"] == 64  # capped
    r = report(b, hist)
    assert r["budget_unsolved"] == 24 and r["budget_solved"] == 2 and r["problems_skipped"] == 1


def test_exhausted_trees_are_not_given_more_budget(db):
    """A search that failed with its whole tree dead gets a small retry, not a bigger budget;
    if the retry runs out of budget (a new model opened the tree), growth resumes."""
    pol = BudgetPolicy(base=4, growth=2.0, max_budget=64, exhausted_retry=1)
    keys = ["valid/a", "valid/b"]
    _attempt(db, "valid/a", 8, outcome="failed")        # every candidate failed: exhausted
    _attempt(db, "valid/b", 8, outcome="budget")        # ran out of expansions: the frontier
    hist = history(db, keys, ("model",))
    assert hist["valid/a"]["exhausted"] and not hist["valid/b"]["exhausted"]
    assert pol.budgets(keys, hist) == {"valid/a": 1, "valid/b": 16}
    assert report(pol.budgets(keys, hist), hist)["problems_exhausted"] == 1
    _attempt(db, "valid/a", 1, round=1, outcome="budget")  # the retry found new open nodes
    assert pol.budgets(keys, history(db, keys, ("model",)))["valid/a"] == 16


def test_eval_proofs_never_enter_training(db):
    _attempt(db, "valid/a", 8, proof=["lra."])
    _attempt(db, "test/t", 8, proof=["trivial."], policy="eval")
    pairs = build_training_set(db, {"valid/a", "valid/b"}, {"test/t"}, per_problem=3)
    assert [(p["problem"], p["tactic"]) for p in pairs] == [("valid/a", "lra.")]
    with pytest.raises(LeakError):
        build_training_set(db, {"valid/a", "test/t"}, {"test/t"}, per_problem=3)


def test_pool_may_not_contain_eval_problems(tmp_path):
    cfg_path = tmp_path / "c.json"
    cfg_path.write_text(json.dumps({"pool": [{"split": "test"}], "eval_split": "test"}))
    with pytest.raises(ConfigError, match="evaluation split"):
        IterateConfig.load(cfg_path)


def test_pool_with_an_eval_statement_is_refused(tmp_path, problem_dir):
    from prover.loop.iterate import Experiment
    import shutil
    ev = tmp_path / "eval"
    ev.mkdir()
    shutil.copy(problem_dir / "add_zero.v", ev / "add_zero.v")
    cfg = IterateConfig(name="leak", pool=[{"problems": str(problem_dir), "split": None}],
                        eval_split=None, eval_problems=str(ev))
    exp = Experiment(cfg, root=tmp_path / "runs", progress=False)
    with pytest.raises(LeakError, match="add_zero"):
        exp.load_sets()


def test_mix_keeps_the_corpus_fraction():
    proofs = [{"goals": f"g{i}", "tactic": "lra."} for i in range(10)]
    corpus = [{"goals": f"c{i}", "tactic": "auto."} for i in range(1000)]
    out = mix(proofs, corpus, 0.75, seed=0)
    assert len(out) == 40 and sum(p["tactic"] == "auto." for p in out) == 30
    # a corpus floor: the few proofs are repeated to keep their share
    out = mix(proofs, corpus, 0.5, seed=0, min_corpus=200)
    assert sum(p["tactic"] == "auto." for p in out) == 200 and sum(p["tactic"] == "lra." for p in out) == 200


def test_pool_with_a_renamed_eval_statement_is_refused(tmp_path, problem_dir):
    """Different key, same statement: only the statement comparison can catch it."""
    from prover.loop.iterate import Experiment
    ev = tmp_path / "eval"
    ev.mkdir()
    text = (problem_dir / "add_zero.v").read_text().replace("add_zero", "renamed_zero")
    (ev / "renamed_zero.v").write_text(text.replace("forall n : nat, n + 0 = n", "forall n : nat,\n   n + 0 = n"))
    cfg = IterateConfig(name="leak2", pool=[{"problems": str(problem_dir), "split": None}],
                        eval_split=None, eval_problems=str(ev))
    exp = Experiment(cfg, root=tmp_path / "runs", progress=False)
    with pytest.raises(LeakError, match="add_zero"):
        exp.load_sets()


def test_statement_signature_ignores_the_name_and_layout():
    from prover.loop.training import statement_signature
    a = Problem(name="a", split="valid", backend="coq", header="", statement="Theorem a (x : nat) : x = x.")
    b = Problem(name="b2", split="test", backend="coq", header="", statement="Theorem  b2 (x : nat) :\n  x = x.")
    c = Problem(name="c", split="test", backend="coq", header="", statement="Theorem c (x : nat) : x = x + 0.")
    assert statement_signature(a) == statement_signature(b) != statement_signature(c)


def test_corpus_pairs_of_an_eval_statement_are_left_out():
    from prover.loop.training import firewall_corpus
    pairs = [
        {"file": "A.v", "theorem": "fine", "step": 0, "goals": "⊢ 1 = 1", "tactic": "reflexivity."},
        {"file": "B.v", "theorem": "copy", "step": 0, "goals": "x : R\nh : 2 * x = 4\n⊢ x = 2", "tactic": "intros."},
        {"file": "B.v", "theorem": "copy", "step": 1, "goals": "x : R\n⊢ x = 2", "tactic": "lra."},
        {"file": "C.v", "theorem": "mathd_algebra_10", "step": 0, "goals": "⊢ 2 = 2", "tactic": "reflexivity."},
    ]
    kept, dropped = firewall_corpus(pairs, {"mathd_algebra_10"}, {"x : R\nh : 2 * x = 4\n⊢  x = 2"})
    assert [p["theorem"] for p in kept] == ["fine"] and dropped == 2


def test_root_goals_of_searched_eval_problems(db):
    _attempt(db, "test/t", 4, policy="menu-baseline")
    _attempt(db, "valid/a", 4)
    assert db.root_goals({"test/t"}) == {"⊢ goal of test/t"}
