"""``prover sample``: the tactic model's candidates for one goal text, with their
log-probabilities (what the search would be offered at that state)."""
from __future__ import annotations

import sys

from prover.cli.common import die


def cmd_sample(args) -> int:
    from prover.model import ModelError
    from prover.policy.model import load_policy
    goals = sys.stdin.read() if args.goals == "-" else args.goals
    if not goals.strip():
        return die("empty goals")
    try:
        policy = load_policy(args.model, k=args.k, mode=args.mode, temperature=args.temperature,
                             max_new_tokens=args.max_new_tokens, seed=args.seed)
    except (ModelError, ValueError) as e:
        return die(str(e))
    for c in policy.propose_goals([goals.strip("\n")], args.k)[0]:
        print(f"{c.logprob:9.3f}  {c.tactic}")
    return 0


def register(sub) -> None:
    s = sub.add_parser("sample", help="print the model's candidate tactics for a goal text")
    s.add_argument("--model", required=True, help="model directory")
    s.add_argument("--goals", required=True, help="goals text as the search prints it (- reads stdin)")
    s.add_argument("-k", type=int, default=8)
    s.add_argument("--mode", default="beam", choices=["beam", "sample"])
    s.add_argument("--temperature", type=float, default=1.0)
    s.add_argument("--max-new-tokens", type=int, default=64)
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(func=cmd_sample)
