"""Problems proved per round by each round's model, evaluated again afterwards under one
budget (issue #12): a table and a plot from one evaluation database per (arm, round).

The loop's own per-round evaluation shares the run's failure cache and its budget; this
reads evaluations made after the fact, each in a fresh database, so every round's model
meets the same problems, budget and prelude. Each database holds one ``prover eval`` run.

    python bench/round_curve.py --arm "self-play=runs/budget16/long-r{r}.db" \\
        --arm "no self-play=runs/budget16/long-noselfplay-r{r}.db" --rounds 6 \\
        --baseline "menu + templates=runs/budget16/menu-templates.db" --out data/results/budget16_rounds
"""
from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path


def proved(db: Path) -> set[str] | None:
    """The problems with an accepted proof in ``db``, or None when it does not exist."""
    if not db.exists():
        return None
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
        return {r[0] for r in c.execute("SELECT DISTINCT problem FROM proofs WHERE accepted = 1")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arm", action="append", required=True, metavar="NAME=PATTERN",
                    help="an arm and its databases, {r} standing for the round")
    ap.add_argument("--rounds", type=int, required=True)
    ap.add_argument("--baseline", default=None, metavar="NAME=DB", help="a policy without a model")
    ap.add_argument("--out", required=True, help="writes OUT.md and OUT.png")
    args = ap.parse_args()
    arms = [a.split("=", 1) for a in args.arm]
    table = {name: [proved(Path(pattern.format(r=r))) for r in range(args.rounds)] for name, pattern in arms}
    base_name, base = (args.baseline.split("=", 1) + [None])[:2] if args.baseline else (None, None)
    base_set = proved(Path(base)) if base else None
    lines = ["| round | " + " | ".join(table) + " |", "|---" * (len(table) + 1) + "|"]
    for r in range(args.rounds):
        cells = ["–" if table[n][r] is None else str(len(table[n][r])) for n in table]
        lines.append(f"| {r} | " + " | ".join(cells) + " |")
    if base_set is not None:
        lines.append(f"| {base_name} (no model) | " + " | ".join(str(len(base_set)) for _ in table) + " |")
    text = "\n".join(lines) + "\n"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out + ".md").write_text(text)
    print(text, end="")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for name, sets in table.items():
        pts = [(r, len(s)) for r, s in enumerate(sets) if s is not None]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=name)
    if base_set is not None:
        ax.axhline(len(base_set), color="grey", linestyle="--", label=f"{base_name} (no model)")
    ax.set_xlabel("round of the model")
    ax.set_ylabel("problems proved")
    ax.set_xticks(range(args.rounds))
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(args.out + ".png", dpi=120)


if __name__ == "__main__":
    main()
