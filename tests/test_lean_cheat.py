"""The Lean cheat filter: cheats are refused, real tactics pass."""
from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import lean_transcripts as T  # noqa: E402
from lean_env.cheat import CheatError, check_tactic, is_allowed, normalise, tokenize  # noqa: E402

CHEATS = [
    "sorry", "admit", "exact sorry", "  sorry", "simp; sorry", "have h : False := by sorry",
    "exact (sorryAx _ false)", "stop", "apply?", "exact lcProof",
    "native_decide", "decide +native", "exact Lean.ofReduceBool _ _ rfl", "simp (config := {native := true})",
    "set_option maxHeartbeats 0 in simp", "set_option debug.skipKernelTC true in rfl",
    "open Lean.Elab.Tactic in run_tac pure ()", "run_tac (pure ())", "by_elab pure (mkConst ``True)",
    "elab \"x\" : tactic => pure ()", "macro \"done'\" : tactic => `(tactic| sorry)",
    "exact (by exact?)\ntheorem cheat : False := sorry", "rfl\naxiom ax : False", "rfl\n#exit",
    "#eval 1", "rfl #print axioms foo", "trivial axiom ax : False", "simp where foo := 1",
    "norm_num\nend", "rfl /- unterminated", "exact \"string\"", "exact 'c'", "@[simp] theorem x : True := trivial",
    "attribute [local simp] foo in simp", "open Classical hiding choice in simp", "open scoped Real in simp",
    "Nat.le_refl 1", "exact `(1)", "", "   ", "-- just a comment", "/-- doc -/ rfl",
    "rfl\u0000", "decreasing_by simp", "termination_by n", "unsafe rfl", "omit h in rfl",
    "exact implemented_by", "exact «sorry»", "noncomputable def x := 1", "instance : Inhabited Nat := ⟨0⟩",
]

LEGIT = [
    "norm_num", "simp", "linarith", "nlinarith [sq_nonneg (a - b), sq_nonneg (a + b)]", "omega", "decide",
    "simp (config := {decide := true})", "simp_rw (config := {decide := true}) [h₀]", "decide +kernel",
    "intro x y", "rintro ⟨h₁, h₂⟩", "obtain ⟨x, hx⟩ := h", "rcases h with ⟨a, b⟩ | h", "exact h.1",
    "apply And.intro", "constructor", "· exact h1.left", ". simp", "case left => exact h",
    "next => rfl", "on_goal 2 => norm_num", "all_goals positivity", "any_goals simp", "field_simp",
    "ring_nf", "ring", "nlinarith [h₀, h₁]", "have h : x = 2 := by linarith", "calc a = b := by rw [h]\n  _ = c := by simp",
    "induction n with\n  | zero => simp\n  | succ n ih => simp [ih]", "rw [← h₀, Nat.add_comm] at h₁", "exact?",
    "interval_cases x <;> simp_all", "first | linarith | nlinarith", "{ simp [h0] }", "(simp)",
    "open Real in simp [exp_pos]", "push_neg at h", "by_contra h", "exfalso", "norm_num [Nat.factorial]",
    "exact fun x => x", "refine ⟨_, ?_⟩", "use 3", "aesop", "gcongr", "exact h₀ 2 (by norm_num)",
    "simp only [Finset.sum_range_succ]", "rw [show (4 : ℝ) = 2 * 2 by norm_num]", "nth_rewrite 2 [h]",
    "unfold f at *", "subst h", "specialize h 0", "cases' h with x hx", "exact ⟨1, by norm_num⟩",
    "apply mul_pos <;> assumption", "trivial", "contradiction", "tauto", "positivity", "bound",
    "exact le_of_lt (by linarith) -- comment", "simp /- block -/ [h]", "exact (h : x' = y')",
    "rw [h₀] at h₁\nlinarith", "  intro x", "exact Nat.succ_le_of_lt h",
]


@pytest.mark.parametrize("tac", CHEATS)
def test_cheats_refused(tac):
    assert not is_allowed(tac), tac
    with pytest.raises(CheatError):
        check_tactic(tac)


@pytest.mark.parametrize("tac", LEGIT)
def test_legit_tactics_pass(tac):
    check_tactic(tac)


def test_native_decide_flag():
    assert check_tactic("native_decide", allow_native_decide=True) == "native_decide"
    assert is_allowed("decide +native", allow_native_decide=True)
    assert not is_allowed("sorry", allow_native_decide=True)


@pytest.mark.skipif(not T.TRANSCRIPTS.is_dir(), reason="transcripts not found")
def test_recorded_tactics_pass_unless_they_cheat():
    """Every tactic the REPL's tests send: allowed exactly when it has no sorry/set_option."""
    seen = 0
    for name in T.all_names():
        for req in T.load(name).requests:
            if "tactic" in req:
                seen += 1
                cheating = "sorry" in req["tactic"]
                assert is_allowed(req["tactic"]) != cheating, req["tactic"]
    assert seen >= 50


def test_normalise_and_tokens():
    assert normalise("  intro x\n    simp\n") == "intro x\n  simp"
    kinds = [t.kind for t in tokenize('h.1 «x y» #eval "s" /- c -/ -- d', keep_comments=True)]
    assert kinds == ["ident", "symbol", "number", "ident", "hashcmd", "string", "comment", "comment"]
    assert check_tactic("intro x\nsimp") == "intro x\nsimp"   # a sequence: indented as a block later
