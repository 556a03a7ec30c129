"""Property-based tests of the cheat filters (issue #16.2), with hypothesis.

Sentences are generated from the tactic grammar (tactics, combinators, goal selectors)
mixed with dangerous vernacular, attribute and comment tokens. The invariant, with the
fresh-process checker as the oracle: whatever the filter lets through and the environment
reports as a finished proof is accepted by ``prover check``. On a false goal nothing may
ever finish; on a true goal with an existential (room for shelved goals and evars) a finish
must check. Coq runs for real; Lean's filter is checked on its own (no live Lean here).
"""
from __future__ import annotations

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is not installed (make setup)")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

from coq_env.cheat import CheatError, check_tactic  # noqa: E402
from coq_env.problems import parse_file  # noqa: E402
from prover.check import check_proof  # noqa: E402
from prover.env import NewState, ProofFinished  # noqa: E402
from tests.conftest import write  # noqa: E402

TACTICS = ["lia", "auto", "trivial", "reflexivity", "intros", "split", "exact I", "constructor", "easy",
           "assumption", "exfalso", "simpl", "discriminate", "congruence", "eexists", "exact 0", "apply False_ind",
           "shelve", "unshelve eexists", "instantiate (1 := 0)", "exact _", "refine ?[x]", "evar (n : nat)",
           "abstract trivial", "clear", "fix f 1", "cofix c", "idtac", "fail", "eauto", "tauto", "firstorder",
           "change_no_check False", "exact_no_check I", "vm_cast_no_check I", "native_cast_no_check I",
           "give_up", "admit", "exact (fun x => x)", "apply proof_admitted", "exact Logic.I", "now trivial",
           "solve [auto]", "first [fail | idtac]", "unshelve (refine _)", "Unshelve", "all: shelve",
           # honest closers of the existential goal, so that finishes happen and are checked
           "exists 0; auto", "eexists; split; auto", "repeat econstructor", "econstructor; eauto",
           "eexists; shelve", "eexists; split; [shelve | exact I]", "exists _; split; auto"]
DANGER = ["Admitted", "Abort", "Axiom cheat : False", "exact cheat", "Unset Guard Checking", "Qed", "Defined",
          "#[bypass_check(guard)]", "#[local]", "Local Axiom a : False", "Proof", "(* c *)", '"s"', "Set Printing All",
          "Hint Resolve I : core", "Ltac t := idtac", "Undo", "Restart", "Back 2", "Require Import Classical",
          "Import", "Print Assumptions", "Fail", "Succeed", "Time", "Timeout 1", "Redirect \"f\"", "Load f",
          "Declare ML Module \"m\"", "Obligation 1", "Program", "Polymorphic", "Existing Instance I",
          "Typeclasses eauto := 1", "Parameter p : False", "Hypothesis h : False", "Variable v : False",
          "Context (c : False)", "Conjecture c : False", "Guarded", "Opaque I", "Strategy 1 [I]",
          "Arguments I", "Global", "Section S", "End S", "Module M", "Notation x := I", "Fixpoint f := I",
          "Definition d := I", "Lemma l : False", "Goal False", "{", "}", "-", "+", "*", ".", "..", "...",
          "all:", "2:", "!:", "par:", "[x]:", "Show", "Check", "Eval", "Compute", "Search I"]
SEPARATORS = [" ", "; ", ". ", " || ", " ;[ ", " ] ", "(", ")", "\n", " by ", " in ", " as ", " := "]

piece = st.one_of(st.sampled_from(TACTICS), st.sampled_from(DANGER))
sentence = st.builds(lambda ps, ss: "".join(p + s for p, s in zip(ps, ss)).strip(),
                     st.lists(piece, min_size=1, max_size=4), st.lists(st.sampled_from(SEPARATORS), min_size=4, max_size=4))
SETTINGS = settings(max_examples=80, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def problems(tmp_path_factory, coq_available):
    d = tmp_path_factory.mktemp("props")
    false_goal = parse_file(write(d / "f.v", """
        Theorem f : forall n : nat, n = S n.
        Proof.
        Admitted.
        """))
    evars = parse_file(write(d / "e.v", """
        Theorem e : exists n : nat, n = n /\\ True.
        Proof.
        Admitted.
        """))
    return false_goal, evars


@pytest.fixture(scope="module")
def coq(coq_available):
    from prover import backends
    env = backends.get("coq").make_env(timeout=2)
    yield env
    env.close()


def _run(env, problem, tactics):
    """Apply the tactics in turn from the root (skipping refused ones); the finished proof, if any."""
    state = env.open(problem)
    for t in tactics:
        try:
            check_tactic(t)
        except CheatError:
            continue  # the filter's job done
        out = env.apply(state, t)
        if isinstance(out, ProofFinished):
            return list(out.proof)
        if isinstance(out, NewState):
            state = out.state
    return None


@SETTINGS
@given(st.lists(sentence, min_size=1, max_size=3))
def test_nothing_finishes_a_false_goal(coq, problems, tactics):
    assert _run(coq, problems[0], tactics) is None, f"a false goal finished with {tactics!r}"


@SETTINGS
@given(st.lists(sentence, min_size=1, max_size=3))
def test_every_finish_is_accepted_by_the_checker(coq, problems, tactics):
    proof = _run(coq, problems[1], tactics)
    if proof is not None:
        v = check_proof(problems[1], proof)
        assert v.accepted, f"the environment finished {proof!r} but the checker says: {v.reason}"


@settings(max_examples=300, deadline=None, derandomize=True)
@given(sentence)
def test_a_passed_sentence_is_one_tactic_without_forbidden_words(text):
    try:
        t = check_tactic(text)
    except CheatError:
        return
    from coq_env.cheat import FORBIDDEN_WORDS, _WORD
    assert t.endswith(".") and '"' not in t and "#[" not in t.replace(" ", "")
    assert not (set(_WORD.findall(t)) & FORBIDDEN_WORDS)
    assert check_tactic(t) == t  # idempotent


LEAN_TACTICS = ["simp", "norm_num", "linarith", "nlinarith [sq_nonneg x]", "exact h", "rfl", "omega", "decide",
                "intro x", "constructor", "aesop", "exact?", "sorry", "admit", "native_decide", "exact sorryAx _",
                "set_option debug.skipKernelTC true in rfl", "#eval 1", "#exit", "macro \"m\" : tactic => `(rfl)",
                "axiom a : False", "unsafe rfl", "implemented_by", "run_tac", "elab", "by exact h", "all_goals simp",
                "· simp", "<;> simp", "exact (by sorry)", "cheat", "Lean.Elab.admitGoal", "@[implemented_by x]"]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(LEAN_TACTICS), min_size=1, max_size=3),
       st.lists(st.sampled_from([" ", "; ", "\n", " <;> ", " in "]), min_size=3, max_size=3))
def test_lean_filter_never_passes_a_closer_or_meta_code(parts, seps):
    from lean_env import cheat as L
    text = "".join(p + s for p, s in zip(parts, seps)).strip()
    try:
        t = L.check_tactic(text)
    except L.CheatError:
        return
    words = {w for tok in L.tokenize(t) if tok.kind == "ident" for w in L._components(tok.text)}
    assert not (words & (L.CLOSERS | L.COMPILER_TRUST | L.META)), t
    assert not any(tok.kind == "hashcmd" for tok in L.tokenize(t)), t
