"""What a run reports: ``rounds.csv`` (one row per round) and ``progress.png``.

Why a module of its own: the columns are the run's public record (``docs/results.md`` quotes
them), and both files are rewritten whole from the database's rounds at every round and on
resume, so a kill mid-write leaves the previous file, never a half row.
"""
from __future__ import annotations

import csv
import os
from pathlib import Path

ROUND_FIELDS = ["round", "valid_proved", "pool_size", "test_proved", "test_size", "menu_baseline_test",
                "new_proofs", "training_pairs", "train_seconds", "search_seconds", "expansions_per_second",
                "budget_unsolved", "budget_solved",
                # where the round's training pairs came from (distinct pairs per source)
                "pairs_corpus", "pairs_proofs", "pairs_hindsight", "pairs_conjectures", "pairs_statements",
                # self-play: hindsight lemmas checked/accepted before this round's training,
                # conjectures of this round (proposed, elaborated, trivial, kept, proved)
                "hindsight_checked", "hindsight_accepted", "conj_proposed", "conj_elaborated",
                "conj_trivial", "conj_easy", "conj_kept", "conj_proved", "selfplay_seconds",
                # distinct verified pairs first found this round, by source (prover.loop.compare)
                "new_pairs", "new_pairs_proof", "new_pairs_hindsight", "new_pairs_conjecture",
                # the candidate budget: mean prover tries per evaluated problem; the learned ranker's
                # held-out recall of a proof-path candidate in its top N (N: search.tries, else 8)
                "tries_per_problem", "ranker_recall",
                # inductive (train on the pool, evaluate on the evaluation split) or transductive
                # (iterate on the target problems themselves: valid_proved is the target proved)
                "mode"]


def write_rounds_csv(rows: list[dict], path: Path) -> None:
    """``rounds.csv`` written whole (a temporary file, then a rename)."""
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=ROUND_FIELDS, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, path)


def pair_columns(sources: dict) -> dict:
    return {"corpus": sources.get("corpus", 0), "proofs": sources.get("proof", 0),
            "hindsight": sources.get("hindsight", 0), "conjectures": sources.get("conjecture", 0),
            "statements": sources.get("statement", 0)}


def plot_progress(rows: list[dict], baseline: int, path: Path, title: str = ""):
    """Left: proof rates per round (pool cumulative, test, the menu line). Right: where each
    round's training pairs came from (stacked), and the round's kept conjectures."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rounds = [r["round"] for r in rows]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4))
    transductive = rows[-1].get("mode") == "transductive"
    ax.plot(rounds, [100 * r["valid_proved"] / max(1, r["pool_size"]) for r in rows], "o-",
            label="target (transductive, cumulative)" if transductive else "valid (training pool, cumulative)")
    if rows[0]["test_size"]:  # a transductive run has no evaluation split
        ax.plot(rounds, [100 * r["test_proved"] / max(1, r["test_size"]) for r in rows], "s-",
                label="test (the round's policy)")
        ax.axhline(100 * baseline / max(1, rows[0]["test_size"]), color="gray", ls="--",
                   label=f"menu baseline, test ({baseline}/{rows[0]['test_size']})")
    ax.set_xlabel("round")
    ax.set_ylabel("proof rate (%)")
    ax.set_xticks(rounds)
    ax.set_title(f"expert iteration: {title}")
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    bottom = [0] * len(rows)
    new = all("new_pairs" in r for r in rows)  # older runs' rows: the training set's pairs instead
    cols = (("new_pairs_proof", "pool proofs"), ("new_pairs_hindsight", "hindsight"),
            ("new_pairs_conjecture", "conjectures")) if new else (
           ("pairs_proofs", "pool proofs"), ("pairs_hindsight", "hindsight"), ("pairs_conjectures", "conjectures"))
    for col, label in cols:
        vals = [int(r.get(col) or 0) for r in rows]
        bx.bar(rounds, vals, bottom=bottom, label=label)
        bottom = [b + v for b, v in zip(bottom, vals)]
    bx.set_xlabel("round")
    bx.set_ylabel("new distinct verified pairs" if new else "distinct verified training pairs (corpus not shown)")
    bx.set_xticks(rounds)
    bx.set_title("new verified data per round")
    cx = bx.twinx()
    cx.plot(rounds, [int(r.get("conj_kept") or 0) for r in rows], "k^--", label="conjectures kept")
    cx.set_ylabel("conjectures kept")
    h1, l1 = bx.get_legend_handles_labels()
    h2, l2 = cx.get_legend_handles_labels()
    bx.legend(h1 + h2, l1 + l2, loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
