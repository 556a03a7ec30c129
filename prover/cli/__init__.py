"""The ``prover`` command: one entry point for checking, proving, searching and inspecting.

It also iterates, traces and trains. Each subcommand lives in its own module here and only
parses arguments and prints; the work is done by the library (``prover.search.runner``,
``prover.loop``...).

Every subcommand turns bad input (a missing file, a malformed problem, a corrupt
database) into one line on stderr and exit code 2, never a traceback.
"""
from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    from prover.cli import check, db, eval, iterate, prove, rank, sample, search, trace, train, value
    ap = argparse.ArgumentParser(prog="prover", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for module in (check, prove, search, iterate, eval, trace, train, sample, value, rank, db):
        module.register(sub)
    return ap


def main(argv=None) -> int:
    from prover.cli.common import die
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return die("interrupted", 130)


if __name__ == "__main__":
    sys.exit(main())
