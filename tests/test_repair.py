"""Invented hypothesis names: a generated tactic's unknown local names mapped onto the state's."""
from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from prover import backends
from prover.env import parse_goals_text
from prover.policy.repair import NAMES_FILE, invented, load_names, save_names, variants

STATE = parse_goals_text("x : R\nH : x > 0\nH0 : x < 3\n⊢ x * x < 9")


def test_an_invented_name_gets_the_states_facts_most_recent_first():
    assert invented("apply H1.", STATE) == ["H1"]
    assert variants("apply H1.", STATE) == ["apply H0.", "apply H."]
    assert variants("apply H1.", STATE, limit=1) == ["apply H0."]


def test_coq_index_of_an_invented_name_comes_first():
    """``H`` is Coq's first hypothesis name, ``H0`` its second: ``h₀`` (miniF2F's) maps to the first fact."""
    s = parse_goals_text("x : R\nH : x > 0\nH0 : x < 3\nH1 : x <> 1\n⊢ x < 4")
    assert variants("exact h₀.", s)[0] == "exact H."
    assert variants("exact h1.", s)[0] == "exact H0."


def test_two_invented_names_get_two_distinct_hypotheses():
    out = variants("rewrite H2 in H3.", STATE)
    assert out and all(len({w for w in v.replace(".", " ").split() if w.startswith("H")}) == 2 for v in out)
    assert "rewrite H0 in H." in out


@pytest.mark.parametrize("tactic", [
    "nra.",                                  # nothing named
    "apply Rmult_lt_compat; lra.",           # a library lemma, not a hypothesis
    "apply Z.add_comm.",                     # a qualified name
    "rewrite H in H0.",                      # the state's own names
    "intros H2; lra.",                       # a tactic that may introduce the name itself
    "destruct H as [H1 H2]; lra.",
    "assert (H1 : x > -1) by lra.",
    "pose proof (H) as H5.",
])
def test_nothing_to_repair(tactic):
    assert variants(tactic, STATE) == []


def test_a_state_without_facts_offers_nothing():
    assert variants("exact H1.", parse_goals_text("x : R\n⊢ x = x")) == []
    assert variants("exact H1.", ()) == []


def test_lean_binders_are_left_alone():
    s = parse_goals_text("x : ℝ\nh₀ : x > 0\n⊢ x ≥ 0", "lean")
    lean = backends.get("lean").binder_words
    assert variants("exact h₁", s, binders=lean) == ["exact h₀"]
    assert variants("obtain ⟨h₁, h₂⟩ := h₃", s, binders=lean) == []


LEMMAS = frozenset({"Nat.le_refl", "Nat.le_trans", "Rplus_le_compat", "Rplus_lt_compat", "lra", "apply"})


def test_an_invented_lemma_gets_the_closest_trained_names():
    assert invented("apply Rplus_le_compt.", STATE, names=LEMMAS) == ["Rplus_le_compt"]
    assert variants("apply Rplus_le_compt.", STATE, names=LEMMAS) == ["apply Rplus_le_compat.", "apply Rplus_lt_compat."]
    assert variants("apply Nat.le_refx; lra.", STATE, limit=1, names=LEMMAS) == ["apply Nat.le_refl; lra."]
    assert variants("apply Rplus_le_compt.", STATE) == []              # no names.json: left alone
    assert variants("apply Rplus_le_compat.", STATE, names=LEMMAS) == []  # a trained name
    assert variants("apply Totally_unlike_anything.", STATE, names=LEMMAS) == []  # nothing close
    seen = parse_goals_text("x : R\nH : Rmy_own_lemma x\n⊢ x = x")
    assert variants("apply Rmy_own_lemma.", seen, names=LEMMAS) == []  # the state's own text names it


def test_names_file_round_trip_keeps_the_init_models_names(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    save_names(tmp_path / "a", ["apply Nat.le_refl.", "rewrite H in H0."])
    assert {"Nat.le_refl", "apply", "rewrite", "H", "H0", "in"} <= load_names(tmp_path / "a")
    save_names(tmp_path / "b", ["lia."], init=tmp_path / "a")
    assert {"lia", "Nat.le_refl"} <= load_names(tmp_path / "b")
    (tmp_path / "b" / NAMES_FILE).write_text("{not json")
    assert load_names(tmp_path / "b") is None and load_names(tmp_path / "none") is None


def test_a_repaired_lemma_name_works_where_the_invented_one_fails_on_real_coq(tmp_path, env):
    from coq_env.problems import parse_file
    from tests.conftest import write
    problem = parse_file(write(tmp_path / "p" / "le.v", """
        Require Import Arith.
        Theorem le (y : nat) : y <= y.
        Proof.
        Admitted.
        """))
    state = env.open(problem)
    [fixed] = variants("apply Nat.le_refx.", state.goals, limit=1, names=LEMMAS)
    from prover.env import ProofFinished, TacticError
    assert isinstance(env.apply(state, "apply Nat.le_refx."), TacticError)
    assert isinstance(env.apply(state, fixed), ProofFinished)


NAMES = ["H", "H0", "H1", "H2", "Hx", "IHn", "h", "h0", "h₁", "lra", "nra", "Rle_refl", "x", "apply", "in"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(NAMES), min_size=1, max_size=6), st.integers(0, 4), st.integers(1, 3))
def test_variants_only_use_the_states_names(words, facts, limit):
    """Any mix of words: every variant differs from the tactic, keeps its non-local words, uses
    only the state's names for local ones, and the same call gives the same answer."""
    hyps = "".join(f"K{i} : x > {i}\n" for i in range(facts))
    state = parse_goals_text(f"x : R\n{hyps}⊢ x > 0")
    tactic = " ".join(words) + "."
    out = variants(tactic, state, limit=limit)
    assert out == variants(tactic, state, limit=limit) and len(out) <= limit and tactic not in out
    bad = set(invented(tactic, state))
    for v in out:
        got = v[:-1].split()
        assert len(got) == len(words)
        for w, g in zip(words, got):
            assert g == w if w not in bad else g in {f"K{i}" for i in range(facts)}


# ---- the model policy's switch, with a real (tiny) model and real Coq -------------------------

@pytest.fixture(scope="module")
def inventing(tmp_path_factory) -> Path:
    return _inventing_model(tmp_path_factory.mktemp("inventing"))


def _inventing_model(tmp_path) -> Path:
    """A tiny model trained on states with three facts whose proof is ``exact H1.``: on a state
    with two, it writes ``exact H1.`` (a name that state lacks)."""
    from prover.train import TrainConfig, train
    rng = random.Random(0)
    rows = []
    for _ in range(240):
        v = rng.choice("xyzabn")
        a, b = rng.randint(0, 9), rng.randint(10, 30)
        rows.append({"goals": f"{v} : nat\nH : {v} > {a}\nH0 : {v} < {b}\nH1 : {v} >= {a + 1}\n⊢ {v} >= {a + 1}",
                     "tactic": "exact H1."})
    data = tmp_path / "inv.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cfg = TrainConfig.from_json(Path(__file__).resolve().parents[1] / "data" / "configs" / "model_tiny.json")
    out = tmp_path / "model"
    train([str(data)], out, replace(cfg, holdout=0, eval_examples=0), progress=False)
    return out


def test_repair_switch_proves_what_the_invented_name_cannot_on_real_coq(tmp_path, env, inventing):
    from coq_env.problems import parse_file
    from prover.check import check_proof
    from prover.policy.model import load_policy
    from prover.search import BestFirstSearch, SearchConfig
    from tests.conftest import write
    problem = parse_file(write(tmp_path / "p" / "inv.v", """
        Theorem inv (y : nat) (H : y > 4) (H0 : y >= 5) : y >= 5.
        Proof.
        Admitted.
        """))
    model = inventing
    plain = load_policy(model, k=1, max_new_tokens=8)
    fixed = load_policy(model, k=1, max_new_tokens=8, repair=2)
    state = env.open(problem)
    [[gen]] = plain.propose([state])
    assert gen.tactic == "exact H1."
    cands = [c.tactic for c in fixed.propose([state])[0]]
    assert cands == ["exact H1.", "exact H0.", "exact H."]
    assert {"exact", "H1"} <= load_names(model)  # training wrote the names of its tactics
    cfg = SearchConfig(max_expansions=2, tactic_timeout=5)
    assert BestFirstSearch(env, plain, cfg).run(problem).outcome != "proved"
    res = BestFirstSearch(env, fixed, cfg).run(problem)
    assert res.outcome == "proved" and check_proof(problem, res.proof).accepted
    with pytest.raises(ValueError, match="repair"):
        load_policy(model, k=1, repair=-1)


def test_repair_and_novel_switches_on_the_command_line_on_real_coq(tmp_path, inventing, coq_available):
    """`prover search --policy model --repair-names 2` proves what the same search without it
    cannot; `--novel` with the menu runs and keeps the model's own tactic besides the menu's."""
    from prover.cli import main
    from prover.db import ProofDB
    from tests.conftest import write
    write(tmp_path / "p" / "inv.v", """
        Theorem inv (y : nat) (H : y > 4) (H0 : y >= 5) : y >= 5.
        Proof.
        Admitted.
        """)
    proved = {}
    for name, extra in (("plain", []), ("repair", ["--repair-names", "2"]),
                        ("novel", ["--repair-names", "2", "--novel", "--with-menu"])):
        db = tmp_path / f"{name}.db"
        assert main(["search", "--problems", str(tmp_path / "p"), "--db", str(db), "--workers", "1",
                     "--expansions", "2", "--policy", "model", "--model", str(inventing), "--k", "1", *extra]) == 0
        with ProofDB(db, create=False) as d:
            proved[name] = len(d.proofs())
            tried = {r["tactic"] for r in d.query("SELECT tactic FROM edges")}
        if name != "plain":
            assert "exact H1." in tried and ("exact H0." in tried or "exact H." in tried)
    assert proved == {"plain": 0, "repair": 1, "novel": 1}
