"""The witnesses source: terms and case splits instantiated at a goal, on hand-built states and
on real Coq (a witness closes what the menu cannot; a fresh coqc accepts the proof)."""
from __future__ import annotations

import pytest

from prover.env import Goal, Hyp, NewState, ProofFinished, State, TacticError
from prover.policy.sources import make_source


def goal(hyps, conclusion) -> Goal:
    return Goal(tuple(Hyp(tuple(n.split(",")), t) for n, t in hyps), conclusion)


def offered(*goals, **options) -> list[str]:
    return make_source("witnesses", "coq", **options).candidates(State(tuple(goals)))


SQUARE = goal([], "exists n : nat, n * n = 49")
LINEAR_Z = goal([], "exists x : Z, 3 * x + 2 = 11")
PAIR = goal([], "exists a b : nat, a + b = 5 /\\ a * b = 6")
IF_Z = goal([], "forall a : Z, (if a <=? 3 then a else 3) <= 3")
EX_HYP = goal([("n", "nat"), ("H", "exists k : nat, n = 2 * k")], "n mod 2 = 0")
DISJ = goal([("x", "R"), ("H", "x = 1 \\/ x = 2 \\/ x = 3")], "x <= 3")
SYSTEM = goal([("x,y", "Z"), ("h0", "x + y = 10"), ("h1", "x - y = 2")], "x * y = 24")
SUBST = goal([("a,b,n", "nat"), ("H1", "n = 10 * a + b"), ("H2", "n = a * b + a + b")], "b = 9")
SHAPES = [SQUARE, LINEAR_Z, PAIR, IF_Z, EX_HYP, DISJ, SYSTEM, SUBST,
          goal([("n", "nat")], "match n with | 0 => 1 | S m => m end <= n + 1"),
          goal([("b", "bool")], "negb (negb b) = b"),
          goal([("p,q", "nat")], "0 < q -> (exists k : nat, p = k * q) \\/ p = 0 -> exists k : nat, p = k * 1979")]


def test_witnesses_are_the_values_that_make_the_body_true():
    assert offered(SQUARE)[:3] == ["exists 7; lia.", "exists 7; nia.", "exists 7."]
    assert offered(LINEAR_Z)[0] == "exists 3; lia."
    assert offered(PAIR)[:2] == ["exists 2, 3; lia.", "exists 2, 3; nia."]
    # a body the evaluator reads whole: no other value is offered
    assert not any(t.startswith("exists 5") for t in offered(SQUARE))
    assert offered(goal([], "exists x : R, 2 * x = 3"))[0] == "exists (3/2); lra."
    # a real scope open, a nat witness carries its key
    assert offered(goal([("x", "R")], "exists n : nat, INR n = 2"))[0].startswith("exists 2%nat;")
    # a body it cannot read: numerals of the body, variables of the type, small constants
    ts = offered(goal([("p,q", "nat")], "exists k : nat, f p = k * 1979"))
    assert ts[0] == "exists 1979; lia." and {"exists 1979.", "exists q.", "exists 0."} <= set(ts)


def test_case_analysis_and_intermediate_facts():
    ts = offered(IF_Z)  # a product conclusion is read after intros
    assert ts[0] == "intros; destruct (Z.leb_spec0 a 3); lia." and all(t.startswith("intros; ") for t in ts)
    assert "intros; destruct (a <=? 3) eqn:E." in ts
    assert offered(EX_HYP)[0] == "destruct H as [k Hk]."
    assert "destruct H as [k Hk]; subst; lia." in offered(EX_HYP)
    assert offered(DISJ)[0] == "destruct H as [Ha|[Hb|Hc]]." and "destruct H as [Ha|[Hb|Hc]]; lra." in offered(DISJ)
    assert offered(SYSTEM)[0] == "assert (x = 6) by lia; assert (y = 4) by lia; subst x y; lia."
    assert "assert (y = 4) by lia." in offered(SYSTEM)
    ts = offered(SUBST)
    assert {"rewrite H2 in H1.", "rewrite H1 in H2."} <= set(ts)
    assert "assert (10 * a + b = a * b + a + b) by (rewrite H1 in H2; exact H2)." in ts
    assert "assert (b = 9 \\/ b <> 9) as [Hb|Hb] by lia; nia." in ts  # lia proves the split
    ts = offered(goal([("n", "nat")], "match n with | 0 => 1 | S m => m end <= n + 1"))
    assert {"destruct n eqn:E.", "induction n; simpl; lia."} <= set(ts)
    assert offered(goal([("b", "bool")], "negb (negb b) = b"))[0] == "destruct b."
    # intros names the premises H, H0... as Coq does
    ts = offered(SHAPES[-1])
    assert "intros; destruct H0 as [H0a|H0b]." in ts and "intros; exists 1979; lia." in ts


def test_shape_determinism_limit_and_cheat_filter():
    from coq_env.cheat import check_tactic
    for g in SHAPES:
        ts = offered(g)
        assert ts and len(ts) == len(set(ts)) <= 48 and offered(g) == ts
        assert all(check_tactic(t) == t for t in ts)
        assert offered(g, limit=3) == ts[:3]
    assert offered() == [] and make_source("witnesses", "coq").candidates(None) == []
    assert offered(goal([("f", "R -> R")], "f = f")) == []  # nothing to instantiate
    assert make_source("witnesses", "lean").candidates(State((SQUARE,))) == []  # no such module in Lean
    # text the reader does not understand gives fewer candidates, never an exception
    for c in ["exists", "exists x :, (", "forall (x : , P", "if then else", "match with end", ") = (",
              "exists x : nat, x ^ 99999 = 2", "exists x : Z, x / 0 = 1 /\\ x mod 0 = 0", "((((",
              "exists x : R, 1 / x = 0", "forall x, x -> ->", "exists '(a, b), a = b"]:
        assert isinstance(offered(goal([("H", c), ("n", "nat")], c)), list)


def test_the_source_in_a_policy_spec():
    from prover.policy.spec import PolicySpec, build_policy
    spec = PolicySpec(sources=("menu", "witnesses"))
    assert spec.label == "menu+wit"
    policy = build_policy(spec, "coq")
    [cands] = policy.propose([State((SQUARE,))])
    tactics = [c.tactic for c in cands]
    assert tactics[0] == "reflexivity." and "exists 7; lia." in tactics
    assert [c.source for c in cands if c.tactic == "exists 7; lia."] == ["witnesses"]


def _problem(tmp_path, name, text):
    from coq_env.problems import parse_file
    from tests.conftest import write
    return parse_file(write(tmp_path / "p" / f"{name}.v", text))


def _first_closing(env, state, tactics):
    for t in tactics:
        out = env.apply(state, t, timeout=5)
        if isinstance(out, ProofFinished):
            return t, out
    return None, None


@pytest.mark.parametrize("name, statement", [
    ("wit_sq", "Theorem wit_sq : exists n : nat, n * n = 49."),
    ("wit_z", "Require Import ZArith. Open Scope Z_scope.\nTheorem wit_z : exists x : Z, 3 * x + 2 = 11."),
])
def test_a_witness_closes_what_the_menu_cannot_on_real_coq(env, tmp_path, name, statement):
    from prover.check import check_proof
    problem = _problem(tmp_path, name, f"{statement}\nProof.\nAdmitted.\n")
    root = env.open(problem)
    for t in ("lia", "intros; lia", "nia", "eexists; lia"):  # (limits against a hang: each answers at once)
        assert env.apply(root, t, timeout=60) == TacticError("Tactic failure: Cannot find witness."), t
    stay = env.apply(root, "auto", timeout=60)
    assert isinstance(stay, NewState) and stay.state.id == root.id  # no progress
    tactic, out = _first_closing(env, root, offered(*root.goals))
    assert tactic is not None and tactic.startswith("exists ")
    assert check_proof(problem, list(out.proof)).accepted


def test_menu_and_witnesses_search_proves_it_on_real_coq(env, tmp_path):
    from prover.check import check_proof
    from prover.policy.spec import PolicySpec, build_policy
    from prover.search import BestFirstSearch, SearchConfig
    problem = _problem(tmp_path, "wit_pair", """
        Theorem wit_pair : exists a b : nat, a + b = 5 /\\ a * b = 6.
        Proof.
        Admitted.
        """)
    cfg = SearchConfig(max_expansions=2, tactic_timeout=2)
    menu = BestFirstSearch(env, build_policy(PolicySpec(sources=("menu",)), "coq"), cfg).run(problem)
    assert menu.outcome != "proved"
    res = BestFirstSearch(env, build_policy(PolicySpec(sources=("menu", "witnesses")), "coq"), cfg).run(problem)
    assert res.outcome == "proved" and any(t.startswith("exists 2, 3") for t in res.proof)
    assert check_proof(problem, res.proof).accepted


def test_case_splits_close_an_if_and_an_existential_hypothesis_on_real_coq(env, tmp_path):
    from prover.check import check_proof
    cases = [("wit_if", """
        Require Import ZArith. Open Scope Z_scope.
        Theorem wit_if : forall a : Z, (if a <=? 3 then a else 3) <= 3.
        Proof.
        Admitted.
        """, "destruct (Z.leb_spec0"),
             ("wit_ex", """
        Require Import Arith.
        Theorem wit_ex : forall n : nat, (exists k : nat, n = 2 * k) -> n mod 2 = 0.
        Proof.
        Admitted.
        """, "intros; destruct H as [k Hk]")]
    for name, text, expected in cases:
        problem = _problem(tmp_path, name, text)
        root = env.open(problem)
        assert env.apply(root, "intros; lia", timeout=60) == TacticError("Tactic failure: Cannot find witness.")
        ts = offered(*root.goals)
        assert any(expected in t for t in ts), ts
        tactic, out = _first_closing(env, root, ts)
        assert tactic is not None and expected in tactic, (tactic, ts)
        assert check_proof(problem, list(out.proof)).accepted
