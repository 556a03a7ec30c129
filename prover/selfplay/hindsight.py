"""Hindsight: every goal a search tree solved becomes verified training data, failed searches
included (HTPS learns from every solved node of its trees, not only from the root).

The search works on whole goal lists, so "a goal was solved" shows in the tree as a path from
a state ``[G1, G2, ..., Gn]`` to the state ``[G2, ..., Gn]`` (or, for ``n = 1``, to a closing
edge): along it the tactics acted on ``G1`` and its subgoals only. Each such path, in any tree
of the training pool (an attempt that failed at the root too), is a candidate lemma: ``G1``
with its hypotheses as binders (``Backend.statement``) in the problem's header, proved by the
path's tactics. It counts only once ``prover check`` accepts it in a fresh process; then its
(state, tactic) pairs, as the search saw the states, join the training set.

Invariants:
  * only attempts on training problems are read; an evaluation problem's tree is refused
    (:class:`prover.labels.LeakError`), never read;
  * one lemma per distinct goal (the shortest path found first; a goal verified before is
    not checked again); the problem's own root goal is not a lemma (its proofs are proofs);
  * a lemma is stored with its verdict, accepted or not, so a resumed run skips it.
"""
from __future__ import annotations

import hashlib
import json
from collections import deque
from dataclasses import dataclass, field

from prover.env import parse_goals_text
from prover.labels import LeakError

SPLIT = "hindsight"


@dataclass
class Candidate:
    """One solved goal of one tree: what to check, and the pairs it would give."""
    key: str                      # lemma name: hs_<hash of the goal>
    problem: str                  # the problem whose tree it came from
    attempt_id: int
    node: str                     # the node whose first goal it is
    goal: str                     # that goal's text (goals_text of one goal)
    tactics: list[str]
    steps: list[tuple[str, str]] = field(default_factory=list)  # (goals text before, tactic) as searched


def lemma_key(goal_text: str) -> str:
    return "hs_" + hashlib.sha1(" ".join(goal_text.split()).encode()).hexdigest()[:12]


def solved_goals(attempt_id: int, problem: str, nodes: dict[str, dict], edges: list[dict],
                 root: str | None = None) -> list[Candidate]:
    """Every (node, first goal) of one tree whose goal the tree solved, with the shortest
    tactic path that solved it (breadth-first over the tree's edges)."""
    out_edges: dict[str, list[dict]] = {}
    for e in edges:
        out_edges.setdefault(e["src"], []).append(e)
    if root is None:
        root = next((n["id"] for n in nodes.values() if n["parent"] is None), None)
    found = []
    for nid, node in nodes.items():
        blocks = node["goals"].split("\n\n")
        if node["goals"] in ("", "no goals") or (nid == root and len(blocks) == 1):
            continue
        if len(blocks) == 1 and node["status"] != "proved":
            continue  # a single goal was solved only if its node is proved
        rest = "\n\n".join(blocks[1:])
        path = _path_to(nid, rest, nodes, out_edges)
        if path is None:
            continue
        steps = []
        cur = nid
        for e in path:
            steps.append((nodes[cur]["goals"], e["tactic"]))
            cur = e["dst"]
        found.append(Candidate(lemma_key(blocks[0]), problem, attempt_id, nid, blocks[0],
                               [e["tactic"] for e in path], steps))
    return found


def _path_to(start: str, rest: str, nodes: dict, out_edges: dict) -> list[dict] | None:
    """Shortest edge path from ``start`` to a node whose goals are ``rest`` (or, with no
    rest, to a closing edge)."""
    prev: dict[str, tuple[str, dict] | None] = {start: None}
    q = deque([start])
    while q:
        n = q.popleft()
        for e in out_edges.get(n, []):
            done = (e["outcome"] == "proved" and not rest) or (
                rest and e["dst"] is not None and e["dst"] != start and e["dst"] in nodes
                and nodes[e["dst"]]["goals"] == rest)
            if done:
                path = [e]
                while prev[n] is not None:
                    n, pe = prev[n]
                    path.append(pe)
                return path[::-1]
        for e in out_edges.get(n, []):
            d = e["dst"]
            if d is not None and d not in prev and d in nodes and e["outcome"] in ("new", "dup"):
                prev[d] = (n, e)
                q.append(d)
    return None


def harvest(db, attempts: list[dict], backend, allowed: set[str], forbidden: set[str]) -> list[Candidate]:
    """Candidates from the trees of ``attempts`` (rows of the attempts table), de-duplicated
    by goal, minus the goals already checked. ``allowed``: the training problems' keys;
    ``forbidden``: the evaluation problems' keys (reading one of their trees is a leak)."""
    known = db.hindsight_keys()
    best: dict[str, Candidate] = {}
    for a in attempts:
        if a["problem"] in forbidden:
            raise LeakError(f"hindsight: {a['problem']} is an evaluation problem; its tree is never read")
        if a["problem"] not in allowed:
            continue
        _, nodes, edges = db.tree_rows(a["id"])
        for c in solved_goals(a["id"], a["problem"], nodes, edges):
            if c.key in known:
                continue
            if c.key not in best or len(c.tactics) < len(best[c.key].tactics):
                best[c.key] = c
    return list(best.values())


def lemma_problem(c: Candidate, parent, backend):
    """The lemma of candidate ``c`` as a Problem in ``parent``'s header, or None when the
    backend cannot state its goal."""
    from prover.problems import Problem
    [goal] = parse_goals_text(c.goal, backend.goal_style) or [None]
    if goal is None:
        return None
    stmt = backend.statement(goal, c.key)
    if stmt is None:
        return None
    return Problem(name=c.key, split=SPLIT, backend=backend.name, header=parent.header, statement=stmt)


def _check_job(_state, item):
    from prover.check import check_proof
    _, problem, tactics = item
    return check_proof(problem, tactics)


def verify(db, candidates: list[Candidate], problems: dict, backend, round: int, workers: int = 1,
           engine: str = "local", progress: bool = True, limit: int | None = None) -> dict:
    """Check each candidate (shortest first, at most ``limit``) as a standalone lemma in a
    fresh process (``prover check``) and store it with its verdict as it comes back.
    Returns counts: candidates, unstatable, checked, accepted."""
    import sys

    from tqdm import tqdm

    from prover.engines import make_pool
    counts = {"candidates": len(candidates), "unstatable": 0, "checked": 0, "accepted": 0}
    chosen = sorted(candidates, key=lambda c: (len(c.tactics), c.key))[:limit]
    items = []
    for i, c in enumerate(chosen):
        lemma = lemma_problem(c, problems[c.problem], backend)
        if lemma is None:
            counts["unstatable"] += 1
            continue
        items.append((i, lemma, c.tactics))
    bar = tqdm(total=len(items), desc=f"round {round} hindsight", unit="lemma", file=sys.stderr,
               disable=not progress)
    if items:
        pool = make_pool(engine, workers, dict, ())
        for (i, lemma, _), verdict in pool.imap(_check_job, items):
            bar.update(1)
            if isinstance(verdict, dict):  # the worker failed on it: not stored, retried on resume
                continue
            db.record_hindsight(chosen[i], lemma.statement, round, verdict)
            counts["checked"] += 1
            counts["accepted"] += bool(verdict.accepted)
    bar.close()
    return counts


def pairs(db, forbidden: set[str]) -> list[dict]:
    """(goals, tactic) pairs of every accepted lemma, de-duplicated, for training."""
    out, seen = [], set()
    for r in db.hindsight_rows(accepted_only=True):
        if r["problem"] in forbidden:
            continue
        steps = r["steps"] if isinstance(r["steps"], list) else json.loads(r["steps"] or "[]")
        for goals, tactic in steps:
            if (goals, tactic) not in seen:
                seen.add((goals, tactic))
                out.append({"goals": goals, "tactic": tactic, "problem": r["problem"], "source": "hindsight"})
    return out
