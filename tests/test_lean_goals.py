"""Goal parsing on every goal Lean printed in the recorded transcripts."""
from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import lean_transcripts as T  # noqa: E402
from lean_env.goals import GoalParseError, lean_text, parse_goal, parse_goal_tagged, parse_goals, split_goals  # noqa: E402
from prover.env import Goal, Hyp  # noqa: E402


def recorded_goal_texts() -> list[str]:
    out = []
    for name in T.all_names():
        for raw, _ in T.load(name).answers or []:
            out.extend(raw.get("goals") or [])
            out.extend(s["goal"] for s in raw.get("sorries") or [])
            for m in raw.get("messages") or []:
                if m["data"].startswith("unsolved goals\n"):
                    out.extend(split_goals(m["data"][len("unsolved goals\n"):]))
    return out


@pytest.mark.skipif(not T.TRANSCRIPTS.is_dir(), reason="transcripts not found")
def test_every_recorded_goal_parses():
    texts = recorded_goal_texts()
    assert len(texts) > 80
    for text in texts:
        tag, goal = parse_goal_tagged(text)
        assert lean_text(goal, tag) == text      # no line breaks in the recordings: exact round trip
        assert goal.text() == text               # the prompt is Lean's own layout, case tag included


def test_case_tags_and_shared_names():
    tag, g = parse_goal_tagged("case succ\nn✝ : ℕ\na✝ : n✝ = n✝\n⊢ n✝ + 1 = n✝ + 1")
    assert tag == "succ"
    assert g == Goal((Hyp(("n✝",), "ℕ"), Hyp(("a✝",), "n✝ = n✝")), "n✝ + 1 = n✝ + 1", case="succ", style="lean")
    assert g.text().startswith("case succ\n")
    g = parse_goal("x : ℝ\nh0 : |x| > 1\nh1 h2 : x = x\nh3 : ¬x < 0\n⊢ x < 0 ∨ 2 * x > 2")
    assert g.hyps[2] == Hyp(("h1", "h2"), "x = x") and g.conclusion == "x < 0 ∨ 2 * x > 2"
    assert g.text().split("\n")[2] == "h1 h2 : x = x"  # Lean's layout, not Coq's "h1, h2 : ..."
    assert parse_goal("⊢ Nat") == Goal((), "Nat", style="lean")


def test_several_goals_in_one_text():
    text = "case zero\n⊢ 0 + 1 > 0\n\ncase succ\nx : Nat\nhx : x + 1 > x\n⊢ x + 1 + 1 > x + 1"
    gs = parse_goals(text)
    assert [g.conclusion for g in gs] == ["0 + 1 > 0", "x + 1 + 1 > x + 1"]
    assert parse_goals([]) == () and parse_goals("no goals") == ()


def test_broken_lines_and_let_values():
    # Lean's formatter breaks a long type after "name :" and indents the continuation.
    g = parse_goal("f : ℕ → ℕ\nh₀ :\n  ∀ (x : ℕ),\n    f x = 2 * x + 1\nn : ℕ := 5\n⊢ f n =\n    11")
    assert g.hyps[1] == Hyp(("h₀",), "∀ (x : ℕ), f x = 2 * x + 1")
    assert g.hyps[2] == Hyp(("n",), "ℕ", body="5")
    assert g.conclusion == "f n = 11"
    assert lean_text(g).split("\n")[1:3] == ["h₀ : ∀ (x : ℕ), f x = 2 * x + 1", "n : ℕ := 5"]


def test_malformed():
    for bad in ("x : ℕ", "x : ℕ\n⊢ a\n⊢ b", "nonsense\n⊢ a"):
        with pytest.raises(GoalParseError):
            parse_goal(bad)
