"""The device check of issue 39, as one command (``scripts/gpu_check.sh``): fine-tune a model
of a public architecture with LoRA for a few hundred steps, generate for a few hundred proof
states, and write the figures a user with a GPU wants into ``--out``:

  gpu_check.json   tokens per second (LoRA training, and full fine-tuning as the baseline;
                   generation batched and one state per call), states per second, peak GPU
                   memory of each, the ratios, the versions, the settings
  loss.png         the training loss curve (and train_metrics.json, its numbers)
  log.txt          what was printed

Why synthetic data: the lent machine reaches nothing outside it and has no Coq, so the
goals are generated (:func:`prover.public_models.synthetic_examples`), shaped like miniF2F's (a few real-arithmetic hypotheses, a goal,
100-300 tokens) with tactics of the kinds that close them. The model is built from a public
architecture (Qwen2 by default) with random weights, saved as a Hugging Face checkpoint and
then loaded through ``model.checkpoint`` like a downloaded one: the path a user takes.

``--size cpu`` runs the same steps at the project's CPU model size (the CPU figures of
docs/results.md), ``--tiny`` at sizes a CPU does in seconds (the test suite runs it).
"""
from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import time
import warnings
from pathlib import Path

SIZES = {  # model, training and generation sizes: the GPU's, and --tiny's for a CPU
    "gpu": dict(d_model=768, n_layer=12, n_head=12, n_kv_head=4, d_ff=2048, context=1024, vocab=8192,
                examples=20000, steps=300, batch_size=32, max_len=512, lora_rank=16, states=256, k=8,
                gen_batch=32, single=64, max_new_tokens=48),
    "cpu": dict(d_model=256, n_layer=6, n_head=8, n_kv_head=4, d_ff=704, context=512, vocab=2048,
                examples=4000, steps=60, batch_size=16, max_len=384, lora_rank=8, states=64, k=8,
                gen_batch=16, single=32, max_new_tokens=32),
    "tiny": dict(d_model=64, n_layer=2, n_head=4, n_kv_head=2, d_ff=128, context=512, vocab=512,
                 examples=600, steps=20, batch_size=8, max_len=256, lora_rank=4, states=16, k=4,
                 gen_batch=4, single=8, max_new_tokens=16),
}


def generation(model_dir: Path, goals: list[str], k: int, batch: int, max_new_tokens: int) -> dict:
    """States and candidate tokens per second of beam search over ``goals``, ``batch`` states per call."""
    import torch
    from prover.policy.model import load_policy
    policy = load_policy(model_dir, k=k, mode="beam", max_new_tokens=max_new_tokens, batch_size=batch)
    policy.propose_goals(goals[:batch])  # warm-up (kernels, allocator)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    cands = policy.propose_goals(goals)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    tokens = sum(len(policy.tm.encode_target(c.tactic)) for cs in cands for c in cs)
    return {"states": len(goals), "batch": batch, "seconds": round(seconds, 3),
            "states_per_second": round(len(goals) / seconds, 2), "candidate_tokens_per_second": round(tokens / seconds, 1),
            "candidates_per_state": round(sum(map(len, cands)) / len(goals), 2)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="folder for the figures ($OUT on the device)")
    ap.add_argument("--size", choices=sorted(SIZES), default="gpu",
                    help="gpu (an 82M-parameter model, minutes on an H100), cpu (the project's CPU model size, minutes), "
                         "tiny (seconds: the test suite's)")
    ap.add_argument("--tiny", action="store_const", dest="size", const="tiny", help="--size tiny")
    ap.add_argument("--arch", default="qwen2", help="llama, qwen2, mistral or gpt2")
    ap.add_argument("--steps", type=int, default=None, help="training steps (default: the size's)")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore", category=FutureWarning)  # transformers' renames, asked by peft
    import torch
    from prover.public_models import synthetic_examples, write_checkpoint
    from prover.model import ModelConfig
    from prover.train import TrainConfig, train

    s = dict(SIZES[args.size])
    if args.steps:
        s["steps"] = args.steps
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = out / "work"
    shutil.rmtree(work, ignore_errors=True)
    gpu = torch.cuda.is_available()
    t_start = time.perf_counter()
    report: dict = {"device": torch.cuda.get_device_name(0) if gpu else f"cpu ({platform.processor() or 'x86_64'})",
                    "versions": {m: __import__(m).__version__ for m in ("torch", "transformers", "peft", "accelerate")},
                    "arch": args.arch, "size": args.size, "sizes": s}
    print(json.dumps({k: report[k] for k in ("device", "versions")}), flush=True)

    data = synthetic_examples(s["examples"])
    goals = [ex["goals"] for ex in synthetic_examples(s["states"], seed=1)]
    ckpt = write_checkpoint(work / "checkpoint", args.arch, (ex["goals"] + "\n" + ex["tactic"] for ex in data),
                            vocab_size=s["vocab"], d_model=s["d_model"], n_layer=s["n_layer"], n_head=s["n_head"],
                            n_kv_head=s["n_kv_head"], d_ff=s["d_ff"], context=s["context"])
    print(f"checkpoint: {args.arch}, {time.perf_counter() - t_start:.0f} s", flush=True)

    # 1. LoRA fine-tuning of the checkpoint (bf16 mixed precision and a bf16 base on a GPU),
    #    and full fine-tuning of the same checkpoint for a third of the steps: the baseline
    def tune(name: str, steps: int, rank: int) -> dict:
        if gpu:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        cfg = TrainConfig(model=ModelConfig(checkpoint=str(ckpt)), steps=steps, batch_size=s["batch_size"],
                          lr=2e-3 if rank else 3e-4, warmup=min(20, steps // 5), log_every=5, eval_every=0,
                          save_every=0, max_len=s["max_len"], holdout=64, eval_examples=64, eval_decode=8, eval_k=4,
                          max_new_tokens=s["max_new_tokens"], lora_rank=rank, lora_alpha=2.0 * max(rank, 1),
                          gradient_checkpointing=gpu)
        m = train(data, work / name, cfg, progress=False)
        row = {k: m[k] for k in ("steps", "params", "trained_params", "tokens_per_second", "seconds_per_1000_steps",
                                 "first_train_loss", "last_train_loss", "heldout_loss", "gradient_checkpointing",
                                 "device")}
        row["adam_state_mib"] = round(8 * m["trained_params"] / 2**20, 2)  # two fp32 moments per trained weight
        row["peak_gpu_memory_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2) if gpu else None
        print(f"train {name}: {json.dumps(row)}", flush=True)
        return {**row, "history": m["history"]}

    lora_run = tune("lora", s["steps"], s["lora_rank"])
    full_run = tune("full", max(5, s["steps"] // 3), 0)
    report["train"] = {k: v for k, v in lora_run.items() if k != "history"}
    report["train_full"] = {k: v for k, v in full_run.items() if k != "history"}
    report["lora_vs_full"] = {
        "tokens_per_second": round(lora_run["tokens_per_second"] / full_run["tokens_per_second"], 2),
        "trained_params": round(lora_run["trained_params"] / full_run["trained_params"], 4),
        "peak_gpu_memory": (round(lora_run["peak_gpu_memory_gib"] / full_run["peak_gpu_memory_gib"], 2)
                            if gpu else None)}
    shutil.copy(work / "lora" / "loss.png", out / "loss.png")
    (out / "train_metrics.json").write_text(json.dumps(lora_run, indent=1) + "\n")

    # 2. generation: every state in batches of gen_batch; the first ``single`` states both ways
    if gpu:
        torch.cuda.reset_peak_memory_stats()
    batched = generation(work / "lora", goals, s["k"], s["gen_batch"], s["max_new_tokens"])
    same = generation(work / "lora", goals[:s["single"]], s["k"], s["gen_batch"], s["max_new_tokens"])
    single = generation(work / "lora", goals[:s["single"]], s["k"], 1, s["max_new_tokens"])
    report["generate"] = {"batched": batched, "same_states_batched": same, "one_state_per_call": single,
                          "batching_speedup": round(same["seconds"] and single["seconds"] / same["seconds"], 2),
                          "peak_gpu_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if gpu else None}
    print(f"generate: {json.dumps(report['generate'])}", flush=True)
    report["seconds"] = round(time.perf_counter() - t_start, 1)
    (out / "gpu_check.json").write_text(json.dumps(report, indent=2) + "\n")
    shutil.rmtree(work, ignore_errors=True)  # only the figures come back
    r, g = report["lora_vs_full"], report["generate"]
    print(f"LoRA against full fine-tuning: tokens/s x{r['tokens_per_second']}, trained weights "
          f"x{r['trained_params']}" + (f", peak GPU memory x{r['peak_gpu_memory']}" if gpu else ""))
    print(f"generation, the same {g['one_state_per_call']['states']} states: {s['gen_batch']} per call is "
          f"x{g['batching_speedup']} the speed of one per call")
    print(f"wrote {out / 'gpu_check.json'} in {report['seconds']} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
