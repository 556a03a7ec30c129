"""The one prompt format, shared by tracing, training, sampling and every backend.

A training example is ``prompt(goals) + target(tactic)``; sampling feeds ``prompt(goals)``
and reads the tactic up to the end-of-sequence token. ``goals`` is ``prover.env.goals_text``
of the state, exactly as the search sees it. Long goals are cut from the end of the text
on the character level first (the conclusion of the first goal matters most and comes
first in its block after the hypotheses, so keep the head and the first ``⊢`` line).
"""
from __future__ import annotations

GOALS_TAG = "[GOALS]"
TACTIC_TAG = "[TACTIC]"
MAX_GOAL_CHARS = 2048


def clip_goals(goals: str, max_chars: int = MAX_GOAL_CHARS) -> str:
    if len(goals) <= max_chars:
        return goals
    first_goal = goals.split("\n\n", 1)[0]
    if len(first_goal) <= max_chars:
        return first_goal
    # keep the conclusion and as many hypotheses (from the last, nearest) as fit
    lines = first_goal.split("\n")
    concl, hyps = lines[-1], lines[:-1]
    kept: list[str] = []
    size = len(concl) + 1
    for h in reversed(hyps):
        if size + len(h) + 1 > max_chars:
            break
        kept.insert(0, h)
        size += len(h) + 1
    return "\n".join(kept + [concl])[-max_chars:]


def prompt(goals: str) -> str:
    return f"{GOALS_TAG}\n{clip_goals(goals)}\n{TACTIC_TAG} "


def target(tactic: str) -> str:
    return tactic.strip()
