"""Cheats are refused by the environment before Coq sees them, and rejected by
`prover check` when written straight into a proof file."""
from __future__ import annotations

import pytest

from coq_env.cheat import CheatError, check_tactic
from coq_env.check import check_file, render_proof
from coq_env.problems import parse_file
from prover.env import TacticError
from tests.conftest import write

CHEATS = [
    "admit", "intros; admit", "give_up", "Admitted", "Abort", "Abort All",
    "intros. Qed", "lia. Qed", "idtac. Axiom cheat : False", "exact I. Theorem x : True",
    "Axiom cheat : False", "Parameter p : nat", "Hypothesis h : False", "Variable v : nat",
    "Require Import Classical", "Load \"evil.v\"", "Declare ML Module \"evil\"",
    "Set Printing All", "Unset Guard Checking", "Local Set Universe Checking", "#[local] exact I",
    "exact_no_check I", "vm_cast_no_check I", "idtac \"No more goals.\"",
    "Timeout 1 admit", "Fail idtac", "- lia", "{", "}", "*", "Show Proof", "Qed",
    "Ltac t := admit", "assert False by admit", "all: admit", "first [admit | lia]",
]
LEGIT = [
    "intros", "intros x y", "lia", "intros; subst; nra", "all: lia", "2: reflexivity",
    "1-2: auto", "(intros; lra)", "rewrite Nat.add_0_r", "exact (Nat.add_0_r n)",
    "assert (h : x = 6) by lra", "destruct (Req_dec x 0) as [H|H]", "apply Rmult_le_pos; lra",
    "match goal with | H : _ |- _ => idtac end", "try (field; lra)", "exists Set",
    "field_simplify. ",
]


@pytest.mark.parametrize("tactic", CHEATS)
def test_cheat_refused_by_filter(tactic):
    with pytest.raises(CheatError):
        check_tactic(tactic)


@pytest.mark.parametrize("tactic", LEGIT)
def test_legit_tactic_passes(tactic):
    assert check_tactic(tactic).endswith(".")


def test_cheats_refused_by_env_before_coq(env, problem_dir):
    root = env.open(parse_file(problem_dir / "add_zero.v"))
    sent = env.coq.sent
    for c in CHEATS:
        out = env.apply(root, c)
        assert isinstance(out, TacticError) and out.refused, c
    assert env.coq.sent == sent  # not one byte reached Coq


# Each cheat written straight into a proof file of the add_zero problem.
FILE_CHEATS = {
    "admitted": "Proof.\n  intros.\nAdmitted.\n",
    "admit": "Proof.\n  intros. admit.\nQed.\n",
    "give_up": "Proof.\n  intros. give_up.\nQed.\n",
    "abort_restate": "Proof.\nAbort.\nTheorem add_zero : True.\nProof. exact I. Qed.\n",
    "axiom": "Proof.\n  intros. destruct cheat.\nQed.\n",
    "new_command": "Proof.\n  intros. Qed. Axiom more : False.\n",
    "guard": "Proof.\n  Unset Guard Checking. intros. lia.\nQed.\n",
    "require": "Proof.\n  Require Import Classical. intros. lia.\nQed.\n",
}


@pytest.mark.parametrize("name", sorted(FILE_CHEATS))
def test_cheat_in_file_rejected_by_check(name, problem_dir, tmp_path, coq_available):
    p = parse_file(problem_dir / "add_zero.v")
    head = p.header + ("\nAxiom cheat : False." if name == "axiom" else "")
    f = write(tmp_path / "add_zero.v", f"{head}\n{p.statement}\n{FILE_CHEATS[name]}")
    # with the problem known, and without (then only Print Assumptions can catch it)
    assert not check_file(f, problem=p).accepted
    if name not in ("abort_restate", "require", "new_command"):
        assert not check_file(f).accepted


def test_unsafe_flags_and_forged_output_rejected(tmp_path, coq_available):
    f = write(tmp_path / "t.v", """
        Unset Guard Checking.
        Fixpoint bad (n : nat) : False := bad n.
        Set Guard Checking.
        Theorem t : 1 = 2.
        Proof. idtac "Closed under the global context". destruct (bad 0). Qed.
        """)
    v = check_file(f)
    assert not v.accepted and "guarded" in v.reason
    imposter = write(tmp_path / "imp.v", """
        Module ClassicalDedekindReals. Axiom sig_forall_dec : False. End ClassicalDedekindReals.
        Theorem imp : 1 = 2.
        Proof. destruct ClassicalDedekindReals.sig_forall_dec. Qed.
        """)
    assert not check_file(imposter).accepted


def test_honest_proof_accepted_with_reals_axioms(problem_dir, tmp_path, coq_available):
    p = parse_file(problem_dir / "real_lin.v")
    f = tmp_path / "real_lin.v"
    f.write_text(render_proof(p, ["lra."]))
    v = check_file(f, problem=p)
    assert v.accepted, v.reason
    assert "ClassicalDedekindReals.sig_forall_dec" in v.axioms


# Every way the Coq reference manual offers to skip or weaken a check, in a file of its own
# (no problem given: Print Assumptions alone must catch it), each with the reason it gets.
MANUAL_CHEATS = {
    "bypass_guard": ("#[bypass_check(guard)] Fixpoint bad (n : nat) : False := bad n.\n"
                     "Theorem t : 1 = 2.\nProof. destruct (bad 0). Qed.\n", "assumed to be guarded"),
    "local_unset_guard": ("Local Unset Guard Checking.\nFixpoint bad (n : nat) : False := bad n.\n"
                          "Theorem t : 1 = 2.\nProof. destruct (bad 0). Qed.\n", "assumed to be guarded"),
    "bypass_positivity": ("#[bypass_check(positivity)] Inductive D := mk : (D -> False) -> D.\n"
                          "Definition f (d : D) : False := match d with mk g => g d end.\n"
                          "Theorem t : 1 = 2.\nProof. destruct (f (mk f)). Qed.\n", "assumed to be positive"),
    "unset_positivity": ("Unset Positivity Checking.\nInductive D := mk : (D -> False) -> D.\n"
                         "Set Positivity Checking.\nDefinition f (d : D) : False := match d with mk g => g d end.\n"
                         "Theorem t : 1 = 2.\nProof. destruct (f (mk f)). Qed.\n", "assumed to be positive"),
    "unset_universe_checking": ("Unset Universe Checking.\nDefinition T := Type : Type.\nSet Universe Checking.\n"
                                "Theorem t : 1 = 1.\nProof. pose T. reflexivity. Qed.\n", "unsafe hierarchy"),
    "program_admit_obligations": ("Require Import Program.\nProgram Definition c : False := _.\nAdmit Obligations.\n"
                                  "Theorem t : 1 = 2.\nProof. destruct c. Qed.\n", "c_obligation_1"),
    "declare_module": ("Module Type T. Parameter cheat : False. End T.\nDeclare Module M : T.\n"
                       "Theorem t : 1 = 2.\nProof. destruct M.cheat. Qed.\n", "M.cheat"),
    "instance_admitted": ("Class C := { c : False }.\nInstance i : C.\nAdmitted.\n"
                          "Theorem t : 1 = 2.\nProof. destruct c. Qed.\n", "Cand.i"),
    "axiom_behind_a_definition": ("Axiom ax : False.\nDefinition cheat : False := ax.\n"
                                  "Theorem t : 1 = 2.\nProof. destruct cheat. Qed.\n", "Cand.ax"),
    "ltac_admit": ("Ltac a := admit.\nTheorem t : 1 = 2.\nProof. a. Admitted.\n", "Cand.t"),
    "functor_parameter": ("Module Type T. Parameter cheat : False. End T.\n"
                          "Module F (X : T). Theorem t : 1 = 2. Proof. destruct X.cheat. Qed. End F.\n", "not found"),
    "imposter_allowed_name": ("Module FunctionalExtensionality. Axiom functional_extensionality_dep : False. "
                              "End FunctionalExtensionality.\nTheorem t : 1 = 2.\n"
                              "Proof. destruct FunctionalExtensionality.functional_extensionality_dep. Qed.\n",
                              "Cand.FunctionalExtensionality"),
}


@pytest.mark.parametrize("name", sorted(MANUAL_CHEATS))
def test_every_manual_way_to_weaken_a_check_is_rejected(name, tmp_path, coq_available):
    body, why = MANUAL_CHEATS[name]
    v = check_file(write(tmp_path / f"{name}.v", body), "t")
    assert not v.accepted and why in v.reason, v.reason


def test_a_section_variable_changes_the_statement_and_is_refused_with_the_problem(tmp_path, coq_available):
    p = parse_file(write(tmp_path / "p" / "t.v", "Theorem t : 1 = 2.\nProof.\nAdmitted.\n"))
    f = write(tmp_path / "t.v", "Section S.\nVariable cheat : False.\nTheorem t : 1 = 2.\n"
                                "Proof. destruct cheat. Qed.\nEnd S.\n")
    v = check_file(f, problem=p)  # without the problem, t is the true `False -> 1 = 2`
    assert not v.accepted and ("statement" in v.reason or "header" in v.reason), v.reason


def test_coqchk_second_opinion(tmp_path, coq_available):
    honest = write(tmp_path / "h.v", "Theorem t : 1 + 1 = 2.\nProof. reflexivity. Qed.\n")
    v = check_file(honest, "t", second_opinion=True)
    assert v.accepted, v.reason
    bad = write(tmp_path / "b.v", MANUAL_CHEATS["bypass_guard"][0])
    v = check_file(bad, "t", second_opinion=True)
    assert not v.accepted and "coqchk" in v.reason and "bad" in v.reason


def test_coqchk_summary_reading():
    from coq_env.check import coqchk_verdict
    ok = ("CONTEXT SUMMARY\n===============\n\n* Theory: Set is predicative\n  \n* Axioms:\n"
          "    Coq.Logic.Classical_Prop.classic\n  \n* Constants/Inductives relying on type-in-type: <none>\n"
          "  \n* Constants/Inductives relying on unsafe (co)fixpoints: <none>\n  \n"
          "* Inductives whose positivity is assumed: <none>\n")
    assert coqchk_verdict(ok, 0).accepted
    assert "outside the allow-list" in coqchk_verdict(ok.replace("Classical_Prop.classic", "Cand.cheat"), 0).reason
    unsafe = ok.replace("relying on unsafe (co)fixpoints: <none>", "relying on unsafe (co)fixpoints:\n    PCheck.Cand.bad")
    assert not coqchk_verdict(unsafe, 0).accepted
    assert not coqchk_verdict(ok, 1).accepted and not coqchk_verdict("", 0).accepted
