"""The REPL driver against the REPL's own recorded transcripts, replayed by a stand-in."""
from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import lean_transcripts as T  # noqa: E402
from lean_fixtures import fake_repl  # noqa: E402
from lean_env.protocol import (CommandResponse, ErrorResponse, Message, Pos, ReplCrashed,  # noqa: E402
                               ReplNotInstalled, ReplTimeout, Sorry, TacticResponse, parse_answer)
from lean_env.repl import LeanRepl  # noqa: E402
from lean_env.replay import Replayer  # noqa: E402
from prover.process import rss_mb  # noqa: E402

pytestmark = pytest.mark.skipif(not T.TRANSCRIPTS.is_dir(), reason=f"{T.TRANSCRIPTS} not found")

ALL = T.all_names() if T.TRANSCRIPTS.is_dir() else []
WITH_ANSWERS = [n for n in ALL if T.load(n).answers is not None]
# Requests recorded without answers in the data (the REPL's test suite skips them).
NO_ANSWERS = {"Mathlib/test/H20231214", "pickle_scoped_notation", "pickle_scoped_notation_2"}


def replay(name: str, *extra: str):
    tr = T.load(name)
    out = []
    with fake_repl(name, *extra) as repl:
        for req, (raw, _) in zip(tr.requests, tr.answers):
            out.append((req, raw, repl.send(req)))
    return out


def test_every_transcript_is_covered():
    assert len(ALL) == 64
    assert set(ALL) - set(WITH_ANSWERS) == NO_ANSWERS
    for name in WITH_ANSWERS:
        tr = T.load(name)
        assert len(tr.requests) == len(tr.answers), name


@pytest.mark.parametrize("name", WITH_ANSWERS)
def test_replay_parses_and_round_trips(name):
    for req, raw, ans in replay(name):
        assert ans.to_json() == raw, (name, req)
        if isinstance(ans, ErrorResponse):
            assert set(raw) == {"message"}
            continue
        assert ans.extra == {}, f"unknown fields in {name}: {ans.extra}"
        for m in ans.messages:
            assert isinstance(m, Message) and m.extra == {}
            assert m.severity in ("error", "warning", "info")
            assert isinstance(m.pos, Pos) and isinstance(m.end_pos, Pos)
            assert isinstance(m.data, str)
        for s in ans.sorries:
            assert isinstance(s, Sorry) and s.extra == {} and isinstance(s.goal, str)
        if isinstance(ans, TacticResponse):
            assert "tactic" in req or "pickleTo" in req or "unpickleProofStateFrom" in req
            assert all(isinstance(g, str) for g in ans.goals)
            assert ans.proof_status is None or ans.proof_status.split(":")[0] in (
                "Completed", "Incomplete", "Error", "Not verified")
        else:
            assert isinstance(ans, CommandResponse) and isinstance(ans.env, int)


def test_proof_branching_values():
    (_, _, cmd), (_, _, s1), (_, _, s2), (_, _, s3), (_, _, s4) = replay("proof_branching")
    assert cmd.env == 0 and cmd.sorries[0].proof_state == 0
    assert cmd.sorries[0].goal == "p q r : Prop\nh1 : p ∧ q\nh2 : q → r\n⊢ p ∧ r"
    assert cmd.sorries[0].pos == Pos(1, 75) and cmd.sorries[0].end_pos == Pos(1, 80)
    # the wording differs between the recorded REPL versions (v4.33: `sorry`, v4.24.0: 'sorry')
    assert cmd.messages[0].severity == "warning"
    assert cmd.messages[0].data in ("declaration uses `sorry`", "declaration uses 'sorry'")
    assert cmd.messages[0].pos == Pos(1, 8) and cmd.errors == ()
    assert s1.proof_state == 1 and s1.proof_status == "Incomplete: open goals remain"
    assert s1.goals == ("case left\np q r : Prop\nh1 : p ∧ q\nh2 : q → r\n⊢ p",
                        "case right\np q r : Prop\nh1 : p ∧ q\nh2 : q → r\n⊢ r")
    assert s3.goals == ("case right\np q r : Prop\nh1 : p ∧ q\nh2 : q → r\n⊢ q",)
    assert s4.proof_state == 4 and s4.goals == () and s4.proof_status == "Completed" and s4.completed
    assert not s3.completed


def test_error_shapes():
    _, (_, _, bad) = replay("invalid_tactic")
    assert isinstance(bad, TacticResponse) and bad.goals == () and not bad.completed
    assert bad.proof_status == "Incomplete: contains sorry"
    assert bad.errors[0].data == "Unknown identifier `my_fake_premise`" and bad.errors[0].pos == Pos(0, 0)
    [(_, _, unk)] = replay("unknown_environment")
    assert unk == ErrorResponse("Unknown environment.")
    _, (_, _, tac) = replay("unknown_tactic")
    assert tac == ErrorResponse("Lean error:\n<input>:1:1: unknown tactic")
    _, (_, _, two) = replay("incomplete")
    assert [m.end_pos for m in two.errors] == [Pos(3, 20), Pos(3, 20)]
    assert two.errors[1].pos == Pos(1, 26)


def test_tactic_sorries_traces_and_tactics():
    _, (_, _, s) = replay("tactic_mode_sorry")
    assert s.sorries == (Sorry("⊢ Nat", 1),) and s.sorries[0].pos is None
    steps = replay("name_generator")
    assert steps[1][2].sorries[0].goal == "x : Int\nh0 : x > 0\n⊢ x > 0"
    assert steps[2][2].proof_status == "Incomplete: contains metavariable(s)"
    assert steps[4][2].traces[0].startswith("[Meta.Tactic.simp.rewrite] of_eq_true")
    (_, _, at), (_, _, st) = replay("all_tactics-20250622")
    assert at.tactics[0].tactic == "exact hp" and at.tactics[0].used_constants == ()
    assert at.tactics[0].goals == "P : Prop\nhp : P\n⊢ P" and st.completed
    [(_, raw, it)] = replay("infotree")
    assert it.infotree == raw["infotree"] and it.infotree[0]["node"]["stx"]["range"]["synthetic"] is False


def test_mathlib_transcript_values():
    steps = replay("Mathlib/test/exact")
    assert steps[0][2] == CommandResponse(env=0)
    done = steps[2][2]
    assert done.completed and done.messages[0].severity == "info"
    assert done.messages[0].data in ("Try this:\n  [apply] exact Nat.one_pos",  # v4.33
                                     "Try this:\n  exact Nat.one_pos")           # v4.24.0
    assert steps[4][2] == ErrorResponse(
        "Lean error:\n`exact?` could not close the goal. Try `apply?` to see partial suggestions.")
    on_goal = replay("Mathlib/test/on_goal")[2][2]
    assert [s.proof_state for s in on_goal.sorries] == [1, 2] and on_goal.proof_state == 3
    assert on_goal.goals[1].startswith("case neg\n")


def test_parse_answer_rejects_unknown_shapes():
    from lean_env.protocol import ProtocolError
    with pytest.raises(ProtocolError):
        parse_answer({"foo": 1})
    with pytest.raises(ProtocolError):
        parse_answer({"env": 0, "messages": [{"severity": "error"}]})
    kept = parse_answer({"env": 3, "newField": [1]})
    assert kept.extra == {"newField": [1]} and kept.to_json() == {"env": 3, "newField": [1]}


def test_noise_lines_are_skipped():
    tr = T.load("readme")
    with fake_repl("readme", "--noise") as repl:
        for req, (raw, _) in zip(tr.requests, tr.answers):
            assert repl.send(req).to_json() == raw
        assert repl.noise and repl.noise[0].startswith("Processing incremental state")


def test_timeout_kills_and_restarts(tmp_path):
    tr = T.load("readme")
    repl = fake_repl("readme", "--hang-at", "1", "--marker", str(tmp_path / "m"), timeout=20)
    try:
        repl.send(tr.requests[0])
        pid = repl.pid
        with pytest.raises(ReplTimeout) as e:
            repl.send(tr.requests[1], timeout=0.5)
        assert e.value.seconds == 0.5 and not repl.alive
        assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/status").read().find("zombie") >= 0
        assert repl.send(tr.requests[0]).to_json() == tr.answers[0][0]
        assert repl.generation == 2 and repl.restarts == 1
    finally:
        repl.close()


def test_crash_is_reported_with_stderr(tmp_path):
    tr = T.load("readme")
    repl = fake_repl("readme", "--crash-at", "1", "--marker", str(tmp_path / "m"))
    try:
        repl.send(tr.requests[0])
        with pytest.raises(ReplCrashed) as e:
            repl.send(tr.requests[1])
        assert "simulated crash" in str(e.value) and "134" in str(e.value)
        assert repl.send(tr.requests[0]).env == 0 and repl.generation == 2
    finally:
        repl.close()


def test_request_mismatch_is_a_crash():
    with fake_repl("readme") as repl, pytest.raises(ReplCrashed, match="differs"):
        repl.command("def g : Nat := 1")


def test_missing_binary():
    with pytest.raises(ReplNotInstalled, match="make lean-setup"):
        LeanRepl(["/nonexistent/lake", "env", "repl"]).start()


def test_rss_and_memory_limit():
    assert rss_mb(os.getpid(), children=True) > 1000 / 1024
    with fake_repl("readme", "--allocate-mb", "64", memory_limit_mb=32) as repl:
        repl.send(T.load("readme").requests[0])
        assert repl.rss_mb() > 60 and repl.over_memory_limit()
    with fake_repl("readme") as repl:
        repl.send(T.load("readme").requests[0])
        assert not repl.over_memory_limit()


def test_replayer_imports_header_once():
    """Mathlib/test/exact: one `import Mathlib`, two statements in env 0 (the stand-in
    exits on any request that differs from the recording, e.g. a second import)."""
    with fake_repl("Mathlib/test/exact") as repl:
        rp = Replayer(repl)
        root = rp.root("import Mathlib", "theorem test : 0 < 1")
        assert (root.proof_state, root.goal) == (0, "⊢ 0 < 1")
        ans = repl.tactic("exact?", rp.proof_state("import Mathlib", "theorem test : 0 < 1", ()))
        assert ans.completed
        assert rp.root("import Mathlib", "theorem test : 3 = 7").proof_state == 2
        assert rp.header_env("import Mathlib") == 0


def test_typed_pickle_helpers():
    """pickle_environment and pickle_proof_state_env, sent through the typed helpers."""
    with fake_repl("pickle_environment") as repl:
        assert repl.command("def f := 42") == CommandResponse(env=0)
        assert repl.pickle_env("test/a.olean", 0) == CommandResponse(env=0)
        assert repl.unpickle_env("test/a.olean") == CommandResponse(env=1)
        assert repl.command("example : f = 42 := by rfl", 1) == CommandResponse(env=2)
    with fake_repl("pickle_proof_state_env") as repl:
        assert repl.command("import Lean").env == 0
        assert repl.command("def f : Nat := by sorry", 0).sorries[0].proof_state == 0
        assert repl.pickle_proof_state("test/c.olean", 0).goals == ("⊢ Nat",)
        assert repl.unpickle_proof_state("test/c.olean", env=0).proof_state == 2
        assert repl.tactic("have t : Nat := 42", 2).goals == ("t : Nat\n⊢ Nat",)
        assert repl.pickle_proof_state("test/d.olean", 3).proof_state == 4
        assert repl.unpickle_proof_state("test/d.olean", env=0).proof_state == 5
        assert repl.tactic("exact t", 5).completed
