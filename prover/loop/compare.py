"""Rounds of runs side by side, with the new verified data each round produced.

Why: the loop is judged on whether the proof rate keeps rising round after round, and self-play
on whether it brings more verified data than plain expert iteration. ``rounds.csv`` says how
many pairs each round *trained on* (cumulative); this module says how many distinct verified
(goals, tactic) pairs each round *found* for the first time, by source, straight from the proof
database, so an ablation (``--no-selfplay``, same seeds and budgets) reads as one table and one
plot: ``prover db compare runs/long runs/long-noselfplay``.

A pair counts in the round of the attempt whose accepted proof first contained it (the menu
seed's proofs count in round 0), or, for a hindsight lemma, in the round that verified it.
Evaluation problems (those searched under the ``eval``, ``eval:...`` and ``menu-baseline``
labels) never count: they never train.
"""
from __future__ import annotations

import json
from pathlib import Path

from prover.db import DBError, ProofDB, queries

SOURCES = ("proof", "hindsight", "conjecture")


def open_run(path: str | Path) -> ProofDB:
    """A run directory (``runs/NAME``) or its ``proofs.db``; DBError when neither."""
    p = Path(path)
    if p.is_dir():
        p = p / "proofs.db"
    if not p.exists():
        raise DBError(f"{path}: no proof database (expected a run directory with proofs.db, or a .db file)")
    return ProofDB(p, create=False)


def new_pairs_by_round(db: ProofDB) -> dict[int, dict[str, int]]:
    """{round: {source: distinct verified pairs first found in that round}}."""
    eval_keys = queries.evaluated_problems(db)
    conj_keys = queries.conjecture_keys(db)
    seen: set[tuple[str, str]] = set()
    out: dict[int, dict[str, int]] = {}

    def add(rnd: int, source: str, steps) -> None:
        steps = steps if isinstance(steps, list) else json.loads(steps or "[]")
        for goals, tactic in steps:
            if (goals, tactic) not in seen:
                seen.add((goals, tactic))
                counts = out.setdefault(int(rnd), dict.fromkeys(SOURCES, 0))
                counts[source] += 1

    found = [(r["round"], r["id"], "conjecture" if r["problem"] in conj_keys else "proof", r["steps"])
             for r in queries.training_proofs_by_round(db)
             if r["problem"] not in eval_keys]
    found += [(r["round"], 0, "hindsight", r["steps"]) for r in db.hindsight_rows(accepted_only=True)
              if r["problem"] not in eval_keys]
    for rnd, _, source, steps in sorted(found, key=lambda t: (t[0], t[1])):
        add(rnd, source, steps)
    return out


def pair_columns(counts: dict[str, int] | None) -> dict[str, int]:
    """``new_pairs`` and ``new_pairs_<source>`` of one round's counts (None: none found)."""
    counts = counts or dict.fromkeys(SOURCES, 0)
    return {"new_pairs": sum(counts.values()), **{f"new_pairs_{s}": counts[s] for s in SOURCES}}


def round_rows(db: ProofDB) -> list[dict]:
    """The run's recorded rounds (the latest record of each round number), each with
    ``new_pairs`` and ``new_pairs_<source>`` added, then a round still under way (verified
    pairs found, no round recorded yet) with ``in_progress`` set and its new pairs so far."""
    latest: dict[int, dict] = {}
    for r in db.rounds():
        m = r["metrics"] if isinstance(r["metrics"], dict) else json.loads(r["metrics"])
        latest[int(m.get("round", r["round"]))] = m
    new = new_pairs_by_round(db)
    rows = []
    for rnd in sorted(set(latest) | {r for r in new if r > max(latest, default=-1)}):
        row = dict(latest.get(rnd) or {"round": rnd, "in_progress": True})
        row.update(pair_columns(new.get(rnd)))
        rows.append(row)
    return rows


def table(runs: dict[str, list[dict]]) -> str:
    """A markdown table: one line per round, a column group per run."""
    names = list(runs)
    head = ["round"]
    for n in names:
        head += [f"{n}: new pairs (proof/hindsight/conj.)", f"{n}: pool proved", f"{n}: test proved"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    n_rounds = max((len(r) for r in runs.values()), default=0)
    for i in range(n_rounds):
        cells = [str(i) + (" (under way)" if any(i < len(r) and r[i].get("in_progress") for r in runs.values())
                           else "")]
        for n in names:
            rows = runs[n]
            if i < len(rows):
                r = rows[i]
                cells += [f"{r['new_pairs']} ({r['new_pairs_proof']}/{r['new_pairs_hindsight']}/"
                          f"{r['new_pairs_conjecture']})",
                          f"{r.get('valid_proved', '-')}/{r.get('pool_size', '-')}",
                          f"{r.get('test_proved', '-')}/{r.get('test_size', '-')}"]
            else:
                cells += ["-", "-", "-"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(runs: dict[str, list[dict]], path: str | Path) -> None:
    """Left: test proved per round, a line per run (with the menu baseline of the first).
    Right: new verified pairs per round, a bar group per run."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4))
    width = 0.8 / max(1, len(runs))
    for i, (name, rows) in enumerate(runs.items()):
        xs = [r["round"] for r in rows]
        done = [r for r in rows if not r.get("in_progress")]
        ax.plot([r["round"] for r in done], [r.get("test_proved", 0) for r in done], "o-", label=f"{name}: test proved")
        ax.plot([r["round"] for r in done], [r.get("valid_proved", 0) for r in done], "s:",
                label=f"{name}: pool proved")
        bx.bar([x + (i - (len(runs) - 1) / 2) * width for x in xs], [r["new_pairs"] for r in rows], width, label=name)
    first = next(iter(runs.values()), [])
    if first and first[0].get("menu_baseline_test") is not None:
        ax.axhline(first[0]["menu_baseline_test"], color="gray", ls="--", label="menu baseline (test)")
    rounds = sorted({r["round"] for rows in runs.values() for r in rows})
    for axis in (ax, bx):
        axis.set_xticks(rounds)
    ax.set_xlabel("round")
    ax.set_ylabel("problems proved")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    bx.set_xlabel("round")
    bx.set_ylabel("new verified (goals, tactic) pairs")
    bx.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
