"""Conjectures: the loop poses its own problems where its frontier is.

Two kinds of candidate statements, from the training pool only (never from an evaluation
problem, its tree or its statement):
  * ``stuck``: open or failed goals of unsolved searches, best-scored first ("what would
    finish this problem", Goedel-Prover-V2's stuck subgoals);
  * mutations of pool statements and of proved conjectures, each a named operator on the
    root goal: ``drop_hyp`` (drop a hypothesis nothing else mentions), ``perturb_const``
    (move a numeral by one), ``specialise`` (replace a number variable by a small constant),
    ``weaken`` (a strict inequality among the hypotheses becomes a non-strict one);
  * optionally (off by default), ``written``: statements the round's model writes for unsolved
    pool statements, once trained on statements (``written.py``).
A goal becomes a statement through ``Backend.statement`` in its parent's header. Then each
candidate must elaborate (else dropped with the prover's reason), must not be closed by one
menu tactic at its root (trivial), must be new (de-duplicated by its normalised goal), and
must not equal an evaluation problem's goal nor descend from one (refused, counted).

Selection, STP-style (``attempt_budgets``, growing): a conjecture solved at the smallest
budget is ``easy`` (dropped); one solved only above it is ``proved`` (barely provable: kept,
its proof trains); one no budget solves is ``kept`` (it joins the training pool, where
active selection gives it budget like any unsolved problem). Every step writes its verdict
to the ``conjectures`` table as it goes, so a killed run resumes where it stopped.

Statuses: proposed -> screening verdict (not_elaborated | trivial | open | error) ->
selection verdict for ``open`` (easy | proved | kept); a ``kept`` conjecture that the pool
searches of ``retire_after`` rounds did not prove is ``retired`` (it leaves the pool: most
mutations are false, and the frontier's budget is for what may still fall).
"""
from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, replace

from prover.env import Goal, parse_goals_text

SPLIT = "conj"
OPERATORS = ("stuck", "drop_hyp", "perturb_const", "specialise", "weaken", "written")
_NUM = re.compile(r"(?<![\w.'])(\d+)(?![\w.'])")


@dataclass
class Candidate:
    parent: str           # the problem key it comes from (a pool problem or a conjecture)
    operator: str         # one of OPERATORS
    goal: Goal
    score: float = 0.0    # stuck: the node's path log-probability (higher first)


def goal_key(goal_text: str) -> str:
    return "cj_" + hashlib.sha1(normalise(goal_text).encode()).hexdigest()[:12]


def normalise(goal_text: str) -> str:
    """The comparison form of a goal: blanks collapsed (names are kept: renaming is rare)."""
    return " ".join(goal_text.split())


# ---- candidates ------------------------------------------------------------------------

_INTRO_ONLY = re.compile(r"^\s*(intros?(\s+[\w'?]+)*\s*\.?\s*)$")


def _restates(nodes: dict, n: dict) -> bool:
    """Whether ``n`` was reached from the root by introductions alone: its goal is the
    problem itself, restated (a conjecture of it would be the unsolved problem again)."""
    while n["parent"] is not None:
        if not _INTRO_ONLY.match(n["tactic"] or ""):
            return False
        n = nodes.get(n["parent"])
        if n is None:
            return False
    return True


def stuck(db, attempts: list[dict], style: str, limit: int, per_problem: int) -> list[Candidate]:
    """The first goal of the open and failed nodes of unsolved ``attempts``, best-scored first,
    at most ``per_problem`` per problem and ``limit`` in all. Nodes reached by introductions
    alone are left out: their goal is the unsolved problem itself."""
    found: list[Candidate] = []
    for a in attempts:
        if a["outcome"] == "proved":
            continue
        _, nodes, _ = db.tree_rows(a["id"])
        mine = []
        for n in nodes.values():
            if n["parent"] is None or n["status"] == "proved" or n["goals"] in ("", "no goals"):
                continue
            if _restates(nodes, n):
                continue
            try:
                goals = parse_goals_text(n["goals"], style)
            except ValueError:
                continue
            mine.append(Candidate(a["problem"], "stuck", goals[0], float(n["score"] or 0.0)))
        mine.sort(key=lambda c: -c.score)
        found += mine[:per_problem]
    found.sort(key=lambda c: -c.score)
    return found[:limit]


def _mentions(name: str, text: str) -> bool:
    return re.search(rf"(?<![\w']){re.escape(name)}(?![\w'])", text) is not None


def drop_hyp(goal: Goal) -> list[Goal]:
    out = []
    for i, h in enumerate(goal.hyps):
        others = [x.type for j, x in enumerate(goal.hyps) if j != i] + [goal.conclusion]
        if h.body is None and not any(_mentions(n, t) for n in h.names for t in others) \
                and re.search(r"[=<>≤≥≠~¬∧∨]|/\\|\\/", h.type):
            out.append(replace(goal, hyps=goal.hyps[:i] + goal.hyps[i + 1:]))
    return out


def perturb_const(goal: Goal) -> list[Goal]:
    out = []
    texts = [("c", goal.conclusion)] + [(i, h.type) for i, h in enumerate(goal.hyps)]
    for where, text in texts:
        for m in _NUM.finditer(text):
            n = int(m.group(1))
            for new in ([n + 1, n - 1] if n > 0 else [n + 1]):
                t = text[:m.start()] + str(new) + text[m.end():]
                if where == "c":
                    out.append(replace(goal, conclusion=t))
                else:
                    hyps = list(goal.hyps)
                    hyps[where] = replace(hyps[where], type=t)
                    out.append(replace(goal, hyps=tuple(hyps)))
    return out


def specialise(goal: Goal) -> list[Goal]:
    """A number variable ``x`` replaced by the constant a hypothesis ``x = c`` gives it, or by
    1 and 2 otherwise; the variable's declaration (and that hypothesis) disappear."""
    out = []
    numbers = {"nat", "Z", "R", "ℕ", "ℤ", "ℝ", "ℚ", "Q"}
    for i, h in enumerate(goal.hyps):
        if h.body is not None or h.type.strip() not in numbers:
            continue
        for x in h.names:
            values = []
            for k, g in enumerate(goal.hyps):
                m = re.fullmatch(rf"\s*{re.escape(x)}\s*=\s*(\d+)\s*", g.type)
                if m:
                    values.append((m.group(1), k))
            for value, drop in values or [("1", None), ("2", None)]:
                hyps = []
                for k, g in enumerate(goal.hyps):
                    if k == drop:
                        continue
                    if k == i:
                        rest = tuple(n for n in g.names if n != x)
                        if rest:
                            hyps.append(replace(g, names=rest))
                        continue
                    hyps.append(replace(g, type=_subst(g.type, x, value)))
                out.append(replace(goal, hyps=tuple(hyps), conclusion=_subst(goal.conclusion, x, value)))
    return out


def _subst(text: str, name: str, value: str) -> str:
    return re.sub(rf"(?<![\w']){re.escape(name)}(?![\w'])", value, text)


def weaken(goal: Goal, order: tuple[str, str] = ("<", "<=")) -> list[Goal]:
    """A strict inequality among the hypotheses made non-strict, one hypothesis at a time;
    ``order``: the backend's strict and non-strict symbols (``Backend.order_symbols``)."""
    strict, loose = order
    out = []
    pattern = re.compile(rf"(?<![<=>-]){re.escape(strict)}(?![=>-])")
    for i, h in enumerate(goal.hyps):
        if h.body is None and pattern.search(h.type):
            hyps = list(goal.hyps)
            hyps[i] = replace(h, type=pattern.sub(loose, h.type, count=1))
            out.append(replace(goal, hyps=tuple(hyps)))
    return out


MUTATIONS = {"drop_hyp": drop_hyp, "perturb_const": perturb_const, "specialise": specialise, "weaken": weaken}


def mutations(roots: list[tuple[str, Goal]], operators, limit: int, seed: int,
              order: tuple[str, str] = ("<", "<=")) -> list[Candidate]:
    """Up to ``limit`` mutations of the ``(parent, root goal)`` pairs, by the named
    ``operators``, sampled evenly across operators (seeded); ``order``: the backend's order
    symbols, for ``weaken``."""
    rng = random.Random(seed)
    by_op: dict[str, list[Candidate]] = {}
    for parent, goal in roots:
        for op in operators:
            if op in MUTATIONS:
                made = weaken(goal, order) if op == "weaken" else MUTATIONS[op](goal)
                by_op.setdefault(op, []).extend(Candidate(parent, op, g) for g in made)
    for cands in by_op.values():
        rng.shuffle(cands)
    out: list[Candidate] = []
    while len(out) < limit and any(by_op.values()):
        for op in sorted(by_op):
            if by_op[op] and len(out) < limit:
                out.append(by_op[op].pop())
    return out


def statement_goal(nodes: dict, style: str) -> Goal | None:
    """A problem's statement as the search saw it, for mutation: the root goal, or, when the
    statement quantifies everything (``forall x y, A -> B``: no hypotheses at the root), the
    single-goal child of the root with the most hypotheses (the one ``intros`` made)."""
    root = next((n for n in nodes.values() if n["parent"] is None), None)
    if root is None:
        return None
    try:
        best = parse_goals_text(root["goals"], style)[0]
    except (ValueError, IndexError):
        return None
    for n in nodes.values():
        if n["parent"] == root["id"] and "\n\n" not in n["goals"]:
            try:
                g = parse_goals_text(n["goals"], style)[0]
            except (ValueError, IndexError):
                continue
            if len(g.hyps) > len(best.hyps):
                best = g
    return best


# ---- the firewall and de-duplication ---------------------------------------------------------

def propose(db, candidates: list[Candidate], backend, round: int, parents: dict, allowed: set[str],
            forbidden: set[str], forbidden_goals: set[str]) -> dict:
    """Turn candidates into ``proposed`` rows of the conjectures table (and their Problem
    rows). ``parents``: {key: Problem} of the possible parents; ``allowed``: training keys
    (pool and conjectures); ``forbidden``: evaluation keys; ``forbidden_goals``: normalised
    root goals of evaluation problems. Returns counts by outcome."""
    from prover.problems import Problem
    counts = {"candidates": len(candidates), "refused": 0, "unstatable": 0, "duplicate": 0, "proposed": 0}
    known = {r["key"] for r in db.conjectures()}
    rows, problems, seen = [], [], set()
    for c in candidates:
        text = c.goal.text()
        key = goal_key(text)
        if c.parent in forbidden or c.parent not in allowed or normalise(text) in forbidden_goals:
            counts["refused"] += 1
            continue
        if f"{SPLIT}/{key}" in known or key in seen:
            counts["duplicate"] += 1
            continue
        stmt = backend.statement(c.goal, key)
        if stmt is None:
            counts["unstatable"] += 1
            continue
        seen.add(key)
        parent = parents[c.parent]
        problems.append(Problem(name=key, split=SPLIT, backend=backend.name, header=parent.header, statement=stmt))
        rows.append({"key": f"{SPLIT}/{key}", "parent": c.parent, "operator": c.operator, "round": round,
                     "goal": text, "statement": stmt, "status": "proposed", "reason": ""})
    db.add_problems(problems)
    counts["proposed"] = db.record_conjectures(rows)
    return counts


def problems_of(db, keys) -> list:
    """The Problem objects of conjecture keys (from the problems table)."""
    from prover.problems import Problem
    out = []
    for k in keys:
        r = db.problem(k)
        if r is not None:
            out.append(Problem(name=r["name"], split=r["split"], backend=r["backend"], header=r["header"],
                               statement=r["statement"], path=r["path"] or ""))
    return out


# ---- screening and selection -------------------------------------------------------------

def screen(db, backend_name: str, timeout: float, workers: int, engine: str = "local",
           progress: bool = True) -> dict:
    """Every ``proposed`` conjecture through the menu at its root, in a fresh prover: one that
    does not elaborate is ``not_elaborated`` (with the prover's reason), one a single menu
    tactic closes is ``trivial``, the others ``open``. Returns counts by status."""
    from prover.floor import run_floor
    rows = db.conjectures(status="proposed")
    problems = problems_of(db, [r["key"] for r in rows])
    counts = {"not_elaborated": 0, "trivial": 0, "open": 0, "error": 0}
    if not problems:
        return counts
    verdict = {"skipped": "not_elaborated", "proved": "trivial", "failed": "open", "error": "error"}
    for key, res in run_floor(problems, backend_name, timeout, workers=workers, engine=engine,
                              progress=progress).items():
        status = verdict[res.outcome]
        db.set_conjecture(key, status=status, reason=(res.message or " ".join(res.proof or []))[:300])
        counts[status] += 1
    return counts


def retire(db, after: int) -> int:
    """Retire the ``kept`` conjectures that pool searches (label ``model``) of ``after``
    distinct rounds did not prove. Returns how many."""
    n = 0
    proved = db.accepted_problems()
    rounds: dict[str, set] = {}
    for a in db.attempts_of(["model"]):
        rounds.setdefault(a["problem"], set()).add(a["round"])
    for r in db.conjectures(status="kept"):
        if r["key"] in proved:
            db.set_conjecture(r["key"], status="proved")
            continue
        if len(rounds.get(r["key"], ())) >= after:
            db.set_conjecture(r["key"], status="retired")
            n += 1
    return n


def select(db, search, spec, round: int, budgets: list[int]) -> dict:
    """STP-style selection of the ``open`` conjectures of ``round``: attempts at growing
    ``budgets`` (``search(problems, label, spec, expansions)`` records them); solved at the
    first budget: ``easy``; solved later: ``proved``; never: ``kept``."""
    rows = [r for r in db.conjectures(status="open") if r["round"] == round]
    todo = {r["key"] for r in rows}
    counts = {"easy": 0, "proved": 0, "kept": 0}
    for i, b in enumerate(budgets):
        if not todo:
            break
        label = f"conj-b{b}"
        search(problems_of(db, sorted(todo)), label, spec, b)
        solved = db.accepted_problems(label, round) & todo
        for k in sorted(solved):
            db.set_conjecture(k, status="easy" if i == 0 else "proved", solved_budget=b)
            counts["easy" if i == 0 else "proved"] += 1
        todo -= solved
    for k in sorted(todo):
        db.set_conjecture(k, status="kept")
        counts["kept"] += 1
    return counts
