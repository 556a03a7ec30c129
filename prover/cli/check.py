"""``prover check``: the independent verdict on one complete proof file, by a fresh
proof-assistant process (and, on request, the backend's kernel checker); the only verdict
that counts a proof."""
from __future__ import annotations

from prover.cli.common import backend_arg, die


def cmd_check(args) -> int:
    from pathlib import Path

    from prover import backends
    from prover.problems import ProblemError
    if not Path(args.file).is_file():
        return die(f"{args.file}: no such file")
    backend = backends.get(args.backend)
    problem = None
    if args.problem:
        try:
            problem = backend.parse_problem(args.problem)
        except ProblemError as e:
            return die(str(e))
    try:
        v = backend.check_file(args.file, theorem=args.theorem, timeout=args.timeout, problem=problem,
                               second_opinion=args.second_opinion)
    except ValueError as e:
        return die(str(e))
    print(v.line())
    return 0 if v.accepted else 1


def register(sub) -> None:
    c = sub.add_parser("check", help="independent verdict on a complete proof file")
    c.add_argument("file")
    backend_arg(c)
    c.add_argument("--theorem", default=None, help="theorem name (default: named like the file, else the last)")
    c.add_argument("--problem", default=None, help="problem file: the proof file must state exactly this problem")
    c.add_argument("--timeout", type=float, default=300.0)
    c.add_argument("--second-opinion", action="store_true",
                   help="also re-check the compiled file with the backend's independent kernel checker "
                        "(Coq: coqchk, about 40 s for a file that loads Reals)")
    c.set_defaults(func=cmd_check)
