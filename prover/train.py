"""Training the tactic model: supervised next-tactic prediction on (goals, tactic) pairs.

Read top to bottom, like nanoGPT: config, data, model, optimiser and schedule, the loop
(checkpoint, evaluate, log), the end (final model, metrics.json, loss.png). The same code
runs on a CPU, one GPU or several (``accelerate launch``); on a GPU the forward pass runs
in bf16 mixed precision. The model is built anew, fine-tuned from a model directory
(``init``), or started from a Hugging Face checkpoint (``model.checkpoint``); with
``lora_rank`` only LoRA adapters train (:mod:`prover.lora`; on a GPU the frozen base is
held in bf16), checkpoints hold the adapter, and the end writes the adapter to
``out_dir/adapter`` and the merged weights as the model directory.

Each example is ``prompt(goals) + target(tactic) + eos`` (see :mod:`prover.model`); the loss
counts only the target tokens. Batches are drawn from a seeded permutation per epoch and
indexed by the step number, so a run resumed from a checkpoint sees exactly the batches
the uninterrupted run would have. Re-running ``train`` with the same ``out_dir`` resumes
from the latest checkpoint in ``out_dir/checkpoints`` (model, optimizer, scheduler, RNG,
step and loss history); asking for more steps than a finished run had continues it.

``out_dir`` ends up a model directory (``prover.model.load(out_dir)``) holding also
``metrics.json`` and ``loss.png``.
"""
from __future__ import annotations

import json
import math
import random
from array import array
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from prover import lora
from prover.model import ModelConfig, TacticModel, check_keys, load, quiet
from prover.policy.repair import save_names


# ----------------------------------------------------------------------------- config
@dataclass
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)  # ignored when fine-tuning (init)
    steps: int | None = 2000      # optimizer steps; None: use epochs
    epochs: float | None = None   # passes over the training data (used when steps is None)
    batch_size: int = 16          # examples per step, all processes together
    lr: float = 1e-3
    min_lr_ratio: float = 0.1     # cosine decays to lr * min_lr_ratio
    warmup: int = 100             # linear warm-up steps
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    max_len: int = 512            # tokens per example (prompt clipped to fit)
    log_every: int = 10           # train-loss points in the history
    eval_every: int = 500
    save_every: int = 500
    keep_checkpoints: int = 2
    seed: int = 0
    heldout: str | None = None    # held-out JSONL; None: hold out part of the training data
    holdout: int = 200            # examples held out when heldout is None (at most 10% of the data)
    eval_examples: int = 256      # held-out examples for the loss
    eval_decode: int = 32         # held-out examples decoded for exact match
    eval_k: int = 8               # top-k via the sampler
    max_new_tokens: int = 48      # decoding limit during evaluation
    threads: int = 0              # CPU only: torch threads for this process (0: torch's default).
                                  # 1 is much faster on a CPU shared with other work (no spin-waiting)
    lora_rank: int = 0            # LoRA (peft) adapters of this rank, the base frozen; 0: full fine-tuning
    lora_alpha: float = 16.0      # LoRA scale numerator (the update is scaled by alpha / rank)
    lora_dropout: float = 0.0
    lora_targets: list[str] | None = None  # module names to adapt (None: every linear layer but the output)
    gradient_checkpointing: bool = False   # recompute activations in the backward pass: memory for time

    def __post_init__(self):
        if self.lora_rank < 0:
            raise ValueError(f"lora_rank must be 0 (full fine-tuning) or a rank (got {self.lora_rank})")

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        check_keys(cls, d, "train")
        d = dict(d)
        d["model"] = ModelConfig.from_dict(d.get("model", {}))
        return cls(**d)

    @classmethod
    def from_json(cls, path: str | Path) -> "TrainConfig":
        try:
            return cls.from_dict(json.loads(Path(path).read_text()))
        except FileNotFoundError:
            raise ValueError(f"{path}: no such config file") from None
        except (json.JSONDecodeError, TypeError, ValueError) as e:
            raise ValueError(f"{path}: bad train config: {' '.join(str(e).split())}") from None


# ----------------------------------------------------------------------------- data
def read_examples(data) -> list[dict]:
    """Examples from JSONL paths, or a list of dicts. Each needs string "goals" and "tactic"."""
    if not data:
        return []
    if isinstance(data[0], dict):
        for i, ex in enumerate(data):
            if not (isinstance(ex.get("goals"), str) and isinstance(ex.get("tactic"), str)):
                raise ValueError(f"example {i}: not an object with string goals and tactic")
        return [ex for ex in data if ex["tactic"].strip()]
    out = []
    for path in data:
        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"{p}: no such data file")
        with p.open(encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    ex = json.loads(line)
                    ok = isinstance(ex.get("goals"), str) and isinstance(ex.get("tactic"), str)
                except (json.JSONDecodeError, AttributeError):
                    ok = False
                if not ok:
                    raise ValueError(f"{p}:{n}: not an object with string goals and tactic")
                if ex["tactic"].strip():
                    out.append(ex)
    return out


def toy_examples(n: int = 400, seed: int = 0) -> list[dict]:
    """A small synthetic corpus (goals -> tactic, learnable) for tests and the benchmark."""
    rng = random.Random(seed)
    names = ["n", "m", "k", "x", "y", "a", "b", "p"]
    out = []
    for _ in range(n):
        v, w = rng.sample(names, 2)
        c = rng.randint(0, 20)
        kind = rng.randrange(7)
        if kind == 0:
            goals, tac = f"{v} : nat\n⊢ {v} + 0 = {v}", "lia."
        elif kind == 1:
            goals, tac = f"⊢ forall {v} : nat, {v} + {c} = {c} + {v}", f"intros {v}."
        elif kind == 2:
            goals, tac = f"A, B : Prop\nH{v} : A /\\ B\n⊢ B /\\ A", f"destruct H{v} as [HA HB]."
        elif kind == 3:
            goals, tac = f"⊢ {c} + {c} = {2 * c}", "reflexivity."
        elif kind == 4:
            goals, tac = f"{v}, {w} : nat\nH : {v} = {w}\n⊢ {w} = {v}", "symmetry; exact H."
        elif kind == 5:
            goals, tac = f"P, Q : Prop\nH{w} : P\n⊢ P \\/ Q", "left."
        else:
            goals, tac = "l : list nat\n⊢ length (rev l) = length l", "apply rev_length."
        out.append({"goals": goals, "tactic": tac})
    return out


def encode_all(tm: TacticModel, examples: list[dict], max_len: int):
    """[(ids, prompt_len)] of the examples that fit, and how many did not."""
    enc, skipped, chunk = [], 0, 4096
    for i in range(0, len(examples), chunk):
        part = examples[i:i + chunk]
        both = tm.encode_examples([ex["goals"] for ex in part], [ex["tactic"] for ex in part], max_len)
        enc.extend((array("i", ids), plen) for ids, plen in filter(None, both))  # int32: small in memory
        skipped += sum(e is None for e in both)
    return enc, skipped


def collate(rows, pad_id: int):
    """Right-padded input ids, attention mask and labels (-100 on the prompt and the padding)."""
    import torch
    width = max(len(ids) for ids, _ in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    labels = torch.full((len(rows), width), -100, dtype=torch.long)
    for i, (r, plen) in enumerate(rows):
        ids[i, :len(r)] = torch.tensor(r)
        mask[i, :len(r)] = 1
        labels[i, plen:len(r)] = torch.tensor(r[plen:])
    return ids, mask, labels


def batch_indices(step: int, n: int, batch_size: int, seed: int) -> list[int]:
    """The example indices of global batch ``step``: consecutive slices of a per-epoch permutation."""
    out, pos = [], step * batch_size
    while len(out) < batch_size:
        epoch, offset = divmod(pos, n)
        perm = list(range(n))
        random.Random(seed * 1_000_003 + epoch).shuffle(perm)
        take = min(batch_size - len(out), n - offset)
        out.extend(perm[offset:offset + take])
        pos += take
    return out


def lr_factor(step: int, warmup: int, total: int, min_ratio: float) -> float:
    """Linear warm-up, then cosine decay from 1 to ``min_ratio`` at ``total``."""
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def activation_checkpointing(model, on: bool) -> None:
    """Recompute activations in the backward pass (``on``), or stop and use the cache again
    (transformers 5 renamed gradient checkpointing; older releases know the old name only)."""
    if on:
        if hasattr(model, "activation_checkpointing_enable"):
            model.activation_checkpointing_enable({"use_reentrant": False})
        else:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    else:
        (getattr(model, "activation_checkpointing_disable", None) or model.gradient_checkpointing_disable)()
    model.config.use_cache = not on


# ----------------------------------------------------------------------------- evaluation
def norm_tactic(t: str) -> str:
    """Backend-neutral comparison form: blanks collapsed, Coq's final period dropped."""
    return " ".join(t.split()).rstrip(".").strip()


def evaluate(tm: TacticModel, heldout_enc, heldout_ex, cfg: TrainConfig, device) -> dict:
    """Held-out loss (mean over target tokens) and exact match: greedy top-1, sampler top-k."""
    import torch
    from prover.policy.model import DecodeConfig, ModelPolicy
    model = tm.model
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(heldout_enc), cfg.batch_size):
            ids, mask, labels = (t.to(device) for t in collate(heldout_enc[i:i + cfg.batch_size], tm.pad_id))
            logits = model(input_ids=ids, attention_mask=mask).logits.float()
            loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]),
                                                     labels[:, 1:].reshape(-1), ignore_index=-100, reduction="sum")
            total += float(loss)
            count += int((labels[:, 1:] != -100).sum())
    out = {"heldout_loss": total / count if count else float("nan")}
    sample = heldout_ex[:cfg.eval_decode]
    if sample:
        policy = ModelPolicy(tm, DecodeConfig(k=cfg.eval_k, mode="sample", max_new_tokens=cfg.max_new_tokens,
                                              seed=cfg.seed, batch_size=cfg.batch_size),
                             device=str(device), cast=False)
        goals = [ex["goals"] for ex in sample]
        truth = [norm_tactic(ex["tactic"]) for ex in sample]
        greedy = policy.greedy(goals)
        cands = policy.propose_goals(goals, cfg.eval_k)
        out["top1"] = sum(norm_tactic(g) == t for g, t in zip(greedy, truth)) / len(sample)
        out["topk"] = sum(t in {norm_tactic(c.tactic) for c in cs} for cs, t in zip(cands, truth)) / len(sample)
        out["k"] = cfg.eval_k
        out["decoded"] = len(sample)
    if was_training:
        model.train()
    return out


# ----------------------------------------------------------------------------- checkpoints
def latest_checkpoint(out_dir: Path) -> Path | None:
    ckpts = sorted((out_dir / "checkpoints").glob("step-*[0-9]"))
    ckpts = [c for c in ckpts if (c / "progress.json").is_file()]
    return ckpts[-1] if ckpts else None


def save_checkpoint(accelerator, tm: TacticModel, out_dir: Path, step: int, progress: dict, keep: int) -> None:
    root = out_dir / "checkpoints"
    final, tmp = root / f"step-{step:07d}", root / f"step-{step:07d}.tmp"
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    accelerator.wait_for_everyone()
    with quiet():
        accelerator.save_state(str(tmp / "state"))  # model, optimizer, scheduler, RNG of every process
    if accelerator.is_main_process:
        TacticModel(accelerator.unwrap_model(tm.model), tm.tokenizer, tm.config).save(tmp / "model")
        (tmp / "progress.json").write_text(json.dumps(progress) + "\n")  # written last: marks it complete
        shutil.rmtree(final, ignore_errors=True)
        tmp.rename(final)
        for old in sorted(root.glob("step-*[0-9]"))[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()


def plot_losses(history: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4))
    if history["train"]:
        ax.plot(*zip(*history["train"]), label="train", lw=1)
    ev = [(e["step"], e["heldout_loss"]) for e in history["eval"] if math.isfinite(e["heldout_loss"])]
    if ev:
        ax.plot(*zip(*ev), "o-", label="held-out")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (target tokens)")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ----------------------------------------------------------------------------- the run
def train(data, out_dir, config: TrainConfig | None = None, init=None, progress: bool = True) -> dict:
    """Train (or fine-tune from the model directory ``init``) on ``data``; resume if ``out_dir``
    has a checkpoint. Returns the metrics also written to ``out_dir/metrics.json``."""
    import torch
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from tqdm import tqdm

    cfg = config or TrainConfig()
    out_dir = Path(out_dir)
    # no GPU: the processes a launcher started (torchrun's RANK/WORLD_SIZE) train data-parallel
    # over gloo on the CPU (accelerate's own MULTI_CPU launcher needs MPI)
    # split_batches: each step's batch_size examples are split across the processes (below), so
    # the schedule advances once per step, not once per process
    from accelerate.utils import DataLoaderConfiguration
    gpu = torch.cuda.is_available()
    accelerator = Accelerator(cpu=not gpu, mixed_precision="bf16" if gpu else "no",
                              dataloader_config=DataLoaderConfiguration(split_batches=True))
    if cfg.threads and accelerator.device.type == "cpu":
        torch.set_num_threads(cfg.threads)
    main = accelerator.is_main_process
    set_seed(cfg.seed)

    # data: training examples, held-out examples (a file, or split off the training data)
    examples = read_examples(data)
    if cfg.heldout:
        heldout = read_examples([cfg.heldout])
    else:
        random.Random(cfg.seed).shuffle(examples)
        n_hold = min(cfg.holdout, len(examples) // 10)
        heldout, examples = examples[:n_hold], examples[n_hold:]
    if not examples:
        raise ValueError("no training examples")
    random.Random(cfg.seed + 1).shuffle(heldout)

    # model: resume a checkpoint, fine-tune ``init`` (keeping its tokenizer), or build anew;
    # a LoRA run's checkpoints hold its adapter, so its base is rebuilt the same way (the
    # adapter's weights come back with the training state below)
    ckpt = latest_checkpoint(out_dir)
    dtype = torch.bfloat16 if gpu and cfg.lora_rank else None
    if ckpt is not None and not cfg.lora_rank:
        tm = load(ckpt / "model")
    elif init is not None:
        tm = load(init, dtype)
    else:
        tm = TacticModel.create(cfg.model, examples, dtype)
    if not cfg.lora_rank and tm.model.dtype != torch.float32:  # a bf16 model (merged from a GPU LoRA run)
        tm.model = tm.model.float()                              # trains in fp32 with mixed precision
    if cfg.gradient_checkpointing:
        activation_checkpointing(tm.model, True)
    if cfg.lora_rank:
        tm = TacticModel(lora.wrap(tm.model, cfg.lora_rank, cfg.lora_alpha, cfg.lora_dropout, cfg.lora_targets,
                                   tm.added), tm.tokenizer, tm.config)
    tm.model.train()
    train_enc, skipped = encode_all(tm, examples, cfg.max_len)
    held_enc, _ = encode_all(tm, heldout[:cfg.eval_examples], cfg.max_len)
    held_dec = heldout[:cfg.eval_decode]
    if not train_enc:
        raise ValueError(f"no training example fits in max_len={cfg.max_len} tokens")

    total = cfg.steps if cfg.steps is not None else math.ceil((cfg.epochs or 1) * len(train_enc) / cfg.batch_size)
    per_process = max(1, cfg.batch_size // accelerator.num_processes)

    # optimiser: AdamW over the trainable weights, no decay on norms and biases; warm-up then cosine
    params = [p for p in tm.model.parameters() if p.requires_grad]
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.95))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: lr_factor(s, cfg.warmup, total, cfg.min_lr_ratio))
    model, optimizer, scheduler = accelerator.prepare(tm.model, optimizer, scheduler)
    tm = TacticModel(model, tm.tokenizer, tm.config)
    raw = TacticModel(accelerator.unwrap_model(model), tm.tokenizer, tm.config)

    step, history, seconds = 0, {"train": [], "eval": []}, 0.0
    if ckpt is not None:
        with quiet():
            accelerator.load_state(str(ckpt / "state"))
        state = json.loads((ckpt / "progress.json").read_text())
        step, history, seconds = state["step"], state["history"], state["seconds"]
    start_step = step
    if main:
        (out_dir).mkdir(parents=True, exist_ok=True)
        (out_dir / "train_config.json").write_text(json.dumps(asdict(cfg), indent=2) + "\n")

    def progress_state():
        return {"step": step, "history": history, "seconds": seconds}

    def run_eval():
        if main and held_enc:
            e = {"step": step, **evaluate(raw, held_enc, held_dec, cfg, accelerator.device)}
            history["eval"] = [x for x in history["eval"] if x["step"] != step] + [e]
            return e
        return None

    # the loop
    bar = tqdm(total=total, initial=step, desc="train", unit="step", file=sys.stderr,
               disable=not (progress and main), dynamic_ncols=True)
    window, tokens, compute_s, t0 = [], 0, 0.0, time.time()
    while step < total:
        t_step = time.time()
        idx = batch_indices(step, len(train_enc), cfg.batch_size, cfg.seed)
        mine = idx[accelerator.process_index * per_process:(accelerator.process_index + 1) * per_process] or idx
        ids, mask, labels = (t.to(accelerator.device) for t in collate([train_enc[i] for i in mine], tm.pad_id))
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        accelerator.backward(loss)
        if cfg.grad_clip:
            accelerator.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        window.append(float(loss.detach()))
        tokens += int(mask.sum())
        compute_s += time.time() - t_step
        if step % cfg.log_every == 0 or step == total:
            history["train"].append([step, sum(window) / len(window)])
            bar.set_postfix(loss=f"{history['train'][-1][1]:.3f}", lr=f"{scheduler.get_last_lr()[0]:.1e}")
            window = []
        bar.update(1)
        if cfg.eval_every and step % cfg.eval_every == 0 and step < total:
            e = run_eval()
            if e:
                bar.write(f"step {step}: held-out loss {e['heldout_loss']:.3f}"
                          + (f", top-1 {e['top1']:.2f}, top-{e['k']} {e['topk']:.2f}" if "top1" in e else ""))
        if (cfg.save_every and step % cfg.save_every == 0) or step == total:
            seconds += time.time() - t0
            t0 = time.time()
            save_checkpoint(accelerator, raw, out_dir, step, progress_state(), cfg.keep_checkpoints)
    bar.close()
    seconds += time.time() - t0

    # the end: final evaluation, model, metrics, plot
    final = run_eval() or {}
    metrics = {}
    if main:
        trained = lora.trainable(raw.model)
        if cfg.lora_rank:  # the adapter on its own, then the merged weights as the model directory
            raw.save(out_dir / lora.ADAPTER_DIR)
            raw = TacticModel(lora.merged(raw.model), raw.tokenizer, raw.config)
        if cfg.gradient_checkpointing:  # saved for generation, which wants its cache
            activation_checkpointing(raw.model, False)
        raw.save(out_dir)
        save_names(out_dir, (ex["tactic"] for ex in examples + heldout), init)
        plot_losses(history, out_dir / "loss.png")
        first = history["train"][0][1] if history["train"] else None
        last = history["train"][-1][1] if history["train"] else None
        metrics = {
            "steps": step, "resumed_from": start_step if ckpt is not None else None,
            "init": str(init) if init is not None and ckpt is None else None,
            "params": raw.n_params(), "trained_params": trained,
            "lora": {"rank": cfg.lora_rank, "alpha": cfg.lora_alpha} if cfg.lora_rank else None,
            "gradient_checkpointing": cfg.gradient_checkpointing, "vocab": len(raw.tokenizer), "context": raw.context,
            "train_examples": len(train_enc), "skipped_too_long": skipped, "heldout_examples": len(held_enc),
            "first_train_loss": first, "last_train_loss": last,
            "heldout_loss": final.get("heldout_loss"), "top1": final.get("top1"), "topk": final.get("topk"),
            "k": cfg.eval_k, "train_seconds": seconds,
            "tokens_per_second": tokens * accelerator.num_processes / compute_s if compute_s else None,
            "seconds_per_1000_steps": 1000 * compute_s / (step - start_step) if step > start_step else None,
            "device": str(accelerator.device), "processes": accelerator.num_processes,
            "history": history,
        }
        (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    accelerator.wait_for_everyone()
    return metrics
