"""A round's training set: accepted proofs of the pool (shortest first), the self-play
shares, and the corpus mixed in, behind the firewall.

Why: what a model is trained on decides what the loop can learn, and it is also where an
evaluation problem could leak into training. Every function here raises
:class:`~prover.labels.LeakError` rather than let an evaluation problem, or a renamed copy of
its statement, through.
"""
from __future__ import annotations

import json
import random
import re
from pathlib import Path

from prover import backends
from prover.labels import LeakError
from prover.loop.config import ConfigError

SOURCES = ("corpus", "proof", "hindsight", "conjecture", "statement")  # statement: the ``written`` operator's


def build_training_set(db, pool_keys: set[str], eval_keys: set[str], per_problem: int,
                       conjecture_keys: set[str] = frozenset()) -> list[dict]:
    """(goals, tactic) pairs of accepted proofs of pool problems (source ``proof``) and of
    kept conjectures (source ``conjecture``): per problem its distinct proofs shortest first
    (at most ``per_problem``), duplicates removed. Raises LeakError if an evaluation problem
    is among them."""
    leaked = set(conjecture_keys) & eval_keys
    if leaked:
        raise LeakError(f"evaluation problems among the conjectures: {sorted(leaked)[:5]}")
    pool_keys = set(pool_keys) | set(conjecture_keys)
    rows = db.training_proofs()
    pairs, seen, per = [], set(), {}
    for r in rows:
        key = r["problem"]
        if key in eval_keys:
            if key in pool_keys:
                raise LeakError(f"{key} is both an evaluation and a training problem")
            continue  # evaluation proofs never train
        if key not in pool_keys:
            continue
        if r["proof"] in per.setdefault(key, set()) or len(per[key]) >= per_problem:
            continue
        per[key].add(r["proof"])
        steps = r["steps"] if isinstance(r["steps"], list) else json.loads(r["steps"] or "[]")
        for goals, tactic in steps:
            if (goals, tactic) not in seen:
                seen.add((goals, tactic))
                pairs.append({"goals": goals, "tactic": tactic, "problem": key,
                              "source": "conjecture" if key in conjecture_keys else "proof"})
    leaked = {p["problem"] for p in pairs} & eval_keys
    if leaked:
        raise LeakError(f"evaluation problems in a training set: {sorted(leaked)[:5]}")
    return pairs


def with_share(base: list[dict], extra: list[dict], share: float, seed: int) -> list[dict]:
    """``base`` plus ``extra`` (pairs not already in ``base``), ``extra`` making up about
    ``share`` of the result: sampled down when there are more, repeated when fewer."""
    have = {(p["goals"], p["tactic"]) for p in base}
    extra = [p for p in extra if (p["goals"], p["tactic"]) not in have]
    if not extra or share <= 0:
        return list(base)
    if not base:
        return list(extra)
    want = max(1, round(len(base) * share / (1 - share)))
    rng = random.Random(seed)
    if want <= len(extra):
        return list(base) + rng.sample(extra, want)
    return list(base) + extra * (want // len(extra)) + rng.sample(extra, want % len(extra))


def source_counts(data: list[dict]) -> dict[str, int]:
    """Distinct (goals, tactic) pairs of each source in a training set (corpus pairs carry
    no source)."""
    seen: dict[str, set] = {s: set() for s in SOURCES}
    for p in data:
        seen.setdefault(p.get("source", "corpus"), set()).add((p["goals"], p["tactic"]))
    return {s: len(v) for s, v in seen.items()}


def _norm(text: str) -> str:
    return " ".join(text.split())


def statement_signature(problem) -> str:
    """A problem's statement with its own name blanked out and whitespace normalised: a pool
    problem that renames an evaluation problem has the same signature."""
    return _norm(re.sub(rf"(?<![\w']){re.escape(problem.name)}(?![\w'])", "_", problem.statement))


def firewall_corpus(pairs: list[dict], eval_names: set[str], eval_goals: set[str]) -> tuple[list[dict], int]:
    """The corpus without every pair of a traced theorem that is an evaluation problem: named
    like one, or whose first goal is an evaluation problem's root goal (whitespace aside).
    Returns (kept pairs, theorems dropped)."""
    goals = {_norm(g) for g in eval_goals}
    bad = {(p.get("file"), p.get("theorem")) for p in pairs
           if p.get("theorem") in eval_names or (not p.get("step") and _norm(p.get("goals", "")) in goals)}
    return [p for p in pairs if (p.get("file"), p.get("theorem")) not in bad], len(bad)


def mix(proof_pairs: list[dict], corpus: list[dict], fraction: float, seed: int,
        min_corpus: int = 0) -> list[dict]:
    """Proof pairs and corpus pairs, the corpus making up ``fraction`` of the result.

    The corpus part is a sample of at least ``min_corpus`` pairs (so a round with few proofs
    does not forget the corpus); the proof pairs are repeated as often as needed to make up
    the rest (so a few hundred proofs are not drowned by a corpus a hundred times larger)."""
    rng = random.Random(seed)
    if not proof_pairs:
        return list(corpus)
    if fraction <= 0:  # no corpus asked for: the proofs alone
        return rng.sample(proof_pairs, len(proof_pairs))
    n_c = int(len(proof_pairs) * fraction / max(1e-9, 1 - fraction)) if fraction < 1 else len(corpus)
    sample = rng.sample(corpus, min(max(n_c, min_corpus), len(corpus)))
    repeat = 1
    if sample and fraction < 1:
        repeat = max(1, round(len(sample) * (1 - fraction) / (fraction * len(proof_pairs))))
    out = proof_pairs * repeat + sample
    rng.shuffle(out)
    return out


def write_round_data(exp, r: int, pool_keys: set[str], eval_keys: set[str], data_file: Path) -> None:
    """Round ``r``'s training set of experiment ``exp`` into ``data_file`` (written whole):
    the pool's accepted proofs and kept conjectures' (``build_training_set``), the self-play
    shares, and the corpus behind the firewall, mixed; LeakError if an evaluation problem is
    in it, ConfigError when there is nothing to train on."""
    proof_pairs = build_training_set(exp.db, pool_keys, eval_keys, exp.cfg.proofs_per_problem,
                                     conjecture_keys=exp.conjecture_keys(("proved", "kept")))
    if exp.selfplay.enabled and exp.selfplay.hindsight:
        from prover.selfplay import hindsight
        proof_pairs = with_share(proof_pairs, hindsight.pairs(exp.db, eval_keys),
                                 exp.selfplay.hindsight_share, exp.cfg.seed + r)
    if exp.writes_statements:
        from prover.selfplay import written
        style = backends.get(exp.cfg.backend).goal_style
        proof_pairs = with_share(proof_pairs, written.pairs(exp.db, eval_keys, style),
                                 exp.selfplay.statement_share, exp.cfg.seed + r)
    corpus, dropped = firewall_corpus(exp.corpus_pairs(), {k.split("/")[-1] for k in eval_keys},
                                      exp.db.root_goals(eval_keys))
    if dropped:
        exp.log(f"round {r}: {dropped} corpus theorems state an evaluation problem: left out")
    if r == 0:
        rng = random.Random(exp.cfg.seed)
        if exp.cfg.max_corpus_pairs and len(corpus) > exp.cfg.max_corpus_pairs:
            corpus = rng.sample(corpus, exp.cfg.max_corpus_pairs)
        data = mix(proof_pairs, corpus, 1 - exp.cfg.initial_proof_share, exp.cfg.seed,
                   len(corpus))
    else:
        data = mix(proof_pairs, corpus, exp.cfg.corpus_fraction, exp.cfg.seed + r,
                   exp.cfg.min_corpus_pairs)
    if not data:
        raise ConfigError(f"round {r}: no training data: no corpus at {exp.cfg.corpus} and "
                          f"no accepted proof in the pool yet (raise bootstrap_menu_expansions)")
    if any(p.get("problem") in eval_keys for p in data):
        raise LeakError("an evaluation problem reached a training set")
    data_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = data_file.with_suffix(".tmp")
    with tmp.open("w") as f:
        for p in data:
            f.write(json.dumps(p) + "\n")
    tmp.replace(data_file)
