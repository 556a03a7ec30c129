"""Lean's instantiated-tactic sources (``lean_env/hints.py``, ``cases.py``, ``witnesses.py``, ``instances.py``,
``denominators.py``, ``compute.py``, ``logs.py``, ``premises.py``):
the tactics Lean provers win miniF2F with, written from the goal as the REPL prints it.

Lean cannot run here, so these tests check the text: on goals of real miniF2F-lean4 statements
(written as the REPL's infoview prints them: ``x ^ 2``, hypotheses one per line), each source
offers the tactic a published proof uses (``nlinarith [sq_nonneg (x - 7)]``, ``interval_cases n
<;> omega``, ``use``), names hypotheses and conjuncts as Lean does (``h₀.2.1``), passes the Lean
cheat filter, and is deterministic and bounded. Whether Lean accepts them is the live REPL's
business (the search applies them there)."""
from __future__ import annotations

import pytest

from lean_env import cases, compute, denominators, hints, instances, logs, witnesses
from lean_env.cheat import check_tactic
from lean_env.goals import parse_goal
from prover.env import State
from prover.policy.sources import make_source

# miniF2F-lean4's statements, as the REPL shows their first goal
SQINEQ = "a : ℝ\n⊢ a * (2 - a) ≤ 1"                                            # algebra_sqineq_at2malt1
ALGEBRA_113 = "x : ℝ\n⊢ x ^ 2 - 14 * x + 3 ≥ 7 ^ 2 - 14 * 7 + 3"                  # mathd_algebra_113
AMGM = ("a b c d : ℝ\nh₀ : 0 < a ∧ 0 < b ∧ 0 < c ∧ 0 < d\n"
        "⊢ a ^ 2 / b + b ^ 2 / c + c ^ 2 / d + d ^ 2 / a ≥ a + b + c + d")          # algebra_amgm_sumasqdivbgeqsuma
NT_1124 = "n : ℕ\nh₀ : n ≤ 9\nh₁ : 18 ∣ 374 * 10 + n\n⊢ n = 4"                      # mathd_numbertheory_1124
NT_234 = ("a b : ℕ\nh₀ : 1 ≤ a ∧ a ≤ 9 ∧ b ≤ 9\nh₁ : (10 * a + b) ^ 3 = 912673\n"
          "⊢ a + b = 16")                                                           # mathd_numbertheory_234
AMC_2002_P6 = "n : ℕ\nh₀ : 0 < n\n⊢ ∃ m, m > n ∧ ∃ p, m * p ≤ m + p"             # amc12a_2002_p6
SQUARE_49 = "⊢ ∃ n : ℕ, 0 < n ∧ n ^ 2 = 49"
LINEAR = "x y : ℝ\nh₀ : x + y = 10\nh₁ : x - y = 2\n⊢ x = 6"
ALGEBRA_171 = "f : ℝ → ℝ\nh₀ : ∀ (x : ℝ), f x = 5 * x + 4\n⊢ f 1 = 9"                 # mathd_algebra_171
ALGEBRA_76 = ("f : ℤ → ℤ\nh₀ : ∀ (n : ℤ), Odd n → f n = n ^ 2\n"
              "h₁ : ∀ (n : ℤ), Even n → f n = n ^ 2 - 4 * n - 1\n⊢ f 4 = -1")          # mathd_algebra_76
FIB = "a : ℕ → ℝ\nh₀ : a 0 = 1\nh₁ : a 1 = 1\nh₂ : ∀ (n : ℕ), a (n + 2) = a (n + 1) + a n\n⊢ a 5 = 8"
ALGEBRA_24 = "x : ℝ\nh₀ : x / 50 = 40\n⊢ x = 2000"                                    # mathd_algebra_24
NT_3 = "⊢ (∑ x ∈ Finset.range 10, (x + 1) ^ 2) % 10 = 5"                               # mathd_numbertheory_3
ALGEBRA_484 = "⊢ Real.log 27 / Real.log 3 = 3"                                          # mathd_algebra_484
AMC_2021B_P9 = ("⊢ Real.log 80 / Real.log 2 / (Real.log 2 / Real.log 40) - "
                "Real.log 160 / Real.log 2 / (Real.log 2 / Real.log 20) = 2")           # amc12b_2021_p9
ALL = [SQINEQ, ALGEBRA_113, AMGM, NT_1124, NT_234, AMC_2002_P6, SQUARE_49, LINEAR, ALGEBRA_171, ALGEBRA_76, FIB,
       ALGEBRA_24, NT_3, ALGEBRA_484, AMC_2021B_P9]


def offered(module, text: str, **kw) -> list[str]:
    return module.candidates(parse_goal(text), **kw)


def test_hints_name_the_goals_atoms_constants_and_conjuncts():
    assert "nlinarith [sq_nonneg (a - 1)]" in offered(hints, SQINEQ)
    assert "nlinarith [sq_nonneg (x - 7)]" in offered(hints, ALGEBRA_113)
    assert not any("x - 2)" in t for t in offered(hints, ALGEBRA_113))  # an exponent is not a constant
    ts = offered(hints, AMGM)
    assert ts[0] == "nlinarith [sq_nonneg (a - b)]"
    assert any("mul_pos h₀.1 h₀.2.1" in t and "mul_pos h₀.2.2.1 h₀.2.2.2" in t for t in ts)
    view = hints.View(parse_goal(AMGM))
    assert view.facts == {"h₀.1": "0 < a", "h₀.2.1": "0 < b", "h₀.2.2.1": "0 < c", "h₀.2.2.2": "0 < d"}
    assert offered(hints, LINEAR) == []  # linear: linarith's, hints would only cost tries
    # naturals: a difference truncates, so its square is taken in ℤ
    assert "nlinarith [sq_nonneg ((x : ℤ) - y)]" in offered(hints, "x y : ℕ\nh₀ : x + y = 10\n⊢ x * y ≤ 25")
    # a root and an absolute value bring their facts, the root's from the goal's own hypothesis
    ts = offered(hints, "x : ℝ\nh : 0 < x\n⊢ √x * √x + |x - 1| ≥ 2 * x - 3")
    assert "nlinarith [Real.sqrt_nonneg x, Real.sq_sqrt h.le]" in ts
    assert "nlinarith [abs_nonneg (x - 1), sq_abs (x - 1)]" in ts


def test_cases_split_bounded_naturals_stating_nested_bounds_first():
    assert offered(cases, NT_1124)[0] == "interval_cases n <;> omega"
    assert "interval_cases n" in offered(cases, NT_1124)  # bare: the cases left to the search
    ts = offered(cases, NT_234)
    assert ts[0] == "have hcase1 : 1 ≤ a := h₀.1; have hcase2 : a ≤ 9 := h₀.2.1; interval_cases a <;> omega"
    assert "have hcase1 : b ≤ 9 := h₀.2.2; interval_cases b <;> omega" in ts  # 10 cases: after a's 9
    assert not any("interval_cases a <;> interval_cases b" in t for t in ts)  # 90 cases: too many together
    assert cases.bounds(hints.View(parse_goal(NT_234))) == {"a": (1, 9, ["h₀.1", "h₀.2.1"]), "b": (0, 9, ["h₀.2.2"])}
    ints = "x y : ℤ\nh₀ : -2 ≤ x\nh₁ : x ≤ 2\nh₂ : 1 ≤ y\nh₃ : y < 4\n⊢ x ^ 2 * y ≤ 12"
    ts = offered(cases, ints)
    assert ts[0] == "interval_cases y <;> omega" and "interval_cases y <;> interval_cases x <;> omega" in ts
    assert not any("decide" in t for t in ts)  # ℤ: decide is for ℕ
    assert offered(cases, "x : ℤ\nh₀ : x ≤ 2\n⊢ x ^ 2 ≥ 0") == []  # an integer bounded on one side only
    assert offered(cases, "n : ℕ\nh₀ : n < 1000\n⊢ n % 7 < 7") == []  # too many cases


def test_witnesses_use_the_goals_numbers_roots_and_variables():
    ts = offered(witnesses, SQUARE_49)
    assert "use 7 <;> norm_num" in ts and "use 7" in ts
    assert ts.index("use 7 <;> norm_num") < ts.index("use 7")  # closers before bare witnesses
    assert not any("(-1)" in t for t in ts)  # ℕ: no negative witness
    ts = offered(witnesses, AMC_2002_P6)
    assert "use (n + 1)" in ts  # the published proof's witness
    ts = offered(witnesses, "x y : ℝ\nh : x = 2 * y\n⊢ ∃ a b, a + b = x ∧ a = y")
    assert any(t.startswith("use ") and ", " in t.split(" <;>")[0] for t in ts)  # two names, two values
    assert "use (-1) <;> norm_num" in offered(witnesses, "⊢ ∃ x : ℤ, x + 1 = 0")
    assert offered(witnesses, SQINEQ) == []  # not an existential


def test_instances_use_definitions_and_recurrences_at_the_goals_terms():
    assert offered(instances, ALGEBRA_171)[0] == "norm_num [h₀]"
    assert "rw [h₀ 1]; norm_num" in offered(instances, ALGEBRA_171)
    # a definition with a premise: rewritten at the goal's argument, the premise decided
    assert "rw [h₁ 4 (by decide)]; norm_num" in offered(instances, ALGEBRA_76)
    assert not any(t.startswith("norm_num [h") for t in offered(instances, ALGEBRA_76))  # a premise blocks it
    # a recurrence over ℕ: its instances up to the goal's index
    fib = offered(instances, FIB)
    assert any(t.startswith("have h₂_0 := h₂ 0; ") and "have h₂_5 := h₂ 5; norm_num at *; linarith" in t
               for t in fib)
    assert offered(instances, LINEAR) == []  # no ∀ hypothesis


def test_denominators_compute_and_logs_write_what_published_proofs_write():
    assert offered(denominators, ALGEBRA_24)[0] == "field_simp at h₀; linarith"
    assert offered(denominators, LINEAR) == []
    assert offered(compute, NT_3)[0] == "norm_num [Finset.sum_range_succ]"
    assert offered(compute, LINEAR) == []
    [first, *_] = offered(logs, ALGEBRA_484)
    assert first.startswith("have hlog_27 : Real.log 27 = 3 * Real.log 3 := (by rw [show (27 : ℝ) = 3 ^ 3 by "
                            "norm_num, Real.log_pow]; push_cast; ring); have hlogpos_3 : 0 < Real.log 3")
    assert first.endswith("rw [hlog_27]; field_simp; ring")
    b9 = offered(logs, AMC_2021B_P9)[0]
    assert ("have hlog_80 : Real.log 80 = 4 * Real.log 2 + Real.log 5 := (by rw [show (80 : ℝ) = 2 ^ 4 * 5 by "
            "norm_num, Real.log_mul (by norm_num) (by norm_num), Real.log_pow]; push_cast; ring)") in b9
    assert "rw [hlog_20, hlog_40, hlog_80, hlog_160]" in b9 and "hlog_2 " not in b9  # a prime stays as it is
    assert offered(logs, LINEAR) == []


@pytest.mark.parametrize("module", [hints, cases, witnesses, instances, denominators, compute, logs])
def test_every_offer_is_deterministic_bounded_and_passes_the_cheat_filter(module):
    for text in ALL:
        ts = offered(module, text)
        assert ts == offered(module, text) and len(ts) == len(set(ts)) <= 48
        assert all(check_tactic(t) == t for t in ts)
        assert offered(module, text, limit=2) == ts[:2]
    # text the reader does not follow gives fewer candidates, never an exception
    for odd in ["⊢ ∃", "x : ℝ\n⊢ (((", "h : ∧ ∧\n⊢ 0 < 1", "n : ℕ\nh : n < \n⊢ n = n", "⊢ ∃ x y z w, x = y"]:
        assert isinstance(offered(module, odd), list)


def test_the_sources_reach_the_lean_modules_through_the_registry():
    state = State((parse_goal(NT_1124),))
    assert make_source("cases", "lean").candidates(state)[0] == "interval_cases n <;> omega"
    assert make_source("hints", "lean").candidates(State((parse_goal(ALGEBRA_113),)))
    assert make_source("witnesses", "lean").candidates(State((parse_goal(SQUARE_49),)))
    assert make_source("instances", "lean").candidates(State((parse_goal(ALGEBRA_171),)))
    assert make_source("numerals", "lean").candidates(state) == []  # no such module in Lean: nothing


def test_lean_premises_are_mathlibs_library_search_and_nothing_of_the_runs_own():
    state = State((parse_goal("x : ℝ\n⊢ 0 < 1"),))
    assert make_source("premises", "lean").candidates(state) == ["exact?"]
    assert check_tactic("exact?") == "exact?"  # the cheat filter lets it through (`apply?` it refuses)
    assert make_source("lemmas", "lean", db=None).candidates(state) == []
