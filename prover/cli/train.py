"""``prover train`` and ``prover sample``: train the tactic model, and ask it for tactics.

``train`` re-run with the same ``--out`` resumes from the latest checkpoint there. Bad
input (a missing data or config file, a malformed line, a bad model directory) is one
line ``error: ...`` on stderr and exit code 2.
"""
from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from prover.cli.common import die

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent.parent / "data" / "configs" / "model_default.json"


def cmd_train(args) -> int:
    from prover.model import ModelError
    from prover.train import TrainConfig, train
    try:
        cfg = TrainConfig.from_json(args.config)
        if args.steps is not None:
            cfg = replace(cfg, steps=args.steps)
        if args.heldout:
            cfg = replace(cfg, heldout=args.heldout)
        m = train(args.data, args.out, cfg, init=args.init, progress=not args.quiet)
    except (ModelError, FileNotFoundError, ValueError) as e:
        return die(str(e))
    if m:
        parts = [f"trained {m['steps']} steps ({m['params'] / 1e6:.2f}M params) into {args.out}"]
        if m.get("heldout_loss") is not None:
            parts.append(f"held-out loss {m['heldout_loss']:.3f}")
        if m.get("top1") is not None:
            parts.append(f"top-1 {m['top1']:.2f}, top-{m['k']} {m['topk']:.2f}")
        print("; ".join(parts))
    return 0


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
    """Add the ``train`` and ``sample`` subcommands to an argparse subparsers object."""
    t = sub.add_parser("train", help="train (or fine-tune) the tactic model on goals/tactic JSONL")
    t.add_argument("--data", nargs="+", required=True, help="JSONL files, one {goals, tactic} object a line")
    t.add_argument("--out", required=True, help="model directory (re-running resumes its checkpoints)")
    t.add_argument("--config", default=str(DEFAULT_CONFIG),
                   help="train config JSON (default: data/configs/model_default.json, the model `make iterate` "
                        "trains in round 0; data/configs/model_large.json is a 5.9M-parameter one for longer runs)")
    t.add_argument("--init", default=None, help="fine-tune this model directory (keeps its tokenizer)")
    t.add_argument("--steps", type=int, default=None, help="override the config's steps")
    t.add_argument("--heldout", default=None, help="held-out JSONL (default: part of the training data)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.set_defaults(func=cmd_train)

    s = sub.add_parser("sample", help="print the model's candidate tactics for a goal text")
    s.add_argument("--model", required=True, help="model directory")
    s.add_argument("--goals", required=True, help="goals text as the search prints it (- reads stdin)")
    s.add_argument("-k", type=int, default=8)
    s.add_argument("--mode", default="beam", choices=["beam", "sample"])
    s.add_argument("--temperature", type=float, default=1.0)
    s.add_argument("--max-new-tokens", type=int, default=64)
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(func=cmd_sample)
