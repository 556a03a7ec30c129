"""``prover train``: train (or fine-tune) the tactic model.

``train`` re-run with the same ``--out`` resumes from the latest checkpoint there. Bad
input (a missing data or config file, a malformed line, a bad model directory) is one
line ``error: ...`` on stderr and exit code 2.
"""
from __future__ import annotations

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
        if args.checkpoint:
            cfg = replace(cfg, model=replace(cfg.model, checkpoint=args.checkpoint))
        if args.lora_rank is not None:
            cfg = replace(cfg, lora_rank=args.lora_rank)
        m = train(args.data, args.out, cfg, init=args.init, progress=not args.quiet)
    except (ModelError, FileNotFoundError, ValueError) as e:
        return die(str(e))
    if m:
        parts = [f"trained {m['steps']} steps ({m['params'] / 1e6:.2f}M params) into {args.out}"]
        if m.get("heldout_loss") is not None:
            parts.append(f"held-out loss {m['heldout_loss']:.3f}")
        if m.get("top1") is not None:
            parts.append(f"top-1 {m['top1']:.2f}, top-{m['k']} {m['topk']:.2f}")
        if m.get("lora"):
            parts.append(f"LoRA rank {m['lora']['rank']}: {m['trained_params'] / 1e6:.2f}M weights trained, "
                         f"merged (the adapter in {Path(args.out) / 'adapter'})")
        print("; ".join(parts))
    return 0


def register(sub) -> None:
    """Add the ``train`` subcommand to an argparse subparsers object."""
    t = sub.add_parser("train", help="train (or fine-tune) the tactic model on goals/tactic JSONL")
    t.add_argument("--data", nargs="+", required=True, help="JSONL files, one {goals, tactic} object a line")
    t.add_argument("--out", required=True, help="model directory (re-running resumes its checkpoints)")
    t.add_argument("--config", default=str(DEFAULT_CONFIG),
                   help="train config JSON (default: data/configs/model_default.json, the model `make iterate` "
                        "trains in round 0; data/configs/model_large.json is a 5.9M-parameter one for longer runs)")
    t.add_argument("--init", default=None, help="fine-tune this model directory (keeps its tokenizer)")
    t.add_argument("--checkpoint", default=None, metavar="DIR",
                   help="start from this Hugging Face causal LM directory (its tokenizer kept, the prompt tags added)")
    t.add_argument("--lora-rank", type=int, default=None, metavar="R",
                   help="train LoRA adapters of rank R (peft), the base frozen; 0: full fine-tuning (default: the config's)")
    t.add_argument("--steps", type=int, default=None, help="override the config's steps")
    t.add_argument("--heldout", default=None, help="held-out JSONL (default: part of the training data)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.set_defaults(func=cmd_train)
