"""Conjectures the model writes: the ``written`` operator (off by default: an option for GPUs).

Why: the named mutations (``conjecture.py``) only move what a pool statement already says;
STP's conjecturer is a language model that, given a seed theorem, writes a related statement.
Here the round's own tactic model learns a second task from the loop's verified data: given a
training statement, write a lemma that turned out provable for it. Its examples are

  * every accepted hindsight lemma: (the statement of the pool problem whose tree solved it
    -> the lemma's goal), the "what would help with this problem" the search found itself;
  * every proved (``easy`` or ``proved``) conjecture: (its parent's statement -> its goal).

An example is a ``(goals, tactic)`` pair like any other, so training, mixing and the model are
unchanged: ``goals`` is the parent's goal behind the ``[CONJECTURE]`` line, ``tactic`` is the
lemma's goal in the one goal text form (``prover.env.goals_text``). The pairs join the round's
training set with their own share (``statement_share``), as source ``statement``.

After the round's search the model samples (nucleus, de-duplicated) ``written_per_parent``
statements for each of a few unsolved pool statements (the frontier, seeded order); a text
that does not parse as exactly one goal is dropped and counted. The rest are ordinary
conjecture candidates (operator ``written``): ``conjecture.propose`` firewalls, states and
de-duplicates them, then screening and STP-style selection decide as for every operator.

Never from the evaluation split: an example whose problem or parent is an evaluation key
is left out, and a written statement's parent is always a training-pool key.
"""
from __future__ import annotations

from prover.env import Goal, parse_goals_text
from prover.selfplay.conjecture import Candidate, statement_goal

TAG = "[CONJECTURE]"
SOURCE = "statement"


def task(parent: Goal | str) -> str:
    """The ``goals`` side of an example: the task line, then the parent statement's goal."""
    return f"{TAG}\n{parent if isinstance(parent, str) else parent.text()}"


def pairs(db, forbidden: set[str], style: str) -> list[dict]:
    """The statement-writing examples of the database (see the module's docstring),
    de-duplicated, none touching a ``forbidden`` (evaluation) key."""
    out, seen, statements = [], set(), {}
    latest = {a["problem"]: a["id"] for a in db.attempts_of()}  # oldest first: the last one wins

    def statement(attempt_id: int | None) -> Goal | None:
        if attempt_id is not None and attempt_id not in statements:
            statements[attempt_id] = statement_goal(db.tree_rows(attempt_id)[1], style)
        return statements.get(attempt_id)

    def add(parent_key: str, attempt_id: int | None, goal_text: str):
        parent = None if parent_key in forbidden else statement(attempt_id)
        if parent is None:
            return
        ex = (task(parent), goal_text.strip())
        if ex[1] and ex not in seen and ex[1] != parent.text():
            seen.add(ex)
            out.append({"goals": ex[0], "tactic": ex[1], "problem": parent_key, "source": SOURCE})

    for r in db.hindsight_rows(accepted_only=True):  # the parent as the lemma's own tree saw it
        add(r["problem"], r["attempt_id"], r["goal"])
    for status in ("easy", "proved"):
        for r in db.conjectures(status=status):
            if r["key"] not in forbidden:
                add(r["parent"], latest.get(r["parent"]), r["goal"])
    return out


def parse_written(text: str, style: str) -> Goal | None:
    """The one goal a written text states, or None (no conclusion, several goals, junk)."""
    try:
        goals = parse_goals_text(text, style)
    except ValueError:
        return None
    if len(goals) != 1 or not goals[0].conclusion.strip():
        return None
    return goals[0]


def write(policy, parents: list[tuple[str, Goal]], per_parent: int, style: str) -> tuple[list[Candidate], dict]:
    """``per_parent`` statements sampled by ``policy`` (a :class:`prover.policy.model.ModelPolicy`
    set to sample, without candidate sources) for each ``(key, goal)`` of ``parents``, as
    ``written`` candidates scored by their log-probability, best first. Returns (candidates,
    counts of sampled / unparsable / same as the parent)."""
    counts = {"parents": len(parents), "sampled": 0, "unparsable": 0, "restated": 0}
    if not parents or per_parent <= 0:
        return [], counts
    found = policy.propose_goals([task(g) for _, g in parents], k=per_parent, extra=[[] for _ in parents])
    out: list[Candidate] = []
    for (key, parent), cands in zip(parents, found):
        for c in cands:
            counts["sampled"] += 1
            goal = parse_written(c.tactic, style)
            if goal is None:
                counts["unparsable"] += 1
            elif goal.text() == parent.text():
                counts["restated"] += 1
            else:
                out.append(Candidate(key, "written", goal, c.logprob))
    out.sort(key=lambda c: -c.score)
    return out, counts


def frontier(roots: list[tuple[str, Goal]], solved: set[str], n: int, seed: int) -> list[tuple[str, Goal]]:
    """``n`` unsolved ``(key, statement goal)`` of ``roots``, in a seeded order."""
    import random
    todo = [(k, g) for k, g in roots if k not in solved]
    random.Random(seed).shuffle(todo)
    return todo[:n]

