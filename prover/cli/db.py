"""The ``db`` subcommand: look into a proof database from the shell.

``stats`` prints proof rates per split and round, ``proofs`` prints accepted proofs as
files the proof assistant can check, ``tree`` prints one attempt's search tree and
``export --jsonl`` writes the training-ready proofs, and ``compare`` puts the rounds of several
runs side by side (``prover/loop/compare.py``). Every handler returns an exit code;
database problems print one ``error: ...`` line on stderr and return 2.
"""
from __future__ import annotations

import argparse
import sys
from contextlib import nullcontext
from pathlib import Path

from prover import backends
from prover.db import DBError, ProofDB
from prover.db.render import proof_file, tree_text

EXIT_ERROR = 2


def register(subparsers) -> argparse.ArgumentParser:
    """Add ``db {stats,proofs,tree,export}`` to an argparse ``subparsers`` object."""
    parser = subparsers.add_parser("db", help="inspect a proof database",
                                   description="Inspect a proof database (runs/NAME/proofs.db).")
    commands = parser.add_subparsers(dest="db_command", metavar="COMMAND", required=True)

    stats = commands.add_parser("stats", help="attempted and proved problems per split and round")
    stats.add_argument("db", metavar="DB")
    stats.set_defaults(func=cmd_stats)

    proofs = commands.add_parser("proofs", help="print accepted proofs as checkable files")
    proofs.add_argument("db", metavar="DB")
    proofs.add_argument("--problem", metavar="NAME", help="problem name or key (split/name)")
    proofs.add_argument("--all", action="store_true", help="include rejected proofs")
    proofs.add_argument("--shortest", action="store_true",
                        help="one proof per problem, the shortest (so one problem's output is one checkable file)")
    proofs.add_argument("--out", metavar="DIR", help="write each proof to its own file in DIR "
                        "(NAME.v with --shortest, else NAME.ATTEMPT.v) instead of printing them")
    proofs.set_defaults(func=cmd_proofs)

    tree = commands.add_parser("tree", help="print one attempt's search tree")
    tree.add_argument("db", metavar="DB")
    tree.add_argument("attempt", metavar="ATTEMPT", type=int, help="attempt id")
    tree.set_defaults(func=cmd_tree)

    export = commands.add_parser("export", help="export accepted proofs")
    export.add_argument("db", metavar="DB")
    export.add_argument("--jsonl", action="store_true", required=True,
                        help="one JSON object per accepted proof (the only format)")
    export.add_argument("--out", metavar="FILE", help="output file (default: stdout)")
    export.set_defaults(func=cmd_export)

    compare = commands.add_parser("compare", help="rounds of runs side by side, with the new verified "
                                  "pairs each round found (an ablation in one table)")
    compare.add_argument("runs", metavar="RUN", nargs="+", help="run directories (runs/NAME) or proofs.db files")
    compare.add_argument("--plot", metavar="PNG", help="also plot test proved and new pairs per round")
    compare.set_defaults(func=cmd_compare)
    return parser


def _reporting_errors(handler):
    """Run ``handler(args, db)`` on the opened database; DBError -> one line, exit 2."""
    def run(args) -> int:
        try:
            with ProofDB(args.db, create=False) as db:
                return handler(args, db)
        except (DBError, OSError) as e:
            print(f"error: {' '.join(str(e).split())}", file=sys.stderr)
            return EXIT_ERROR
    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


@_reporting_errors
def cmd_stats(args, db: ProofDB) -> int:
    rows = db.stats()
    if not rows:
        print("no attempts recorded")
        return 0
    table = [("split", "round", "policy", "attempted", "proved", "rate", "mean exp", "mean s")]
    for r in rows:
        rate = r["proved"] / r["attempted"] if r["attempted"] else 0.0
        table.append((r["split"] or "-", str(r["round"]), r["policy"] or "-", str(r["attempted"]),
                      str(r["proved"]), f"{rate:.1%}", f"{r['mean_expansions'] or 0:.1f}",
                      f"{r['mean_seconds'] or 0:.1f}"))
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(cell.rjust(w) if i >= 3 else cell.ljust(w)
                        for i, (cell, w) in enumerate(zip(row, widths))).rstrip())
    return 0


@_reporting_errors
def cmd_proofs(args, db: ProofDB) -> int:
    rows = db.proofs(problem=args.problem, accepted_only=not args.all)
    if not rows:
        what = f" for {args.problem}" if args.problem else ""
        print(f"no {'' if args.all else 'accepted '}proofs{what}", file=sys.stderr)
        return 0
    if args.shortest:
        best: dict[str, dict] = {}
        for row in rows:  # the shortest, then the first found
            if row["problem"] not in best or (row["length"] or 0) < (best[row["problem"]]["length"] or 0):
                best[row["problem"]] = row
        rows = list(best.values())
    problems: dict[str, dict | None] = {}
    out = Path(args.out) if args.out else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    for i, row in enumerate(rows):
        if row["problem"] not in problems:
            problems[row["problem"]] = db.problem(row["problem"])
        text = proof_file(problems[row["problem"]], row)
        if out is not None:
            name = row["problem"].split("/")[-1]
            prob = problems[row["problem"]] or {}
            ext = Path(prob.get("path") or "").suffix or backends.get(prob.get("backend") or backends.DEFAULT).suffix
            (out / (f"{name}{ext}" if args.shortest else f"{name}.{row['attempt_id']}{ext}")).write_text(text)
            continue
        if i:
            print()
        print(text, end="")
    if out is not None:
        print(f"{len(rows)} proof files -> {out}", file=sys.stderr)
    return 0


@_reporting_errors
def cmd_tree(args, db: ProofDB) -> int:
    print(tree_text(db, args.attempt), end="")
    return 0


@_reporting_errors
def cmd_export(args, db: ProofDB) -> int:
    target = open(args.out, "w", encoding="utf-8") if args.out else nullcontext(sys.stdout)
    with target as fp:
        count = db.export_jsonl(fp)
    if args.out:
        print(f"{count} proofs -> {args.out}", file=sys.stderr)
    return 0


def cmd_compare(args) -> int:
    from pathlib import Path

    from prover.loop import compare
    runs = {}
    try:
        for path in args.runs:
            with compare.open_run(path) as db:
                name = Path(path).name if Path(path).is_dir() else Path(path).parent.name
                runs[name if name not in runs else path] = compare.round_rows(db)
    except (DBError, OSError) as e:
        print(f"error: {' '.join(str(e).split())}", file=sys.stderr)
        return EXIT_ERROR
    print(compare.table(runs))
    if args.plot:
        compare.plot(runs, args.plot)
        print(f"plot -> {args.plot}", file=sys.stderr)
    return 0
