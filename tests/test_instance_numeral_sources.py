"""The ``instances`` and ``numerals`` candidate sources (coq_env/instances.py,
coq_env/numerals.py): a definition rewritten where its function is applied, a recurrence
specialised at the goal's indices, large nat numerals made readable to lia; each closes a goal
the menu leaves open on real Coq, and a fresh coqc accepts the proof."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from coq_env.cheat import check_tactic
from coq_env.numerals import digits, numerals
from prover.env import Goal, Hyp, State
from prover.policy.sources import make_source
from tests.conftest import first_proof, write

MENU_CLOSERS = ["intros; lra", "intros; nra", "intros; field", "intros; lia", "intros; nia", "intros; subst; lra",
                "intros; simpl in *; lra", "intros; simpl in *; lia"]


def _problem(tmp_path, name, text):
    from coq_env.problems import parse_file
    return parse_file(write(tmp_path / "p" / f"{name}.v", text))


def _offered(source, state, **kw):
    return make_source(source, "coq", **kw).candidates(state)



DEF_STATE = State((Goal((
    Hyp(("a", "b"), "R"), Hyp(("f",), "R -> R"),
    Hyp(("h0",), "forall x : R, f x = a * x ^ 4 - b * x ^ 2 + x + 5"),
    Hyp(("h1",), "f (-3) = 2"),
), "f 3 = 8"),))
PARTIAL_STATE = State((Goal((
    Hyp(("f",), "R -> R"), Hyp(("h0",), "forall x : R, x <> -2 -> f x = 1 / (x + 2)"),
), "f (f 1) = 3 / 7"),))
REC_ROOT = State((Goal((), "forall a : nat -> R, (forall n : nat, a (S (S n)) - a (S n) = a (S n) - a n) -> "
                           "a 1%nat = 2 / 3 -> a 9%nat = 4 / 5 -> a 5%nat = 11 / 15"),))


def test_a_definition_is_rewritten_and_the_closer_is_the_conclusions_arithmetic():
    ts = _offered("instances", DEF_STATE)
    # f's values are reals: the closers are the real ones, although the conclusion names no R
    assert ts[0] == "repeat rewrite h0 in *; lra."
    assert "rewrite (h0 (-3)) in *; lra." in ts and "rewrite (h0 3) in *; lra." in ts
    assert not any(t.endswith("lia.") for t in ts)
    for t in ts:
        assert check_tactic(t) == t


def test_a_definition_with_premises_is_rewritten_innermost_first_with_its_side_conditions():
    ts = _offered("instances", PARTIAL_STATE)
    # the outer f (f 1) cannot be rewritten before f 1: its side condition is about f 1
    assert "rewrite (h0 1) by lra; repeat rewrite h0 by lra; lra." in ts
    assert not any(t.startswith("rewrite (h0 (f 1))") for t in ts)


def test_a_recurrence_is_specialised_at_the_indices_the_goal_names():
    ts = _offered("instances", REC_ROOT)
    poses = "; ".join(f"pose proof (H {i}%nat)" for i in range(10))  # a 9 is the largest index
    assert ts[0] == f"intros; {poses}; simpl in *; lra."
    assert f"intros; {poses}." in ts
    assert len(ts) == len(set(ts)) and len(_offered("instances", REC_ROOT, limit=2)) == 2
    # nothing universal: nothing to offer
    assert _offered("instances", State((Goal((Hyp(("x",), "R"),), "x = x"),))) == []


def test_numerals_are_read_as_coq_prints_them_and_written_in_small_digits():
    printed = ("x + y = of_num_uint (Number.UIntDecimal (Decimal.D1 (Decimal.D7 (Decimal.D4 (Decimal.D0 "
               "(Decimal.D2 Decimal.Nil)))))) -> 14238%Z = 3")
    assert numerals(printed) == {17402, 14238, 3}
    assert digits(123422) == "123 * 1000 + 422"
    assert digits(1000001) == "1000 * 1000 + 1" and digits(20000) == "20 * 1000"
    assert eval(digits(912673).replace(" ", "")) == 912673
    assert _offered("numerals", State((Goal((Hyp(("n",), "nat"),), "n + 4999 = 5"),))) == []


def test_instances_prove_what_the_menu_cannot_and_the_checker_accepts(env, tmp_path):
    from prover.check import check_proof
    p = _problem(tmp_path, "arith_seq", """
        Require Import Reals.
        Open Scope R_scope.
        Theorem arith_seq : forall a : nat -> R,
          (forall n : nat, a (S (S n)) - a (S n) = a (S n) - a n) ->
          a 1%nat = 2 / 3 -> a 9%nat = 4 / 5 -> a 5%nat = 11 / 15.
        Proof.
        Admitted.
        """)
    root = env.open(p)
    assert first_proof(env, root, MENU_CLOSERS) is None
    out = first_proof(env, root, _offered("instances", root))
    assert out is not None and "pose proof (H 7%nat)" in out.proof[0]
    assert check_proof(p, list(out.proof)).accepted
    q = _problem(tmp_path, "nested_def", """
        Require Import Reals.
        Open Scope R_scope.
        Theorem nested_def (f : R -> R) (h0 : forall x : R, x <> -2 -> f x = 1 / (x + 2)) :
          f (f 1) = 3 / 7.
        Proof.
        Admitted.
        """)
    root = env.open(q)
    assert first_proof(env, root, ["field", "lra", "rewrite h0 by lra; field"]) is None
    out = first_proof(env, root, _offered("instances", root))
    assert out is not None and out.proof[0].startswith("rewrite (h0 1) by lra;")
    assert check_proof(q, list(out.proof)).accepted


def test_numerals_prove_a_linear_goal_lia_fails_on_and_the_checker_accepts(env, tmp_path):
    from prover.check import check_proof
    p = _problem(tmp_path, "digits5", """
        Require Import Nat.
        Theorem digits5 : forall (A M C : nat), (A <= 9 /\\ M <= 9 /\\ C <= 9) ->
          (10000 * A + 1000 * M + 100 * C + 10) + (10000 * A + 1000 * M + 100 * C + 12) = 123422 ->
          A + M + C = 14.
        Proof.
        Admitted.
        """)
    root = env.open(p)
    assert first_proof(env, root, ["intros; lia", "intros; nia", "lia"]) is None
    ts = _offered("numerals", root)
    assert ts[0].startswith("intros; assert (Hn0 : (10000 = 10 * 1000)%nat)") and ts[0].endswith("; lia.")
    out = first_proof(env, root, ts)
    assert out is not None and out.proof == (ts[0],)
    assert check_proof(p, list(out.proof)).accepted


def test_gcd_facts_make_a_gcd_lcm_problem_linear_and_the_checker_accepts(env, tmp_path):
    from prover.check import check_proof
    p = _problem(tmp_path, "gcd_lcm", """
        Require Import Arith.
        Theorem gcd_lcm : forall n : nat, 0 < n -> Nat.gcd n 40 = 10 -> Nat.lcm n 40 = 280 -> n = 70.
        Proof.
        Admitted.
        """)
    root = env.open(p)
    assert first_proof(env, root, MENU_CLOSERS) is None
    ts = _offered("instances", root)
    assert ts and all("PeanoNat.Nat.gcd_divide_l n 40" in t and "rewrite H0 in *" in t for t in ts)
    out = first_proof(env, root, ts)
    assert out is not None and out.proof[0].startswith("intros; unfold Nat.lcm in *;")
    assert check_proof(p, list(out.proof)).accepted


def test_denominators_clear_a_fraction_the_menu_cannot_and_the_checker_accepts(env, tmp_path):
    from prover.check import check_proof
    p = _problem(tmp_path, "frac_eq", """
        Require Import Reals.
        Open Scope R_scope.
        Theorem frac_eq : forall x : R, x <> -1 -> (x - 9) / (x + 1) = 2 -> x = -11.
        Proof.
        Admitted.
        """)
    root = env.open(p)
    assert first_proof(env, root, MENU_CLOSERS + ["intros; field_simplify; lra"]) is None
    ts = _offered("denominators", root)
    assert ts[0].startswith("intros; field_simplify_eq in H0; try first [assumption |") and ts[0].endswith("; lra.")
    assert _offered("denominators", State((Goal((Hyp(("x",), "R"),), "x / 2 = 1 -> x = 2"),))) == []
    # a quotient by INR a: the signs of INR first, for the side goal INR a <> 0
    nat = _offered("denominators", State((Goal((Hyp(("m", "a"), "nat"), Hyp(("H",), "(0 < a)%nat")),
                                               "INR m / INR a = 3 / 4 -> INR m = 3"),)))
    assert nat[0].startswith("intros; pose proof (pos_INR m); try (assert (0 < INR m) by (apply lt_0_INR; lia)); "
                             "pose proof (pos_INR a);")
    out = first_proof(env, root, ts)
    assert out is not None and out.proof == (ts[0],)
    assert check_proof(p, list(out.proof)).accepted


def test_compute_unfolds_a_finite_sum_the_menu_reads_as_an_atom_and_the_checker_accepts(env, tmp_path):
    from prover.check import check_proof
    p = _problem(tmp_path, "arith_sum", """
        Require Import Reals.
        Open Scope R_scope.
        Theorem arith_sum : forall a d : R,
          sum_f_R0 (fun k => a + INR k * d) 5 = 70 -> sum_f_R0 (fun k => a + INR k * d) 10 = 210 -> a = 140 / 33.
        Proof.
        Admitted.
        """)
    root = env.open(p)
    assert first_proof(env, root, [t for t in MENU_CLOSERS if "simpl" not in t]) is None
    ts = _offered("compute", root)
    assert ts[0] == "intros; simpl in *; lra."
    out = first_proof(env, root, ts)
    assert out is not None and out.proof == (ts[0],)
    assert check_proof(p, list(out.proof)).accepted
    # subst first where a hypothesis fixes a variable; nothing to compute: nothing offered
    sub = State((Goal((Hyp(("n",), "nat"), Hyp(("h0",), "n = 11%nat")), "(1 / 4) ^ (n + 1) * 2 ^ (2 * n) = 1 / 4"),))
    assert _offered("compute", sub)[0] == "subst; simpl in *; lia." and "subst; simpl in *; field." in _offered("compute", sub)
    assert _offered("compute", State((Goal((Hyp(("x",), "R"),), "x + 1 = 2"),))) == []


def test_logs_take_numerals_apart_into_primes_and_the_checker_accepts(env, tmp_path):
    from coq_env.logs import factor
    from prover.check import check_proof
    assert factor(80) == [(2, 4), (5, 1)] and factor(27) == [(3, 3)] and factor(97) == [(97, 1)]
    p = _problem(tmp_path, "log_ratio", """
        Require Import Reals.
        Open Scope R_scope.
        Theorem log_ratio : ln 27 / ln 3 = 3.
        Proof.
        Admitted.
        """)
    root = env.open(p)
    assert first_proof(env, root, ["field", "lra", "field; lra", "simpl; field"]) is None
    ts = _offered("logs", root)
    assert ts[0].startswith("assert (Hln3 : 0 < ln 3) by") and "replace (ln 27) with (ln (3 ^ 3))" in ts[0]
    out = first_proof(env, root, ts)
    assert out is not None
    assert check_proof(p, list(out.proof)).accepted
    assert _offered("logs", State((Goal((Hyp(("x",), "R"),), "ln x = ln x"),))) == []


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=1, max_value=10 ** 12))
def test_digits_and_factors_are_exact_for_any_number(n):
    """What the numerals and logs sources assert is true by construction: the digits sum back to
    the numeral with every numeral below Coq's large-number threshold, the factors multiply back."""
    import math
    import re as _re
    from coq_env.logs import factor
    from coq_env.numerals import LARGE
    text = digits(n)
    assert eval(text) == n and all(int(x) < LARGE for x in _re.findall(r"\d+", text))
    if n <= 10 ** 7:
        fs = factor(n)
        assert math.prod(p ** e for p, e in fs) == n and all(e > 0 for _, e in fs)
        assert all(all(p % q for q in range(2, int(p ** 0.5) + 1)) for p, _ in fs)
