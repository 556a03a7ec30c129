"""The retrieval source: tactics that worked on similar states (Tactician's k-NN, Rango's BM25).

On 2 CPU cores with no pretrained weights, a small model rarely writes a tactic it has not
seen in this exact state; a lexical index over (state -> tactic) pairs does: for the current
state it finds the most similar states of the traced corpus and of the run's own accepted
proofs and hindsight lemmas, and offers the tactics used there, with the hypothesis names of
the retrieved state renamed to the current state's (by type, then by position). The model
scores them next to the menu and the templates, like any other source.

Index (BM25, ``bm25s``): a state's first goal, tokenised into identifiers, numerals and
symbols, with the names of its own hypotheses replaced by one placeholder (so ``x = 2`` and
``y = 2`` are the same words). It grows online: a source that has a proof database asks it,
before each state, for pairs accepted since the last one it saw (a cheap query on the
``proofs`` and ``hindsight`` ids; every worker does this, so a proof accepted by one worker
is retrievable by all of them in the same round), and it is rebuilt from the database on
resume. The evaluation split never enters it: pairs of problems in ``deny`` (the evaluation
keys) and of attempts under evaluation labels are skipped when the database is read.

Invariants: candidates are in the backend's canonical spelling, de-duplicated, best first;
the same index and state give the same candidates.
"""
from __future__ import annotations

import json
import re
from typing import Iterable, Sequence

from prover.labels import is_eval_label
from prover.env import Goal, State, parse_goals_text

_TOKEN = re.compile(r"[^\W\d][\w'.]*|\d+|[^\s\w]")
_NAME = re.compile(r"(?<![\w'.])([^\W\d][\w']*)(?![\w'])")
PLACEHOLDER = "_h"
# a relation or connective in a hypothesis's type: a fact, not a variable (shared with repair)
FACT = re.compile(r"[=<>≤≥≠~¬∧∨↔∣]|/\\|\\/|\bTrue\b|\bFalse\b")


def tokens(goal: Goal) -> list[str]:
    """BM25 words of one goal: its hypotheses' types and its conclusion, local names
    replaced by a placeholder, plus ``name:`` kinds (so hypothesis count matters a little)."""
    local = {n for h in goal.hyps for n in h.names}
    words: list[str] = []
    for h in goal.hyps:
        words.append(":")
        words += [PLACEHOLDER if w in local else w for w in _TOKEN.findall(h.type)]
    words.append("⊢")
    words += [PLACEHOLDER if w in local else w for w in _TOKEN.findall(goal.conclusion)]
    return words


def rename(tactic: str, source: Goal, target: Goal) -> str | None:
    """``tactic`` (used on ``source``) with ``source``'s hypothesis names replaced by the
    ``target``'s: a hypothesis of the same type first (types compared with names masked),
    else the one at the same position among those of its kind (variables or facts). None
    when the tactic names a hypothesis that has no counterpart."""
    src = [(n, h.type) for h in source.hyps for n in h.names]
    dst = [(n, h.type) for h in target.hyps for n in h.names]
    src_names, dst_names = {n for n, _ in src}, {n for n, _ in dst}

    def masked(t: str, names: set[str]) -> str:
        return " ".join(PLACEHOLDER if w in names else w for w in _TOKEN.findall(t))

    used: set[str] = set()
    mapping: dict[str, str] = {}
    for n, t in src:  # same type first
        m = masked(t, src_names)
        match = next((d for d, u in dst if d not in used and masked(u, dst_names) == m), None)
        if match is not None:
            mapping[n] = match
            used.add(match)
    def kind(t: str) -> str:  # facts map to facts by position; a variable only to one of its type
        return "fact" if FACT.search(t) else "var " + " ".join(t.split())

    src_kinds = [kind(t) for _, t in src]
    dst_kinds = [kind(t) for _, t in dst]
    for i, (n, _) in enumerate(src):  # then by position among those of the same kind
        if n in mapping:
            continue
        rank = src_kinds[:i].count(src_kinds[i])
        same = [d for (d, _), k in zip(dst, dst_kinds) if k == src_kinds[i]]
        if rank < len(same) and same[rank] not in used:
            mapping[n] = same[rank]
            used.add(same[rank])
    missing = False

    def sub(m: re.Match) -> str:
        nonlocal missing
        w = m.group(1)
        if w in src_names:
            if w not in mapping:
                missing = True
                return w
            return mapping[w]
        return w  # a lemma or tactic name, left as it is

    out = _NAME.sub(sub, tactic)
    return None if missing else out


class RetrievalIndex:
    """BM25 over (first goal -> tactic) pairs; rebuilt lazily after additions."""

    def __init__(self, style: str = "coq"):
        self.style = style
        self.goals: list[Goal] = []
        self.tactics: list[str] = []
        self._seen: set[tuple[str, str]] = set()
        self._bm25 = None
        self._built = 0

    def __len__(self) -> int:
        return len(self.tactics)

    def add(self, pairs: Iterable[tuple[str, str]]) -> int:
        """Add (goals text, tactic) pairs (first goal only; repeats and unparsable states are
        skipped). Returns how many were new."""
        n = 0
        for goals, tactic in pairs:
            key = (goals.split("\n\n", 1)[0], tactic)
            if key in self._seen:
                continue
            try:
                parsed = parse_goals_text(key[0], self.style)
            except ValueError:
                continue
            if not parsed:
                continue
            self._seen.add(key)
            self.goals.append(parsed[0])
            self.tactics.append(tactic)
            n += 1
        return n

    def _build(self) -> None:
        import bm25s
        self._bm25 = bm25s.BM25()
        self._bm25.index([tokens(g) or [PLACEHOLDER] for g in self.goals], show_progress=False)
        self._built = len(self.goals)

    def query(self, goal: Goal, m: int) -> list[tuple[Goal, str, float]]:
        """The ``m`` most similar indexed goals with their tactics and BM25 scores, best first."""
        if not self.goals:
            return []
        if self._bm25 is None or self._built != len(self.goals):
            self._build()
        vocab = self._bm25.vocab_dict
        words = [w for w in tokens(goal) if w in vocab] or [PLACEHOLDER]
        if PLACEHOLDER not in vocab and words == [PLACEHOLDER]:
            return []
        k = min(m, len(self.goals))
        ids, scores = self._bm25.retrieve([words], k=k, show_progress=False)
        return [(self.goals[i], self.tactics[i], float(s)) for i, s in zip(ids[0], scores[0]) if s > 0]


def corpus_pairs(path) -> list[tuple[str, str]]:
    from prover.corpus import load_pairs
    return [(p["goals"], p["tactic"]) for p in load_pairs(path, split="train")]


def db_proofs(db, deny: set[str], after: tuple[int, int] = (0, 0)) -> tuple[list[list], tuple[int, int]]:
    """The step lists ([(goals, tactic), ...], one per proof) of accepted proofs and hindsight
    lemmas newer than ``after`` (last proof id, last hindsight rowid), never of a denied
    problem nor of an attempt under an evaluation label. Returns them and the new ``after``."""
    proof_after, hs_after = after
    proofs: list[list] = []
    from prover.db import queries
    rows = queries.accepted_proofs_after(db, proof_after)
    for r in rows:
        proof_after = max(proof_after, r["id"])
        if r["problem"] in deny or is_eval_label(r["policy"]):
            continue
        proofs.append([(g, t) for g, t in _steps(r["steps"])])
    hs = queries.accepted_hindsight_after(db, hs_after)  # none in a database from before self-play
    for r in hs:
        hs_after = max(hs_after, r["rid"])
        if r["problem"] not in deny:
            proofs.append([(g, t) for g, t in _steps(r["steps"])])
    return proofs, (proof_after, hs_after)


def open_reader(path: str | None):
    """The proof database at ``path`` opened for reading online, or None (no path, no file yet)."""
    from pathlib import Path

    from prover.db import ProofDB
    if not path or not Path(path).exists():
        return None
    return ProofDB(path, create=False)


def _steps(steps) -> list:
    return steps if isinstance(steps, list) else json.loads(steps or "[]")


class RetrievalSource:
    """Candidate source ``retrieval`` (tag ``retr``): the renamed tactics of the ``m`` most
    similar indexed states, at most ``limit`` distinct ones. Options: ``corpus`` (a traced
    corpus directory or file), ``db`` (a proof database path, read for new pairs before each
    state), ``deny`` (problem keys never indexed: the evaluation split)."""

    name, tag, static = "retrieval", "retr", False

    def __init__(self, backend, corpus: str | None = None, db: str | None = None,
                 deny: Sequence[str] = (), m: int = 16, limit: int = 8):
        self.backend, self.m, self.limit = backend, m, limit
        self.deny = set(deny)
        self.index = RetrievalIndex(backend.goal_style)
        if corpus:
            self.index.add(corpus_pairs(corpus))
        self.db_path, self._db, self._after = db, None, (0, 0)
        self.refresh()

    def refresh(self) -> int:
        """Index what the database accepted since the last look; returns how many pairs."""
        if self._db is None:
            self._db = open_reader(self.db_path)
        if self._db is None:
            return 0
        proofs, self._after = db_proofs(self._db, self.deny, self._after)
        return self.index.add(self.entries(proofs))

    def entries(self, proofs) -> list[tuple[str, str]]:
        """The (goals, tactic) index entries of proofs' step lists: every step."""
        return [pair for steps in proofs for pair in steps]

    def candidates(self, state: State | None) -> list[str]:
        return self.ranked(state, self.limit, self.m)

    def more(self, state: State | None, page: int) -> list[str]:
        """Page ``page`` (1, 2...) past :meth:`candidates`: the next ``limit`` distinct tactics,
        from the next ``m`` similar states (what a search that widens a node asks for)."""
        return self.ranked(state, self.limit * (page + 1), self.m * (page + 1))[self.limit * page:]

    def ranked(self, state: State | None, limit: int, m: int) -> list[str]:
        """The renamed tactics of the ``m`` most similar indexed states, at most ``limit``."""
        if state is None or not state.goals:
            return []
        self.refresh()
        goal = state.goals[0]
        out: list[str] = []
        for g, tactic, _ in self.index.query(goal, m):
            t = rename(tactic, g, goal)
            if t is None or self.backend.refusal(t) is not None:
                continue
            t = self.backend.normalise(t)
            if t not in out:
                out.append(t)
            if len(out) >= limit:
                break
        return out
