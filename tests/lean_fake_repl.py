"""A stand-in for the Lean REPL process that replays one recorded transcript.

It reads requests the way the REPL does (lines up to a blank line), checks each one
against the next recorded request (same JSON value) and writes the recorded answer
verbatim followed by a blank line. It knows nothing of Lean: a request that differs
from the recording makes it exit with code 2 and say so on stderr. With ``--keyed`` it
answers any recorded request in any order (a search branches: it tries the recorded
tactics of one proof state, then another's), still only with Lean's recorded answers.

Fault injection for the driver's recovery paths (each fires in the first process only,
using ``--marker`` as the "already fired" flag): ``--hang-at N`` sleeps instead of
answering request N (0-based), ``--crash-at N`` exits on it. ``--allocate-mb M`` holds M
MiB of resident memory; ``--noise`` prints a non-JSON line before every answer.

Usage: lean_fake_repl.py TRANSCRIPT_BASE [options]  (BASE: path without .in)
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lean_transcripts import load  # noqa: E402


def read_query() -> str | None:
    lines = []
    while True:
        line = sys.stdin.readline()
        if not line:
            return "".join(lines) if lines else None
        if not line.strip():
            if lines:
                return "".join(lines)
            continue
        lines.append(line.rstrip())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("--hang-at", type=int)
    ap.add_argument("--crash-at", type=int)
    ap.add_argument("--marker")
    ap.add_argument("--allocate-mb", type=int, default=0)
    ap.add_argument("--noise", action="store_true")
    ap.add_argument("--keyed", action="store_true",
                    help="answer any recorded request, in any order, keyed by its JSON (a command, or a proof "
                         "state and tactic): what a search that branches needs; an unrecorded one still exits 2")
    args = ap.parse_args()
    tr = load(args.base)
    answers = tr.answers or []
    ballast = bytearray(os.urandom(1)) * (args.allocate_mb << 20) if args.allocate_mb else None
    if ballast:
        for k in range(0, len(ballast), 4096):
            ballast[k] = 1
    first = not (args.marker and os.path.exists(args.marker))
    k = 0
    while True:
        query = read_query()
        if query is None:
            return 0
        got = json.loads(query, strict=False)
        if args.keyed:
            key = json.dumps(got, sort_keys=True, ensure_ascii=False)
            recorded = {json.dumps(r, sort_keys=True, ensure_ascii=False): a for r, a in zip(tr.requests, answers)}
            if key not in recorded:
                print(f"stand-in: no recorded answer for {query}", file=sys.stderr, flush=True)
                return 2
            sys.stdout.write(recorded[key][1] + "\n\n")
            sys.stdout.flush()
            continue
        if k >= len(tr.requests) or k >= len(answers):
            print(f"stand-in: request {k} beyond the recording: {query}", file=sys.stderr, flush=True)
            return 2
        if got != tr.requests[k]:
            print(f"stand-in: request {k} differs: expected {json.dumps(tr.requests[k], ensure_ascii=False)} "
                  f"got {query}", file=sys.stderr, flush=True)
            return 2
        if first and k in (args.hang_at, args.crash_at):
            if args.marker:
                open(args.marker, "w").close()
            if k == args.crash_at:
                print("stand-in: simulated crash (INTERNAL PANIC: out of memory)", file=sys.stderr, flush=True)
                os._exit(134)
            time.sleep(3600)
        if args.noise:
            sys.stdout.write("Processing incremental state [pos: 0..1]:\nnoise\n\n")
        sys.stdout.write(answers[k][1] + "\n\n")
        sys.stdout.flush()
        k += 1


if __name__ == "__main__":
    sys.exit(main())
