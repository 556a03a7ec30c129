"""Hypothesis templates: the state-dependent tactics offered next to the fixed menu."""
from __future__ import annotations

import math

from prover.env import Goal, Hyp, State
from prover.policy import MenuPolicy
from prover.policy.templates import templates

COQ_STATE = State((Goal((
    Hyp(("f", "g"), "R -> R"),
    Hyp(("H",), "forall x : R, f x = x + 1"),
    Hyp(("H0",), "0 < x /\\ x <= 3"),
    Hyp(("H1",), "x <= 3 -> x <> 2"),
    Hyp(("n",), "nat"),
    Hyp(("k",), "Z"),
    Hyp(("m",), "nat", body="3"),
    Hyp(("x",), "R"),
), "f x = 2 \\/ Rabs x <> 1"), Goal((), "True")))


def test_coq_templates_name_the_first_goals_facts_and_variables():
    ts = templates(COQ_STATE, "coq")
    # equations are rewritten both ways and everywhere; an implication is applied
    assert {"rewrite H.", "rewrite <- H.", "rewrite H in *.", "apply H.", "apply H1."} <= set(ts)
    assert "destruct H0." in ts and "rewrite H0." not in ts  # a conjunction is split, not rewritten
    assert "rewrite H1." not in ts  # <> is not an equation
    assert {"induction n.", "destruct n.", "destruct k."} <= set(ts)
    assert "induction k." not in ts and not any(" m." in t for t in ts)  # Z is not inducted; let-bound skipped
    assert not any(t.endswith((" f.", " g.", " x.")) for t in ts)  # variables of R, R -> R are no facts
    assert {"left.", "right.", "split_Rabs.", "intro."} <= set(ts)  # the conclusion's shape
    assert ts.index("apply H1.") < ts.index("rewrite H.")  # the most recent hypotheses first
    assert all(t.endswith(".") for t in ts) and len(ts) == len(set(ts))
    assert templates(COQ_STATE, "coq") == ts  # deterministic
    assert len(templates(COQ_STATE, "coq", limit=3)) == 3


def test_templates_of_an_empty_state_or_unknown_backend():
    assert templates(State(()), "coq") == []
    assert templates(COQ_STATE, "isabelle") == []
    assert templates(State((Goal((Hyp(("x",), "R"),), "x = x"),)), "coq") == []


def test_lean_templates_use_lean_syntax():
    s = State((Goal((Hyp(("x", "y"), "ℝ"), Hyp(("h₀",), "x + y = 10"), Hyp(("h₁",), "x - y = 2"),
                     Hyp(("n",), "ℕ")), "x = 6 ∨ y ≠ 4", style="lean"),))
    ts = templates(s, "lean")
    assert {"rw [h₀]", "rw [← h₀]", "rw [h₁] at *", "nlinarith [h₀]", "induction n", "left", "right"} <= set(ts)
    assert not any(t.endswith(".") for t in ts) and not any("x]" in t for t in ts)


def test_menu_with_templates_is_the_menu_then_the_states_own_tactics():
    plain, hyps = MenuPolicy("coq"), MenuPolicy("coq", templates=True)
    assert hyps.name == "menu+hyps" and plain.name == "menu"
    [base] = plain.propose([COQ_STATE], plain.default_k)
    [more] = hyps.propose([COQ_STATE], hyps.default_k)
    assert [c.tactic for c in more[:len(base)]] == [c.tactic for c in base]
    extra = [c.tactic for c in more[len(base):]]
    assert "rewrite H." in extra and "intro." in extra
    lps = [c.logprob for c in more]
    assert lps == sorted(lps, reverse=True) and all(math.isfinite(x) for x in lps)


def test_hypothesis_templates_prove_what_the_menu_cannot_on_real_coq(env, tmp_path):
    """`f 2 = 3` from `forall x, f x = x + 1` needs a rewrite with the hypothesis: the fixed
    menu exhausts its tree, the menu with templates proves it, and a fresh coqc accepts."""
    from coq_env.problems import parse_file
    from prover.check import check_proof
    from prover.search import BestFirstSearch, SearchConfig
    from tests.conftest import write
    problem = parse_file(write(tmp_path / "p" / "rw.v", """
        Require Import Reals.
        Open Scope R_scope.
        Theorem rw : forall f : R -> R, (forall x, f x = x + 1) -> f 2 = 3.
        Proof.
        Admitted.
        """))
    cfg = SearchConfig(max_expansions=48, tactic_timeout=2)
    plain = BestFirstSearch(env, MenuPolicy("coq"), cfg).run(problem)
    assert plain.outcome != "proved"
    res = BestFirstSearch(env, MenuPolicy("coq", templates=True), cfg).run(problem)
    assert res.outcome == "proved" and any(t.startswith("rewrite") for t in res.proof)
    assert check_proof(problem, res.proof).accepted


def test_every_template_passes_its_backends_cheat_filter():
    from coq_env.cheat import check_tactic as coq_check
    from lean_env.cheat import check_tactic as lean_check
    for t in templates(COQ_STATE, "coq"):
        assert coq_check(t)
    lean = State((Goal((Hyp(("h₀",), "∀ x, f x = x + 1"), Hyp(("h₁",), "a ∧ b ∨ c"), Hyp(("n",), "ℕ")),
                       "¬ f 2 = 4", style="lean"),))
    ts = templates(lean, "lean")
    assert "apply h₀" in ts and "rcases h₁ with h₁ | h₁" in ts and "intro h" in ts
    for t in ts:
        assert lean_check(t)
