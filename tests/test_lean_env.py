"""LeanEnv walks over recorded tactic sessions (the stand-in replays the real REPL's answers
and exits on any request that differs from the recording)."""
from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import lean_transcripts as T  # noqa: E402
from lean_fixtures import fake_env  # noqa: E402
from lean_env import paths  # noqa: E402
from lean_env.env import LeanEnv  # noqa: E402
from prover.env import EnvError, NewState, ProofFinished, TacticError, TacticTimeout  # noqa: E402
from prover.problems import Problem  # noqa: E402

pytestmark = pytest.mark.skipif(not T.TRANSCRIPTS.is_dir(), reason=f"{T.TRANSCRIPTS} not found")


def problem(statement: str, header: str = "", name: str = "t") -> Problem:
    return Problem(name=name, split="", backend="lean", header=header, statement=statement)


BRANCHING = problem("theorem complex_and (p q r : Prop) (h1 : p ∧ q) (h2 : q → r) : p ∧ r", name="complex_and")
BRANCHING_PROOF = ("apply And.intro", "exact h1.left", "apply h2", "exact h1.right")
README = problem("def f (x : Unit) : Nat")


def walk(env, prob, tactics):
    state = env.open(prob)
    outs = []
    for tac in tactics:
        out = env.apply(state, tac)
        outs.append(out)
        if isinstance(out, NewState):
            state = out.state
    return outs


def test_search_walk_reaches_recorded_proof():
    with fake_env("proof_branching") as env:
        root = env.open(BRANCHING)
        assert [h.names for h in root.goals[0].hyps] == [("p", "q", "r"), ("h1",), ("h2",)]
        assert root.goals[0].conclusion == "p ∧ r" and env.proof_of(root) == ()
        s1 = env.apply(root, "apply And.intro")
        assert isinstance(s1, NewState) and len(s1.state.goals) == 2
        assert [g.conclusion for g in s1.state.goals] == ["p", "r"]
        assert env.raw_goals(s1.state)[0].startswith("case left\n")
        s2 = env.apply(s1.state, "exact h1.left")
        s3 = env.apply(s2.state, "apply h2")
        assert s3.state.goals[0].conclusion == "q" and env.proof_of(s3.state) == BRANCHING_PROOF[:3]
        done = env.apply(s3.state, "exact h1.right")
        assert done == ProofFinished(BRANCHING_PROOF)


def test_any_order_and_refusals_never_reach_lean():
    """Mathlib/test/induction: extend the root, a child, then the root again; the recorded
    third tactic contains `sorry`, so the filter refuses it and the stand-in never sees it."""
    prob = problem("theorem foo (x : Nat) : x = x", header="import Mathlib")
    with fake_env("Mathlib/test/induction") as env:
        root = env.open(prob)
        assert root.goals[0].hyps[0].names == ("x",) and root.goals[0].hyps[0].type == "ℕ"
        a = env.apply(root, "induction x")
        assert [g.conclusion for g in a.state.goals] == ["0 = 0", "n✝ + 1 = n✝ + 1"]
        b = env.apply(a.state, "next => rfl")
        assert isinstance(b, NewState) and len(b.state.goals) == 1
        assert env.proof_of(b.state) == ("induction x", "next => rfl")
        c = env.apply(root, "induction x with\n| zero => sorry\n| succ x => sorry")
        assert isinstance(c, TacticError) and c.refused
        assert env.repl.generation == 1 and env.repl.alive


def test_errors_map_to_tactic_error():
    with fake_env("invalid_tactic") as env:
        [out] = walk(env, problem("theorem my_theorem (x : Nat) : x = x"), ["exact my_fake_premise"])
        assert out == TacticError("Unknown identifier `my_fake_premise`")
    with fake_env("unknown_tactic") as env:
        [out] = walk(env, problem("def f : Nat"), ["exat 42"])
        assert out == TacticError("Lean error:\n<input>:1:1: unknown tactic")
    with fake_env("Mathlib/test/20240209") as env:
        [out] = walk(env, problem("example : False"), ["simpa using show False by done"])
        assert isinstance(out, TacticError) and out.message.startswith("unsolved goals")
    with fake_env("Mathlib/test/exact", "--keyed") as env:  # the recording's second theorem
        [out] = walk(env, problem("theorem test : 3 = 7", header="import Mathlib"), ["exact?"])
        assert isinstance(out, TacticError) and "could not close the goal" in out.message


def test_a_library_search_is_stored_as_the_lemma_lean_found():
    """``exact?`` closes ``0 < 1``; Lean says ``Try this: exact Nat.one_pos`` (v4.33 adds the
    widget's ``[apply]``), and the proof is that tactic, not a second library search."""
    with fake_env("Mathlib/test/exact") as env:
        [out] = walk(env, problem("theorem test : 0 < 1", header="import Mathlib"), ["exact?"])
        assert out == ProofFinished(("exact Nat.one_pos",))


def test_try_this_takes_the_first_suggestion_the_cheat_filter_accepts():
    from lean_env.env import try_this
    from lean_env.protocol import Message

    def info(text):
        return Message("info", None, None, text)
    assert try_this("exact?", [info("Try this:\n  [apply] exact Nat.one_pos")]) == "exact Nat.one_pos"
    assert try_this("simp?", [info("Try these:\n• simp only [h]\n• simp")]) == "simp only [h]"
    assert try_this("exact?", [info("Try this: exact\n    foo\n    bar")]) == "exact foo bar"
    assert try_this("exact?", [info("Try this: sorry")]) is None          # refused: not a proof
    assert try_this("norm_num", [info("Try this: rfl")]) is None          # not a search tactic
    assert try_this("exact?", [Message("warning", None, None, "Try this: rfl")]) is None


def test_timeout_then_rebuild(tmp_path):
    with fake_env("readme", "--hang-at", "1", "--marker", str(tmp_path / "m")) as env:
        root = env.open(README)
        assert env.apply(root, "apply Int.natAbs", timeout=0.5) == TacticTimeout(0.5)
        again = env.apply(root, "apply Int.natAbs")   # fresh process: statement replayed
        assert isinstance(again, NewState) and again.state.goals[0].conclusion == "Int"
        assert env.apply(again.state, "exact -37") == ProofFinished(("apply Int.natAbs", "exact -37"))
        assert env.repl.generation == 2


def test_crash_then_rebuild_and_retry(tmp_path):
    with fake_env("proof_branching", "--crash-at", "3", "--marker", str(tmp_path / "m")) as env:
        outs = walk(env, BRANCHING, BRANCHING_PROOF)
        assert outs[-1] == ProofFinished(BRANCHING_PROOF)
        assert env.repl.generation == 2   # the retry replayed the statement and two tactics


def test_memory_recycle_replays_path():
    with fake_env("readme", "--allocate-mb", "64", memory_limit_mb=32) as env:
        outs = walk(env, README, ["apply Int.natAbs", "exact -37"])
        assert outs[-1] == ProofFinished(("apply Int.natAbs", "exact -37"))
        assert env.repl.generation == 3   # recycled before each step, path rebuilt each time


def test_statement_error_is_env_error():
    """have_by_sorry's first command is `<text> := by sorry` and fails with an error."""
    text = "theorem foo (x : Int) : x = x := by\n  have h : x = 1"
    with fake_env("have_by_sorry") as env, pytest.raises(EnvError, match="unsolved goals"):
        env.open(problem(text, name="foo"))


def test_unknown_state_and_no_lean(monkeypatch):
    monkeypatch.setattr(paths, "default_repl_command", lambda: None)
    env = LeanEnv()
    with pytest.raises(EnvError, match="make lean-setup"):
        env.open(README)
    with fake_env("readme") as env:
        root = env.open(README)
        from prover.env import State
        with pytest.raises(EnvError):
            env.apply(State(()), "rfl")
        assert isinstance(env.apply(root, "sorry"), TacticError)


class RecordedPolicy:
    """Proposes, at each state, the tactics the transcript applied to it (found by the goals
    Lean answered): the search has to choose and backtrack, and every request it makes has a
    recorded answer (a test double for the policy, never for Lean)."""

    name, default_k = "recorded", None

    def __init__(self, base: str, env):
        from prover.policy.base import Candidate
        self.Candidate, self.env = Candidate, env
        tr = T.load(base)
        goals_of = {}
        for req, ans in tr.paired:
            if "cmd" in req:
                for s in ans.get("sorries", []):
                    goals_of[s["proofState"]] = (s["goal"],)
            elif "proofState" in ans:
                goals_of[ans["proofState"]] = tuple(ans.get("goals", []))
        self.table = {}
        for req, _ in tr.paired:
            if "tactic" in req and req["proofState"] in goals_of:
                self.table.setdefault(goals_of[req["proofState"]], []).append(req["tactic"])

    def propose(self, states, k=None):
        # recorded order reversed (the stand-in must answer out of order), and the first
        # recorded tactic scored best (the search expands it first: at proof_step's root, the
        # dead end)
        return [[self.Candidate(t, -float(i)) for i, t in reversed(list(enumerate(ts)))]
                for ts in (self.table.get(tuple(self.env.raw_goals(st)), []) for st in states)]


def test_best_first_search_on_the_lean_env_finds_the_recorded_proof():
    """A real BestFirstSearch over LeanEnv and the keyed stand-in: at the root the recording
    has a dead end (`apply Int.natAbs`: ⊢ Int, nothing recorded after it) and the way on
    (`have t : Nat := 42`, then `exact t`); the policy offers the dead end first."""
    from lean_fixtures import fake_env as make
    from prover.search import BestFirstSearch, SearchConfig
    with make("proof_step", "--keyed") as env:
        policy = RecordedPolicy("proof_step", env)
        res = BestFirstSearch(env, policy, SearchConfig(max_expansions=8, tactic_timeout=20)).run(
            problem("def f : Nat", name="f"))
    assert res.outcome == "proved" and res.proof == ["have t : Nat := 42", "exact t"]
    tried = [(e.src == res.root, e.tactic, e.outcome.value) for e in res.edges]
    assert tried[:2] == [(True, "have t : Nat := 42", "new"), (True, "apply Int.natAbs", "new")]  # out of order
    dead = next(n for n in res.nodes.values() if n.tactic == "apply Int.natAbs")
    assert dead.expanded and dead.status.value == "failed"   # expanded first, found dead, left
    assert res.expansions == 3
