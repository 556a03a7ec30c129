"""The ``hints`` and ``cases`` candidate sources: nonlinear-arithmetic hints and bounded case
splits, instantiated from the first goal (coq_env/hints.py, coq_env/cases.py), on real Coq."""
from __future__ import annotations

import pytest

from coq_env.cheat import check_tactic
from prover.env import Goal, Hyp, State
from prover.policy.sources import make_source
from tests.conftest import first_proof, write

R_STATE = State((Goal((
    Hyp(("a", "b"), "R"),
    Hyp(("Ha",), "0 < a"),
    Hyp(("Hb",), "0 < b"),
), "(a + b) ^ 4 <= 8 * (a ^ 4 + b ^ 4)"),))
ROOT_STATE = State((Goal((), "forall x y z : R, 0 < x /\\ 0 < y -> z > 0 -> x ^ 3 + y ^ 3 + z ^ 3 >= 3 * x * y * z"),))
Z_STATE = State((Goal((Hyp(("x", "y"), "Z"),), "(2 * x * y <= x * x + y * y)%Z"),))
NAT_STATE = State((Goal((Hyp(("m", "n"), "nat"),), "2 * m * n <= m * m + n * n"),))
SQRT_STATE = State((Goal((), "forall x : R, x > 0 -> 2 - sqrt 2 >= 2 - x - 1 / (2 * x)"),))

CASE_STATE = State((Goal((
    Hyp(("n",), "nat"),
    Hyp(("H",), "n <= 9"),
), "(374 * 10 + n) mod 18 = 0 -> n = 4"),))
Z_CASE_STATE = State((Goal((), "forall x y : Z, (-2 <= x)%Z -> (x < 3)%Z -> (0 <= y < 100)%Z -> (x * x * x <= 8)%Z"),))
ROOT_CASE_STATE = State((Goal((), "forall a b : nat, 1 <= a <= 3 -> b < 4 -> a * b < 12"),))


def _hints(state, **kw):
    return make_source("hints", "coq", **kw).candidates(state)


def _cases(state, **kw):
    return make_source("cases", "coq", **kw).candidates(state)


def _all_pass_the_cheat_filter(tactics):
    for t in tactics:
        assert check_tactic(t) == t, t


def test_hints_square_the_differences_of_the_goals_atoms_first():
    ts = _hints(R_STATE)
    assert ts[0] == "pose proof (pow2_ge_0 (a - b)); nra."  # hypotheses in context: no intros
    assert "pose proof (pow2_ge_0 (a + b)); nra." in ts
    # a product of the two positive atoms, proved from the facts without naming them
    assert "assert ((0 < a * b)%R) by (apply Rmult_lt_0_compat; lra); nra." in ts
    assert any("pow2_ge_0 (a - 4)" in t for t in ts)  # an atom minus a constant of the goal
    assert any(t.endswith("psatz R 3.") for t in ts)
    assert all(t.endswith(".") for t in ts) and len(ts) == len(set(ts))
    _all_pass_the_cheat_filter(ts)


def test_hints_of_a_root_statement_read_the_binders_and_intros_first():
    ts = _hints(ROOT_STATE)
    assert ts[0] == "intros; pose proof (pow2_ge_0 (x - y)); nra."
    assert all(t.startswith("intros; ") for t in ts)
    # all three squares of differences at once, and the positivity of the product of the three
    assert ("intros; pose proof (pow2_ge_0 (x - y)); pose proof (pow2_ge_0 (x - z)); "
            "pose proof (pow2_ge_0 (y - z)); nra.") in ts
    assert any("(0 < x * y * z)%R" in t for t in ts)  # z > 0 and a conjunction both read
    _all_pass_the_cheat_filter(ts)


def test_hints_for_z_nat_and_real_functions():
    z = _hints(Z_STATE)
    assert z[0] == "pose proof (Z.square_nonneg (x - y)); nia."
    n = _hints(NAT_STATE)
    # nia works over Z; the square is spelled without Z's notations, which a nat problem may lack
    assert n[0] == ("pose proof (BinInt.Z.square_nonneg (BinInt.Z.sub (BinInt.Z.of_nat m) (BinInt.Z.of_nat n))); "
                    "nia.")
    s = _hints(SQRT_STATE)
    assert "intros; pose proof (sqrt_pos 2); nra." in s
    assert "intros; assert (((sqrt 2) * (sqrt 2) = 2)%R) by (apply sqrt_sqrt; nra); nra." in s
    _all_pass_the_cheat_filter(z + n + s)


def test_hints_are_deterministic_capped_and_absent_where_they_cannot_help():
    assert _hints(ROOT_STATE) == _hints(ROOT_STATE)
    assert len(_hints(ROOT_STATE)) > 5
    assert _hints(ROOT_STATE, limit=5) == _hints(ROOT_STATE)[:5]
    assert _hints(State(())) == [] and _hints(None) == []
    assert _hints(State((Goal((Hyp(("x", "y"), "R"),), "2 * x + y <= 3 * y"),))) == []  # linear: lra's job
    assert _hints(State((Goal((Hyp(("P",), "Prop"),), "P -> P"),))) == []  # no arithmetic


def test_cases_split_a_bounded_variable_into_its_values():
    ts = _cases(CASE_STATE)
    disj = " \\/ ".join(f"n = {v}" for v in range(10))
    pattern = "[Hc|[Hc|[Hc|[Hc|[Hc|[Hc|[Hc|[Hc|[Hc|Hc]]]]]]]]]"
    assert ts[0] == f"intros; assert (Hc : ({disj})%nat) by lia; destruct Hc as {pattern}; subst n; lia."
    assert f"intros; assert (Hc : ({disj})%nat) by lia; destruct Hc as {pattern}; subst n; simpl in *; lia." in ts
    # one variant leaves the cases lia cannot close open for the search
    assert any(t.endswith("subst n.") for t in ts)
    _all_pass_the_cheat_filter(ts)


def test_cases_read_z_bounds_from_the_premises_and_skip_wide_ranges():
    ts = _cases(Z_CASE_STATE)
    assert ts and all("x = -2 \\/ x = -1 \\/ x = 0 \\/ x = 1 \\/ x = 2)%Z" in t for t in ts)
    assert not any("y = " in t for t in ts)  # 100 cases: too many
    both = _cases(ROOT_CASE_STATE)
    assert both[0].startswith("intros; assert (Hc : (a = 1 \\/ a = 2 \\/ a = 3)%nat) by lia")  # fewer cases first
    assert any("subst a b; lia." in t for t in both)  # two small ranges split together
    taken = State((Goal((Hyp(("n",), "nat"), Hyp(("Hc",), "n < 3")), "n * n < 5"),))
    assert all("assert (Hc0 :" in t for t in _cases(taken))  # a fresh name
    _all_pass_the_cheat_filter(ts + both)


def test_cases_are_deterministic_capped_and_absent_without_a_bounded_variable():
    assert _cases(CASE_STATE) == _cases(CASE_STATE)
    assert _cases(CASE_STATE, limit=3) == _cases(CASE_STATE)[:3]
    assert _cases(State(())) == [] and _cases(None) == []
    assert _cases(State((Goal((Hyp(("n",), "nat"),), "n * n >= n"),))) == []  # no upper bound
    assert _cases(State((Goal((Hyp(("x",), "Z"), Hyp(("H",), "(x < 3)%Z")), "(x * x >= 0)%Z"),))) == []  # Z: no lower bound
    assert _cases(R_STATE) == []


def _problem(tmp_path, name, text):
    from coq_env.problems import parse_file
    return parse_file(write(tmp_path / "p" / f"{name}.v", text))



def test_a_hint_proves_what_nra_and_psatz_cannot_and_the_checker_accepts(env, tmp_path):
    from prover.check import check_proof
    p = _problem(tmp_path, "amgm2", """
        Require Import Reals.
        Open Scope R_scope.
        Theorem amgm2 : forall a b : R, a * b <= (a ^ 2 + b ^ 2) / 2.
        Proof.
        Admitted.
        """)
    root = env.open(p)
    assert first_proof(env, root, ["intros; nra", "intros; psatz R 3", "intros; psatz R 4"]) is None
    out = first_proof(env, root, _hints(root))
    assert out is not None and out.proof == ("intros; pose proof (pow2_ge_0 (a - b)); nra.",)
    v = check_proof(p, list(out.proof))
    assert v.accepted, v.reason
    # over nat the square is taken in Z, in a spelling that needs no Import of ZArith
    q = _problem(tmp_path, "amgm2_nat", """
        Require Import Arith.
        Theorem amgm2_nat : forall x y : nat, 2 * x * y <= x * x + y * y.
        Proof.
        Admitted.
        """)
    root = env.open(q)
    assert first_proof(env, root, ["intros; nia"]) is None
    out = first_proof(env, root, _hints(root)[:1])
    assert out is not None and "BinInt.Z.square_nonneg" in out.proof[0]
    v = check_proof(q, list(out.proof))
    assert v.accepted, v.reason


def test_a_case_split_proves_what_lia_and_nia_cannot_and_the_checker_accepts(env, tmp_path):
    from prover.check import check_proof
    p = _problem(tmp_path, "cube_mod", """
        Require Import Arith.
        Theorem cube_mod : forall n : nat, n < 6 -> n * n * n mod 6 = n mod 6.
        Proof.
        Admitted.
        """)
    root = env.open(p)
    assert first_proof(env, root, ["intros; lia", "intros; nia", "nia"]) is None
    ts = _cases(root)
    assert ts[0].startswith("intros; assert (Hc : (n = 0 \\/ n = 1 \\/ n = 2 \\/ n = 3 \\/ n = 4 \\/ n = 5)%nat)")
    out = first_proof(env, root, ts)
    assert out is not None and out.proof == (ts[0],)
    v = check_proof(p, list(out.proof))
    assert v.accepted, v.reason


def test_the_sources_work_through_a_policy_spec_and_the_search(env, tmp_path):
    """``menu+hint`` proves the AM-GM inequality the menu alone leaves open."""
    from prover.check import check_proof
    from prover.policy.spec import PolicySpec, build_policy
    from prover.search import BestFirstSearch, SearchConfig
    spec = PolicySpec(sources=("menu", "hints", "cases"))
    assert spec.label == "menu+hint+cases"
    policy = build_policy(spec, "coq")
    [cands] = policy.propose([R_STATE])
    tactics = [c.tactic for c in cands]
    assert "pose proof (pow2_ge_0 (a - b)); nra." in tactics and tactics.index("lia.") < tactics.index(
        "pose proof (pow2_ge_0 (a - b)); nra.")  # the menu first, then the hints
    with pytest.raises(ValueError):
        PolicySpec(sources=("menu", "hint"))  # the registry name, not the tag
    p = _problem(tmp_path, "amgm2", """
        Require Import Reals.
        Open Scope R_scope.
        Theorem amgm2 (a b : R) : a * b <= (a ^ 2 + b ^ 2) / 2.
        Proof.
        Admitted.
        """)
    res = BestFirstSearch(env, build_policy(PolicySpec(sources=("menu", "hints")), "coq"),
                          SearchConfig(max_expansions=2, tactic_timeout=3)).run(p)
    assert res.outcome == "proved" and any("pow2_ge_0" in t for t in res.proof)
    assert check_proof(p, res.proof).accepted
