"""The Coq environment against a real coqtop: outcomes, timeouts, crashes, navigation."""
from __future__ import annotations

import os
import signal

import pytest

from coq_env.problems import load_dir, parse_file
from prover.env import EnvError, NewState, ProofFinished, TacticError, TacticTimeout


def test_proof_found_and_accepted(env, problem_dir):
    from prover.check import check_proof
    p = parse_file(problem_dir / "real_lin.v")
    root = env.open(p)
    assert [h.names for h in root.goals[0].hyps] == [("x", "y"), ("h0",), ("h1",)]
    assert root.goals[0].conclusion == "x = 6"
    out = env.apply(root, "lra")
    assert isinstance(out, ProofFinished) and out.proof == ("lra.",)
    v = check_proof(p, list(out.proof))
    assert v.accepted, v.reason


def test_failing_tactic_gives_coq_error(env, problem_dir):
    root = env.open(parse_file(problem_dir / "add_zero.v"))
    out = env.apply(root, "apply no_such_lemma")
    assert isinstance(out, TacticError) and not out.refused
    assert "no_such_lemma" in out.message and "not found" in out.message
    # the state is still usable after an error
    assert isinstance(env.apply(root, "intros"), NewState)


def test_states_are_structured_and_deduplicated(env, problem_dir):
    root = env.open(parse_file(problem_dir / "two_goals.v"))
    out = env.apply(root, "split")
    assert isinstance(out, NewState)
    g1, g2 = out.state.goals
    assert g1.conclusion == "a + 0 = b" and g2.conclusion == "b = a"
    # every goal carries its hypotheses, not only the first
    assert [h.type for h in g2.hyps] == ["nat", "a = b"]
    # the same goals reached by another path are the same state
    again = env.apply(root, "constructor")
    assert isinstance(again, NewState) and again.state.id == out.state.id


def test_jump_between_distant_states(env, problem_dir):
    root = env.open(parse_file(problem_dir / "two_goals.v"))
    a = env.apply(root, "split").state            # branch A
    b = env.apply(root, "subst").state            # branch B
    a2 = env.apply(a, "rewrite Nat.add_0_r").state
    b2 = env.apply(b, "split").state
    # extend in an order that forces BackTo and replay across branches
    a3 = env.apply(a2, "exact h")
    assert isinstance(a3, NewState)
    assert isinstance(env.apply(b2, "all: auto"), ProofFinished)
    assert isinstance(env.apply(a3.state, "exact h"), TacticError)
    fin = env.apply(a3.state, "symmetry; assumption")
    assert isinstance(fin, ProofFinished)
    assert fin.proof == ("split.", "rewrite Nat.add_0_r.", "exact h.", "symmetry; assumption.")


def test_looping_tactic_times_out_and_process_stays_usable(env, problem_dir):
    root = env.open(parse_file(problem_dir / "add_zero.v"))
    pid = env.coq.pid
    env.grace = 600.0  # only Coq's own 1 s alarm may stop the loop, however loaded the machine
    out = env.apply(root, "let rec f x := f x in f 0", timeout=1)
    assert out == TacticTimeout(1)
    # the same process answers next: an alarm that rang on time is believed, nothing restarted
    assert env.coq.pid == pid and env.restarts == 0 and env.broken_timers == 0
    assert isinstance(env.apply(root, "intros; lia"), ProofFinished)


def test_hang_past_deadline_kills_and_restarts(env, problem_dir, monkeypatch):
    root = env.open(parse_file(problem_dir / "add_zero.v"))
    s = env.apply(root, "intros").state
    pid = env.coq.pid
    # Disable Coq's own Timeout so only the outside deadline can stop the loop.
    monkeypatch.setattr(type(env), "_timed", staticmethod(lambda t, secs: t))
    env.grace = 0.5
    out = env.apply(s, "let rec f x := f x in f 0", timeout=1)
    assert out == TacticTimeout(1)
    assert env.coq.pid != pid and env.restarts == 1
    monkeypatch.undo()
    assert isinstance(env.apply(s, "lia"), ProofFinished)


def _frozen_clock(monkeypatch):
    """The environment's clock stands still: every Timeout! comes back after 0 s, i.e. far
    sooner than its limit (how soon a real alarm comes back depends on the machine's load)."""
    import types
    from coq_env import env as coq_env_module
    monkeypatch.setattr(coq_env_module, "time", types.SimpleNamespace(monotonic=lambda: 0.0))


def test_an_early_timeout_is_a_broken_alarm_the_process_is_restarted(env, problem_dir, monkeypatch):
    """Coq's Timeout! far sooner than the limit it was given (a broken alarm, as a coqtop once
    gave for every lia/lra after a sauto timeout) restarts the process and runs the tactic
    again: the tactic's real answer comes back, and nothing is recorded as a timeout."""
    from coq_env.env import CoqEnv
    root = env.open(parse_file(problem_dir / "add_zero.v"))
    pid, first = env.coq.pid, []
    _frozen_clock(monkeypatch)

    def broken_once(t, secs):  # the first try runs under a real 1 s alarm inside a 8 s limit
        if not first:
            first.append(t)
            return "Timeout 1 (let rec f x := f x in f 0)."
        return timed(t, secs)

    timed = CoqEnv._timed
    monkeypatch.setattr(type(env), "_timed", staticmethod(broken_once))
    out = env.apply(root, "intros; lia", timeout=8)
    assert isinstance(out, ProofFinished) and out.proof == ("intros; lia.",)
    assert env.broken_timers == 1 and env.restarts == 1 and env.coq.pid != pid


def test_an_early_timeout_twice_is_believed(env, problem_dir, monkeypatch):
    """A fresh process that again times out early gives the tactic's timeout (no endless retries)."""
    root = env.open(parse_file(problem_dir / "add_zero.v"))
    _frozen_clock(monkeypatch)
    monkeypatch.setattr(type(env), "_timed", staticmethod(lambda t, secs: f"Timeout 1 {t}"))
    out = env.apply(root, "let rec f x := f x in f 0", timeout=8)
    assert out == TacticTimeout(8)
    assert env.broken_timers == 1 and env.restarts == 1
    monkeypatch.undo()
    assert isinstance(env.apply(root, "intros; lia"), ProofFinished)


def test_killed_process_is_recovered(env, problem_dir):
    root = env.open(parse_file(problem_dir / "real_lin.v"))
    s = env.apply(root, "assert (x = y + 2) by lra").state
    os.kill(env.coq.pid, signal.SIGKILL)
    out = env.apply(s, "lra")
    assert isinstance(out, ProofFinished)
    assert out.proof == ("assert (x = y + 2) by lra.", "lra.")
    assert env.restarts == 1


@pytest.mark.parametrize("recycle_mb", [600, 0])
def test_memory_limit_blowup_is_an_error_not_a_crash(coq_available, problem_dir, recycle_mb):
    """A tactic that needs more memory than the limit (10^8 in unary, some GB) gets Coq's
    "Out of memory." as its error. The process, whose heap that left spent (a ``lia`` in it
    answers "Out of memory." too), is replaced before the next tactic, which works: whether
    or not it is over its recycling size (600 MB, below the limit as the defaults have it; 0:
    no recycling, where a spent process used to answer "Out of memory." to every tactic)."""
    from coq_env.env import CoqEnv
    with CoqEnv(timeout=300, mem_limit_mb=1200, recycle_mb=recycle_mb) as env:
        root = env.open(parse_file(problem_dir / "add_zero.v"))
        pid = env.coq.pid
        out = env.apply(root, "let x := eval vm_compute in (Nat.pow 10 8) in idtac")
        assert out == TacticError("Out of memory."), out
        assert env.coq.pid == pid and env.restarts == 0  # an answer, not a crash
        assert isinstance(env.apply(root, "intros; lia"), ProofFinished)
        assert env.coq.pid != pid and env.restarts == 1


def test_unknown_state_is_an_env_error(env, problem_dir):
    from prover.env import Goal, State
    env.open(parse_file(problem_dir / "add_zero.v"))
    with pytest.raises(EnvError):
        env.apply(State((Goal((), "False"),)), "intros")


def test_non_elaborating_problem_is_reported(env, tmp_path):
    from tests.conftest import write
    p = parse_file(write(tmp_path / "bad.v", "Theorem bad : undefined_thing = 1.\nProof.\nAdmitted.\n"))
    with pytest.raises(EnvError, match="bad: does not elaborate: .*undefined_thing"):
        env.open(p)
    # the environment goes on with the next problem
    good = parse_file(write(tmp_path / "good.v", "Theorem good : 1 = 1.\nProof.\nAdmitted.\n"))
    assert isinstance(env.apply(env.open(good), "reflexivity"), ProofFinished)


def test_a_statement_that_never_ends_is_refused_not_sent(env, tmp_path):
    """``Lemma cj : 0..`` (a model-written conjecture) never ends a sentence: sent to coqtop it
    waited for more input until the load deadline. It is refused first, in one line."""
    from prover.problems import Problem
    env.load_timeout = 20.0  # were it sent, the error would be a hang, not "malformed statement"
    for bad in ("Lemma cj : 0..", "Lemma cj : 3 /\\ 0 / 7 clear H)..", "Lemma cj : 1 = 1. Lemma b : 2 = 2."):
        with pytest.raises(EnvError, match="cj: (malformed statement|the statement must be one sentence)"):
            env.open(Problem(name="cj", split="conj", backend="coq", header="", statement=bad))
    from coq_env.backend import CoqBackend
    from prover.env import Goal
    assert CoqBackend().statement(Goal((), "0."), "cj") is None  # never stated in the first place
    assert CoqBackend().statement(Goal((), "1 = 1. Lemma b : True"), "cj") is None
    assert CoqBackend().statement(Goal((), "1 = 1"), "cj") == "Lemma cj : 1 = 1."
    good = Problem(name="ok", split="conj", backend="coq", header="", statement="Lemma ok : 1 = 1.")
    assert isinstance(env.apply(env.open(good), "reflexivity"), ProofFinished)


def test_prelude_does_not_shadow_statement_names(env, tmp_path):
    """`Require Import Nat` makes `sqrt` Nat.sqrt; the tactic prelude must not change that."""
    from tests.conftest import write
    from coq_env.env import CoqEnv
    p = parse_file(write(tmp_path / "sq.v", """
        Require Import Arith.
        Require Import Nat.
        Theorem sq : sqrt 16 = 4.
        Proof.
        Admitted.
        """))
    with_prelude = env.open(p)
    with CoqEnv(prelude="") as bare:
        without = bare.open(p)
    assert with_prelude.id == without.id
    assert isinstance(env.apply(with_prelude, "reflexivity"), ProofFinished)


def test_prelude_lets_lia_reason_about_nat_mod_div_and_pow(env, tmp_path):
    """`ZifyNat` in the prelude: `lia` sees nat's `mod`, `/` and `^` (without it: "Cannot find
    witness"), and the proof it finds is accepted by a fresh `prover check` process."""
    from tests.conftest import write
    from coq_env.env import CoqEnv
    from prover.check import check_proof
    p = parse_file(write(tmp_path / "modn.v", """
        Require Import Nat.
        Theorem modn : forall n : nat, n mod 5 = 3 -> (2 * n) mod 5 = 1 /\\ 3 ^ 5 / 10 = 24.
        Proof.
        Admitted.
        """))
    out = env.apply(env.open(p), "intros; lia")
    assert isinstance(out, ProofFinished)
    v = check_proof(p, list(out.proof))
    assert v.accepted, v.reason
    with CoqEnv(prelude="Require Import Lia.") as old:
        assert isinstance(old.apply(old.open(p), "intros; lia"), TacticError)


def test_a_proof_file_with_the_earlier_prelude_still_checks(tmp_path):
    from coq_env.check import check_shape
    from coq_env.env import LEGACY_PRELUDES
    from tests.conftest import write
    p = parse_file(write(tmp_path / "ad.v", "Theorem ad : 1 + 1 = 2.\nProof.\nAdmitted.\n"))
    for prelude in LEGACY_PRELUDES:
        assert check_shape(f"{prelude}\nTheorem ad : 1 + 1 = 2.\nProof.\n  lia.\nQed.\n", p) is None
    assert check_shape("Require Import Lia Lra.\nTheorem ad : 1 + 1 = 2.\nProof.\n  lia.\nQed.\n", p)


def test_prelude_keeps_a_problems_own_definitions(env, tmp_path):
    """A problem may define names the tactic libraries also export (here `condition`,
    as Ring_polynom does): the statement must keep meaning the problem's own."""
    from tests.conftest import write
    p = parse_file(write(tmp_path / "cond.v", """
        Require Import Reals.
        Open Scope R_scope.
        Definition condition (x : R) : Prop := x = 1.
        Theorem cond : condition 1.
        Proof.
        Admitted.
        """))
    root = env.open(p)
    assert root.goals[0].conclusion == "condition 1"
    assert isinstance(env.apply(root, "unfold condition; reflexivity"), ProofFinished)


def _with_and_without_prelude(problems):
    """Each problem opened without and with the prelude: the names whose root states differ,
    and the names that do not elaborate, without and with it."""
    from coq_env.env import CoqEnv
    differ, failed = [], {"bare": [], "prelude": []}
    with CoqEnv(prelude="") as bare, CoqEnv() as with_p:
        for p in problems:
            ids = {}
            for key, env in (("bare", bare), ("prelude", with_p)):
                try:
                    ids[key] = env.open(p).id
                except EnvError:
                    failed[key].append(p.name)
            if len(ids) == 2 and ids["bare"] != ids["prelude"]:
                differ.append(p.name)
    return differ, failed


def test_minif2f_sample_elaborates_identically(minif2f_coq, coq_available):
    problems = [p for p in load_dir(minif2f_coq) if "Coquelicot" not in p.header][::40]
    assert len(problems) == 12
    # all twelve elaborate both ways (none is skipped), to the same root state
    assert _with_and_without_prelude(problems) == ([], {"bare": [], "prelude": []})


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("PROVER_FULL"), reason="full miniF2F pass: make test-full")
def test_all_minif2f_elaborate_identically_and_477_load(minif2f_coq, coq_available):
    problems = load_dir(minif2f_coq)
    differ, failed = _with_and_without_prelude(problems)
    assert differ == [] and failed["prelude"] == failed["bare"]  # the prelude breaks no problem
    assert len(problems) - len(failed["prelude"]) == 477


def test_shelved_goals_parse_and_the_proof_goes_on(env, tmp_path):
    """`eexists` shelves an evar: Coq's header becomes "1 focused goal (shelved: 1)". The
    state is parsed like any other (it once broke the whole search attempt), and the proof
    goes on from it."""
    from tests.conftest import write
    from prover.env import NewState
    p = parse_file(write(tmp_path / "ex.v", "Theorem ex : exists n : nat, n + 1 = 3 /\\ n = 2.\nProof.\nAdmitted.\n"))
    root = env.open(p)
    out = env.apply(root, "eexists.")
    assert isinstance(out, NewState), out
    [goal] = out.state.goals
    assert goal.conclusion.startswith("?") and goal.hyps == ()
    out = env.apply(out.state, "split.")
    assert isinstance(out, NewState) and len(out.state.goals) == 2
    out = env.apply(out.state, "2: reflexivity.")  # instantiates the evar: n := 2
    assert isinstance(out, NewState) and [g.conclusion for g in out.state.goals] == ["2 + 1 = 3"]
    assert isinstance(env.apply(out.state, "reflexivity."), ProofFinished)


def test_an_enormous_goal_display_is_clipped_and_the_search_goes_on(env, tmp_path):
    """A hypothesis holding a 5,000-element list: Coq's printing depth (set by the
    environment) clips the display, so the state stays small and the next tactic works."""
    from tests.conftest import write
    p = parse_file(write(tmp_path / "big.v", "Require Import List.\nTheorem big : True.\nProof.\nAdmitted.\n"))
    root = env.open(p)
    out = env.apply(root, "assert (H : length (repeat 0 5000) = 5000) by apply repeat_length; "
                          "cbv [repeat] in H", timeout=30)
    assert isinstance(out, NewState)
    assert len(out.state.text()) < 50_000 and "..." in out.state.text()
    assert isinstance(env.apply(out.state, "exact I"), ProofFinished)
