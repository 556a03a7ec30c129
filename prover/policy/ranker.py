"""A learned ranker over (state, candidate tactic): what to try first when a node has far more
candidates than a search can afford (ENIGMA's gradient-boosted trees over symbolic features,
Tactician's online learning over proof-state features; both on a CPU).

Why: with instantiated tactics (premises, hints, case splits, witnesses) a node offers hundreds
of candidates and the search applies only the top ``tries`` of them (``SearchConfig.tries``), so
the order decides what a node finds. Every edge of every training tree is a labelled example:
the (state, tactic) the search tried and what came of it.

Labels: 3 the tactic closed the goals, 2 it led to a node that was proved (on a proof path), 1 it
led to a new state, 0 an error, a timeout, a duplicate state. The model (LightGBM, binary) learns
P(label >= 2): whether the tactic is a step of a proof, from every tried candidate of every
expanded node, the nodes where nothing worked included. A new state alone is no success: a first
ranker trained to rank new states high (lambdarank, gains 0/1/3/7) filled its tries with rewrites
and case splits that change the state and lead nowhere, and proved 51 of miniF2F test where the
fixed order proved 65 (data/results/ranker_tries_test8.md). Cached and refused edges are not
examples (the prover never answered them).

Features (``features``) are symbolic and cheap: the goal's shape (relation, number domain,
operators, sizes, depth), the candidate's (its source, first word, last word, skeleton with local
names and numerals masked, length, ``;`` count) and their interaction (local names the tactic
uses, identifiers it shares with the goal or brings in). Words and skeletons become categorical
features through vocabularies fitted on the training set and saved with the model.

The firewall: ``examples`` reads only attempts that are not evaluations (``prover.labels``) and
not of a denied problem (the loop denies its evaluation split): evaluation trees never train it.

Exploration: a source the ranker has no example of (a source turned on after it was trained,
like the run's own ``lemmas``, which exist only once self-play has proved some) would be ranked
blind, and if never tried, never learned. So the best candidate of each such source is moved to
place ``EXPLORE_AT`` (after the ranker's own first picks), with the score of the place it takes.

``RankedPolicy`` wraps any policy: it asks it for its candidates, orders them by the ranker
(``learned``), by a seeded hash (``random``, the ablation's control) or keeps the sources' order
(``fixed``), and gives each the log of the ranker's probability that it is a proof step, so the
best-first queue orders nodes by the estimated probability that their path is a proof. A missing, unreadable or stale ranker file is one
line on stderr and the fixed order.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Iterable, Sequence

from prover.env import Goal, State, parse_goals_text
from prover.policy.base import Candidate

VERSION = 2  # of the feature layout and the objective: a ranker saved under another version is stale
SOURCES = ("menu", "templates", "macros", "retrieval", "hints", "cases", "witnesses", "premises", "model",
           "instances", "numerals", "denominators", "compute", "logs", "lemmas")
MODES = ("learned", "random", "fixed")
EXPLORE_AT = 2  # the place a source the ranker never saw gets its best candidate (0-based)

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_'.]*")
_NUM = re.compile(r"\b\d+(?:\.\d+)?\b")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_']*")
_RELATIONS = ("<=", ">=", "<>", "<", ">", "=", "~", "/\\", "\\/", "->", "<->")
_OPS = ("^", "*", "/", "+", "-", "sqrt", "Rabs", "mod", "modulo", "gcd", "lcm", "ln", "exp", "sin", "cos",
        "tan", "PI", "if", "match", "fun", "sum", "IZR", "INR", "Z.of_nat", "Nat.", "Z.", "floor", "Int_part",
        "Rpower", "pow", "Rsqr", "even", "odd", "prime", "divide", "|")
_CLOSERS = frozenset({"lia", "lra", "nra", "nia", "psatz", "field", "ring", "auto", "easy", "trivial",
                      "reflexivity", "tauto", "congruence", "sauto", "qauto", "interval", "assumption",
                      "simpl", "compute", "vm_compute", "intros", "split", "subst", "exists", "apply",
                      "rewrite", "destruct", "induction", "pose", "assert", "field_simplify",
                      "ring_simplify", "unfold", "left", "right", "eexists", "nlinarith", "linarith",
                      "omega", "norm_num", "simp", "rw", "exact", "intro"})
_KEYWORDS = _CLOSERS | {"in", "as", "by", "proof", "with", "at", "eqn", "then", "else", "fun", "R", "Z", "nat",
                        "forall", "exists"}


class RankerError(ValueError):
    """A ranker file that cannot be used (missing, unreadable, another feature version)."""


# -- features ------------------------------------------------------------------------------
def goal_features(goals: Sequence[Goal], depth: int) -> list[float]:
    """The state's shape: the first goal's relation, domain, operators and sizes."""
    if not goals:
        return [0.0] * (6 + len(_RELATIONS) + len(_OPS) + 3)
    g = goals[0]
    c = g.conclusion
    hyps_text = " ".join(h.type for h in g.hyps)
    numbers = [float(x) for x in _NUM.findall(c)]
    out = [float(len(goals)), float(len(g.hyps)), float(len(c)), float(depth),
           float(len(numbers)), math.log10(1 + max(numbers, default=0.0))]
    out += [float(c.count(r)) for r in _RELATIONS]
    both = c + " " + hyps_text
    out += [float(both.count(o)) for o in _OPS]
    types = [h.type.strip() for h in g.hyps]
    out += [float(types.count("R")), float(types.count("Z")), float(types.count("nat"))]
    return out


def _local_names(goal: Goal | None) -> set[str]:
    return {n for h in goal.hyps for n in h.names} if goal is not None else set()


def skeleton(tactic: str, local: set[str]) -> str:
    """The tactic with the state's local names as ``H`` and numerals as ``0``: its shape."""
    t = _NUM.sub("0", tactic)
    return _WORD.sub(lambda m: "H" if m.group(0) in local else m.group(0), t)


def candidate_raw(goal: Goal | None, goal_idents: set[str], tactic: str, source: str) -> tuple[list[float], tuple]:
    """(numeric features, (source, first word, last word, skeleton)) of one candidate."""
    local = _local_names(goal)
    words = _WORD.findall(tactic)
    idents = [w for w in _IDENT.findall(tactic) if w not in _KEYWORDS]
    uses_local = sum(1 for w in words if w in local)
    shared = sum(1 for w in set(idents) if w in goal_idents and w not in local)
    foreign = sum(1 for w in set(idents) if w not in goal_idents and w not in local)
    hyp_types = {n: h.type for h in (goal.hyps if goal is not None else ()) for n in h.names}
    named_eq = sum(1 for w in words if w in hyp_types and "=" in hyp_types[w])
    num = [float(len(tactic)), float(tactic.count(";")), float(len(words)), float(uses_local), float(shared),
           float(foreign), float(named_eq), float(len(_NUM.findall(tactic))),
           float(tactic.startswith("intros")), float("(" in tactic)]
    first = words[0] if words else ""
    last = next((w for w in reversed(words) if w in _CLOSERS), "")
    return num, (source or "unknown", first, last, skeleton(tactic, local))


def goal_idents(goal: Goal | None) -> set[str]:
    if goal is None:
        return set()
    return set(_IDENT.findall(goal.conclusion + " " + " ".join(h.type for h in goal.hyps)))


class Vocab:
    """Categorical codes of sources, words and skeletons (0: unseen or rare)."""

    def __init__(self, tables: dict[str, dict[str, int]] | None = None):
        self.tables = tables or {"source": {s: i + 1 for i, s in enumerate(SOURCES)}}

    @classmethod
    def fit(cls, cats: Iterable[tuple], sizes=(None, 200, 64, 2000), min_count: int = 3) -> "Vocab":
        cats = list(cats)
        tables = {"source": {s: i + 1 for i, s in enumerate(SOURCES)}}
        for j, name in enumerate(("first", "last", "skeleton"), start=1):
            counts = Counter(c[j] for c in cats)
            common = [w for w, n in counts.most_common(sizes[j]) if n >= min_count]
            tables[name] = {w: i + 1 for i, w in enumerate(common)}
        return cls(tables)

    def codes(self, cat: tuple) -> list[float]:
        names = ("source", "first", "last", "skeleton")
        return [float(self.tables.get(n, {}).get(v, 0)) for n, v in zip(names, cat)]


N_CATEGORICAL = 4  # the last four columns: source, first word, last word, skeleton


def rows_for(goals: Sequence[Goal], depth: int, tactics: Sequence[str], sources: Sequence[str], vocab: Vocab):
    """The feature rows of ``tactics`` at one state (the goal part computed once)."""
    g = goals[0] if goals else None
    gf, gi = goal_features(goals, depth), goal_idents(g)
    out = []
    for t, s in zip(tactics, sources):
        num, cat = candidate_raw(g, gi, t, s)
        out.append(gf + num + vocab.codes(cat))
    return out


# -- training data -------------------------------------------------------------------------
def label(outcome: str, dst_status: str | None) -> int:
    if outcome == "proved":
        return 3
    if outcome == "new" and dst_status == "proved":
        return 2
    if outcome == "new":
        return 1
    return 0


def examples(db, deny: Iterable[str] = (), style: str = "coq", max_groups: int | None = None,
             positive_only: bool = False):
    """Groups of (state goals, depth, [(tactic, source, label)]) from every training tree of
    ``db``: never an evaluation attempt, never a problem in ``deny``. Each group is one expanded
    node of one attempt, with at least one positive example."""
    groups = []
    for g in db.ranker_edges(deny):
        if max_groups is not None and len(groups) >= max_groups:
            break
        items = [(t, s, label(o, d)) for t, s, o, d in g["edges"]]
        if positive_only and not any(y > 0 for _, _, y in items):
            continue
        try:
            goals = parse_goals_text(g["goals"], style)
        except ValueError:
            continue
        groups.append({"problem": g["problem"], "goals": goals, "depth": g["depth"], "items": items})
    return groups


def _matrix(groups, vocab: Vocab):
    X, y = [], []
    for g in groups:
        X += rows_for(g["goals"], g["depth"], [t for t, _, _ in g["items"]], [s for _, s, _ in g["items"]], vocab)
        y += [lab for _, _, lab in g["items"]]
    return X, y


def split_groups(groups, heldout: float = 0.2, seed: int = 0):
    """(train, held-out) groups, split by problem (a hash, so stable across rounds)."""
    def held(p: str) -> bool:
        h = int.from_bytes(hashlib.blake2b(f"{seed}:{p}".encode(), digest_size=4).digest(), "little")
        return h / 2 ** 32 < heldout
    return [g for g in groups if not held(g["problem"])], [g for g in groups if held(g["problem"])]


def recall_at(groups, score_fn, ns=(1, 4, 8, 16), min_label: int = 2) -> dict[str, float]:
    """Of the nodes with a candidate of label >= ``min_label`` (on a proof path), the share where
    one of them is in the top n of ``score_fn(group) -> scores``."""
    hits, total = Counter(), 0
    for g in groups:
        good = [i for i, (_, _, y) in enumerate(g["items"]) if y >= min_label]
        if not good:
            continue
        total += 1
        scores = score_fn(g)
        order = sorted(range(len(scores)), key=lambda i: -scores[i])
        rank = min(order.index(i) for i in good)
        for n in ns:
            hits[n] += rank < n
    return {f"recall@{n}": round(hits[n] / total, 4) if total else 0.0 for n in ns} | {"nodes": total}


def source_order_scores(g) -> list[float]:
    """The fixed order's scores for a group: the sources' order, then the order tried."""
    rank = {s: i for i, s in enumerate(SOURCES)}
    return [-(rank.get(s, len(SOURCES)) * 10000 + i) for i, (_, s, _) in enumerate(g["items"])]


def train(groups, rounds: int = 200, seed: int = 0, heldout: float = 0.2, min_leaf: int = 20) -> "Ranker":
    """A LightGBM model of P(proof step) on ``groups`` (``examples``), with its held-out recall."""
    import lightgbm as lgb
    import numpy as np
    if not groups:
        raise ValueError("a ranker needs expanded nodes with a successful candidate to learn from")
    tr, te = split_groups(groups, heldout, seed)
    if not any(y >= 2 for g in tr for _, _, y in g["items"]):  # few problems: every proof path was held out
        tr, te = groups, []
    vocab = Vocab.fit((candidate_raw(g["goals"][0] if g["goals"] else None, set(), t, s)[1]
                       for g in tr for t, s, _ in g["items"]), min_count=1 if min_leaf < 20 else 3)
    X, y = _matrix(tr, vocab)
    n = len(X[0])
    cat = list(range(n - N_CATEGORICAL, n))
    target = (np.asarray(y) >= 2).astype(np.float64)
    if target.min() == target.max():
        raise ValueError("a ranker needs tried candidates on a proof path and ones that were not to learn from")
    params = {"objective": "binary", "learning_rate": 0.05, "num_leaves": 31, "min_data_in_leaf": min_leaf,
              "verbose": -1, "seed": seed, "deterministic": True, "num_threads": 2}
    ds = lgb.Dataset(np.asarray(X, dtype=np.float64), label=target, categorical_feature=cat, free_raw_data=True)
    booster = lgb.train(params, ds, num_boost_round=rounds)
    seen = Counter(s for g in tr for _, s, _ in g["items"])
    ranker = Ranker(booster, vocab, {"groups": len(tr), "examples": len(X), "heldout_groups": len(te),
                                     "sources": dict(sorted(seen.items()))})
    if te:
        ranker.meta["heldout"] = recall_at(te, ranker.group_scores)
        ranker.meta["heldout_fixed"] = recall_at(te, source_order_scores)
    return ranker


class Ranker:
    """A trained ranker: ``scores(state, depth, tactics, sources)``, higher is better."""

    def __init__(self, booster, vocab: Vocab, meta: dict | None = None):
        self.booster, self.vocab, self.meta = booster, vocab, meta or {}
        self.scored = 0

    def scores(self, goals: Sequence[Goal], depth: int, tactics: Sequence[str], sources: Sequence[str]) -> list[float]:
        if not tactics:
            return []
        import numpy as np
        X = np.asarray(rows_for(goals, depth, tactics, sources, self.vocab), dtype=np.float64)
        self.scored += len(tactics)
        return [float(v) for v in self.booster.predict(X, num_threads=1, raw_score=True)]

    def group_scores(self, g) -> list[float]:
        return self.scores(g["goals"], g["depth"], [t for t, _, _ in g["items"]], [s for _, s, _ in g["items"]])

    def save(self, path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps({"version": VERSION, "vocab": self.vocab.tables, "meta": self.meta,
                                   "model": self.booster.model_to_string()}))
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path) -> "Ranker":
        import lightgbm as lgb
        try:
            d = json.loads(Path(path).read_text())
        except FileNotFoundError:
            raise RankerError(f"{path}: no ranker file") from None
        except (OSError, ValueError) as e:
            raise RankerError(f"{path}: not a ranker file ({str(e).splitlines()[0][:120]})") from None
        if not isinstance(d, dict) or d.get("version") != VERSION:
            raise RankerError(f"{path}: stale ranker (feature version {d.get('version') if isinstance(d, dict) else '?'}, "
                              f"expected {VERSION}): retrain it (prover rank train)")
        try:
            booster = lgb.Booster(model_str=d["model"])
        except Exception as e:  # LightGBM's own error types
            raise RankerError(f"{path}: unreadable ranker model ({str(e).splitlines()[0][:120]})") from None
        return cls(booster, Vocab(d["vocab"]), d.get("meta", {}))


# -- the policy wrapper ----------------------------------------------------------------------
def _log_softmax(xs: Sequence[float]) -> list[float]:
    m = max(xs)
    z = m + math.log(sum(math.exp(x - m) for x in xs))
    return [x - z for x in xs]


def _log_sigmoid(x: float) -> float:
    return -math.log1p(math.exp(-x)) if x > -30 else x


def _hash01(*parts) -> float:
    h = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(h, "little") / 2 ** 64


class RankedPolicy:
    """Any policy's candidates, reordered: ``learned`` (a :class:`Ranker`), ``random`` (a
    hash of the seed, the state and the tactic: the same order every run) or ``fixed`` (the
    policy's own order). Every candidate keeps its source (``Candidate.source``)."""

    def __init__(self, inner, mode: str = "learned", ranker: Ranker | None = None, seed: int = 0):
        if mode not in MODES:
            raise ValueError(f"unknown ranking {mode!r} (expected {', '.join(MODES)})")
        self.inner, self.mode, self.ranker, self.seed = inner, mode, ranker, seed
        if mode == "learned" and ranker is None:
            self.mode = "fixed"
        self.name = inner.name
        self.default_k = getattr(inner, "default_k", None)
        self.sources = getattr(inner, "sources", [])
        self.ranks_by_depth = self.mode == "learned"  # the search passes each node's depth

    def begin(self, problem) -> None:
        begin = getattr(self.inner, "begin", None)
        if begin is not None:
            begin(problem)

    def _attribute(self, state: State, cands: list[Candidate]) -> list[Candidate]:
        if all(c.source for c in cands):
            return cands
        from prover.policy.fixed import grouped
        where = {t: src.name for src, g in zip(self.sources, grouped(self.sources, state)) for t in g}
        return [c if c.source else Candidate(c.tactic, c.logprob, where.get(c.tactic, "model")) for c in cands]

    def order(self, state: State, cands: list[Candidate], depth: int = 0) -> list[Candidate]:
        if self.mode == "fixed" or len(cands) < 2:
            return cands
        cands = self._attribute(state, cands)
        if self.mode == "random":
            scores = [_hash01(self.seed, state.id, c.tactic) * 10 for c in cands]
        else:
            scores = self.ranker.scores(state.goals, depth, [c.tactic for c in cands], [c.source for c in cands])
        lps = _log_softmax(scores) if self.mode == "random" else [_log_sigmoid(x) for x in scores]
        ranked = sorted(zip(lps, range(len(cands))), key=lambda x: (-x[0], x[1]))
        out = [Candidate(cands[i].tactic, lp, cands[i].source) for lp, i in ranked]
        return self._explore(out, cands) if self.mode == "learned" else out

    def _explore(self, ranked: list[Candidate], given: list[Candidate]) -> list[Candidate]:
        """``ranked`` with the first candidate (in the sources' order) of each source the ranker
        has no training example of moved to place ``EXPLORE_AT``, taking that place's score.
        A ranker file without per-source counts (older) explores nothing."""
        seen = self.ranker.meta.get("sources")
        if not seen:
            return ranked
        firsts, done = [], set()
        for c in given:
            if c.source and c.source not in seen and c.source not in done:
                done.add(c.source)
                firsts.append(c.tactic)
        if not firsts:
            return ranked
        moved = [c for c in ranked if c.tactic in firsts]
        rest = [c for c in ranked if c.tactic not in firsts]
        at = min(EXPLORE_AT, len(rest))
        lps = [c.logprob for c in ranked]
        out = rest[:at] + moved + rest[at:]
        return [Candidate(c.tactic, lps[i], c.source) for i, c in enumerate(out)]

    def propose(self, states: Sequence[State], k: int | None = None, depths: Sequence[int] | None = None):
        out = self.inner.propose(states, self.default_k)
        depths = depths or [0] * len(states)
        return [self.order(s, list(c), d) for s, c, d in zip(states, out, depths)]

    def widen(self, state: State, page: int, tried: set[str]) -> list[Candidate]:
        widen = getattr(self.inner, "widen", None)
        return self.order(state, list(widen(state, page, tried))) if widen is not None else []


def load_ranked(inner, ranker: str | None, seed: int = 0):
    """``inner`` wrapped by the ranking ``ranker`` names: ``random``, ``fixed`` or a ranker
    file; a file that cannot be used is one line on stderr and the fixed order."""
    if not ranker or ranker == "fixed":
        return RankedPolicy(inner, "fixed")
    if ranker == "random":
        return RankedPolicy(inner, "random", seed=seed)
    try:
        return RankedPolicy(inner, "learned", Ranker.load(ranker), seed=seed)
    except RankerError as e:
        print(f"warning: {e}; candidates in the sources' fixed order", file=sys.stderr)
        return RankedPolicy(inner, "fixed")
