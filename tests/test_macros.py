"""The macro source: a sub-proof of an accepted training proof, compiled into one tactic and
offered at similar states; on real Coq it proves in one expansion what the menu and the
templates need many for, and it never indexes the evaluation split."""
from __future__ import annotations

from prover import backends
from prover.check import check_proof
from prover.db import ProofDB
from prover.env import State, parse_goals_text
from prover.policy.macros import MacroSource, compile_steps
from tests.conftest import write
from tests.test_retrieval import _record

COQ = backends.get("coq")
G = "x : R\nH : 0 <= x <= 1\n"
ABS = [  # intros. split_Rabs. lra. (x4): the goal counts make a tree of one opener and four leaves
    ("⊢ forall x : R, 0 <= x <= 1 -> Rabs (x - 1) + Rabs x = 1", "intros."),
    (G + "⊢ Rabs (x - 1) + Rabs x = 1", "split_Rabs."),
    ("\n\n".join([G + "⊢ a = 1"] * 4), "lra."),
    ("\n\n".join([G + "⊢ a = 1"] * 3), "lra."),
    ("\n\n".join([G + "⊢ a = 1"] * 2), "lra."),
    (G + "⊢ a = 1", "lra."),
]


def test_a_proof_compiles_into_one_tactic_per_sub_proof():
    got = dict(compile_steps(ABS, COQ.combine))
    assert got[ABS[0][0]] == "intros; split_Rabs; lra."
    assert got[ABS[1][0]] == "split_Rabs; lra."
    assert len(got) == 2  # one-step sub-proofs are the retrieval source's business
    ind = [("n : nat\n⊢ P n", "induction n."),
           ("⊢ P 0\n\nn : nat\nIHn : P n\n⊢ P (S n)", "lia."),
           ("n : nat\nIHn : P n\n⊢ P (S n)", "simpl."),
           ("n : nat\nIHn : P n\n⊢ Q n", "lia.")]
    assert dict(compile_steps(ind, COQ.combine))["n : nat\n⊢ P n"] == "induction n; [ lia | simpl; lia ]."
    # a shared sequence runs per goal, so it goes in parentheses
    assert COQ.combine("split.", ["simpl; lia.", "simpl; lia."]) == "split; (simpl; lia)."


def test_step_lists_that_do_not_make_a_tree_are_skipped():
    assert compile_steps(ABS[:3], COQ.combine) == []                    # sub-proofs missing
    two = [("⊢ A\n\n⊢ B\n\n⊢ C", "solve_all."), ("⊢ C", "easy.")]         # a step closed goals not its own
    assert compile_steps(two, COQ.combine) == []
    assert compile_steps(ABS, lambda t, subs: None) == []               # a backend without combinators


def test_lean_sub_proofs_become_one_parenthesised_sequence_that_its_cheat_filter_accepts():
    """Lean's ``(t; a; b)`` runs the steps in order on the main goal, as its search did. Only
    the text and the filter are checked here: no live Lean on this machine."""
    lean = backends.get("lean")
    steps = [("a b : ℕ\nh : a = b\n⊢ a + 0 = b ∧ b = a", "constructor"),
             ("a b : ℕ\nh : a = b\n⊢ a + 0 = b\n\na b : ℕ\nh : a = b\n⊢ b = a", "simp"),
             ("a b : ℕ\nh : a = b\n⊢ a = b\n\na b : ℕ\nh : a = b\n⊢ b = a", "exact h"),
             ("a b : ℕ\nh : a = b\n⊢ b = a", "omega")]
    [(goals, macro)] = [e for e in compile_steps(steps, lean.combine, "lean") if e[0] == steps[0][0]]
    assert macro == "(constructor; simp; exact h; omega)" and lean.refusal(macro) is None
    src = MacroSource(lean, proofs=[steps])
    target = State(parse_goals_text("x y : ℕ\nhx : x = y\n⊢ x + 0 = y ∧ y = x", "lean"))
    assert src.candidates(target)[0] == "(constructor; simp; exact hx; omega)"  # names mapped
    assert lean.combine("calc a = b := h\n  _ = c := g", ["rfl"]) is None      # ; cannot join lines


def test_the_index_grows_online_and_never_holds_the_evaluation_split(tmp_path):
    db_path = tmp_path / "proofs.db"
    writer = ProofDB(db_path)
    src = MacroSource(COQ, db=str(db_path), deny=["test/held"])
    target = State(parse_goals_text("y : R\nH : 0 <= y <= 1\n⊢ Rabs (y - 1) + Rabs y = 1"))
    assert src.candidates(target) == []
    _record(writer, "test/held", "test", ABS, "eval")              # a denied key
    _record(writer, "valid/other", "valid", ABS, "eval:menu:menu")  # an evaluation label
    assert src.candidates(target) == []
    _record(writer, "valid/pool", "valid", ABS, "model")           # accepted in this round
    assert src.candidates(target)[0] == "split_Rabs; lra."
    again = MacroSource(COQ, db=str(db_path), deny=["test/held"])  # a resumed run, another worker
    assert again.candidates(target) == src.candidates(target) and len(again.index) == 2
    writer.close()


def test_a_macro_learned_from_a_pool_proof_proves_a_new_problem_in_one_step_on_real_coq(tmp_path, coq_available):
    from prover.cli import main

    def problem(name: str, statement: str):
        write(tmp_path / name / f"{name}.v", f"""
            Require Import Reals Lra.
            Open Scope R_scope.
            Theorem {name} : {statement}.
            Proof.
            Admitted.
            """)
        return tmp_path / name

    def search(d, db, expansions: str, *flags: str) -> list[dict]:
        assert main(["search", "--problems", str(d), "--db", str(db), "--workers", "1", "--policy", "menu+hyps",
                     "--expansions", expansions, "--timeout", "5", *flags]) == 0
        with ProofDB(db, create=False) as d:
            return d.proofs()

    pool = tmp_path / "pool.db"  # a training proof: six steps, found by menu + templates at 12 expansions
    [taught] = search(problem("abs_a", "forall x : R, 0 <= x <= 1 -> Rabs (x - 1) + Rabs x = 1"), pool, "12")
    assert taught["length"] >= 3 and "split_Rabs" in taught["proof"]
    new = problem("abs_b", "forall y : R, 0 <= y <= 2 -> Rabs (y - 2) + Rabs y = 2")
    assert search(new, tmp_path / "plain.db", "2") == []  # 2 expansions are too few step by step
    [proof] = search(new, tmp_path / "fresh.db", "2", "--with-macros", "--retrieval-db", str(pool))
    assert proof["length"] == 1 and proof["policy"] == "menu+hyps+macro"
    from coq_env.problems import parse_file
    assert check_proof(parse_file(new / "abs_b.v"), proof["proof"].split("\n")).accepted


def test_a_preset_with_macros_indexes_its_own_database_and_denies_the_evaluation_split(tmp_path):
    from prover.loop.iterate import Experiment, IterateConfig
    cfg = IterateConfig(name="m", decode={"k": 2, "sources": ["menu", "macros"]})
    exp = Experiment(cfg, root=tmp_path, progress=False)
    try:
        spec = exp.model_policy("some/model", {"test/a", "test/b"})
        assert spec.sources == ("menu", "macros") and spec.label == "model+menu+macro"
        assert spec.options["macros"] == {"db": str(exp.db.path), "deny": ["test/a", "test/b"]}
    finally:
        exp.close()


def test_the_macro_limit_reaches_the_source():
    """``--macro-limit N`` caps the macros offered at a state (the source's ``limit``)."""
    import argparse

    from prover.cli.common import policy_args, policy_spec
    from prover.policy.spec import build_policy
    p = argparse.ArgumentParser()
    p.add_argument("--db", default=None)
    policy_args(p)
    spec = policy_spec(p.parse_args(["--policy", "menu+hyps", "--with-macros", "--macro-limit", "8"]), deny=["test/a"])
    assert spec.options["macros"]["limit"] == 8
    policy = build_policy(spec, "coq")
    assert next(s for s in policy.sources if s.name == "macros").limit == 8
    default = policy_spec(p.parse_args(["--policy", "menu+hyps", "--with-macros"]))
    assert "limit" not in default.options["macros"]


def test_near_copies_do_not_fill_every_place():
    """A library holds near-copies of one macro (``rewrite H in *`` once, twice...), all more
    similar to the state than a different macro. With two places, the second goes to the best
    macro of another shape; the copies come on the next page, nothing is dropped."""
    from prover.policy.macros import diverse, shape
    assert shape("intros; rewrite H in *; rewrite H0 in *; lra.") == ("intros", "rewrite", "lra")
    assert shape("intros; field_simplify; [ rewrite H1 | lra ].") == ("intros", "field_simplify", "rewrite", "lra")
    assert diverse(["a; b.", "a; b; b.", "c.", "a; b; b; b.", "d."]) == ["a; b.", "c.", "d.", "a; b; b.", "a; b; b; b."]
    goal = "x, y : R\nH : y = 2 * x\nH0 : x = 3\n⊢ Rabs (y - x) = 3"
    copies = [[(goal, "rewrite H in *."), ("x, y : R\nH0 : x = 3\n⊢ Rabs (2 * x - x) = 3", "rewrite H in *."),
               ("x, y : R\nH0 : x = 3\n⊢ Rabs (2 * x - x) = 3", "lra.")],
              [(goal, "rewrite H in *."), ("x, y : R\nH0 : x = 3\n⊢ Rabs (2 * x - x) = 3", "lra.")]]
    other = [("z : R\nH : z = 3\n⊢ Rabs (z - 0) = 3", "split_Rabs."),
             ("\n\n".join(["z : R\nH : z = 3\n⊢ z = 3"] * 2), "lra."), ("z : R\nH : z = 3\n⊢ z = 3", "lra.")]
    src = MacroSource(COQ, proofs=copies + [other], limit=2)
    s = State(parse_goals_text(goal))
    first = src.candidates(s)
    assert len(first) == 2 and len({shape(t) for t in first}) == 2, first
    assert any("split_Rabs" in t for t in first)
    assert any(t.startswith("rewrite H in *") for t in src.more(s, 1))
