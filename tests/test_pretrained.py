"""Starting from a checkpoint of a public architecture (issue 39), on the CPU: tiny randomly
initialised Llama and Qwen2 models with tokenizers of their own (no pad, no prompt tags)
go through the whole path: load as ``model.checkpoint``, LoRA fine-tune, merge, reload,
sample, score a candidate list."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch

from prover.model import ModelConfig, ModelError, TacticModel, load
from prover.policy.model import load_policy
from prover.prompt import GOALS_TAG, TACTIC_TAG
from prover.public_models import EOS_TOKEN, write_checkpoint
from prover.train import TrainConfig, toy_examples, train

ARCHS = ["llama", "qwen2"]
GOALS = ["n : nat\n⊢ n + 0 = n", "P, Q : Prop\nHx : P\n⊢ P \\/ Q", "⊢ 3 + 3 = 6"]
EXAMPLES = toy_examples(240, seed=3)


def texts():
    return [ex["goals"] + "\n" + ex["tactic"] for ex in EXAMPLES]


@pytest.fixture(scope="module", params=ARCHS)
def checkpoint(request, tmp_path_factory):
    # Llama untied (its output layer has rows of its own), Qwen2 tied: both LoRA cases
    tie = request.param == "qwen2"
    out = write_checkpoint(tmp_path_factory.mktemp(request.param) / "ckpt", request.param, texts(),
                           vocab_size=300, pretrain_steps=150, d_model=48, n_layer=2, n_head=4, n_kv_head=2,
                           context=192, tie=tie)
    return request.param, out


def lora_cfg(ckpt, **kw) -> TrainConfig:
    base = dict(model=ModelConfig(checkpoint=str(ckpt)), steps=40, batch_size=8, lr=1e-2, warmup=2, log_every=1,
                eval_every=0, save_every=20, max_len=128, holdout=8, eval_examples=8, eval_decode=2, eval_k=2,
                max_new_tokens=12, lora_rank=4, lora_alpha=8.0)
    base.update(kw)
    return TrainConfig(**base)


def test_checkpoint_gets_the_prompt_tags_and_keeps_its_own_tokenizer(checkpoint):
    arch, ckpt = checkpoint
    own = json.loads((ckpt / "tokenizer.json").read_text())["model"]["vocab"]
    tm = TacticModel.create(ModelConfig(checkpoint=str(ckpt), context=64), [])
    vocab = tm.tokenizer.get_vocab()
    # the checkpoint's own tokens keep their ids; the two tags are new special tokens, and so
    # is a pad where the tokenizer has none (Qwen2's tokenizer class pads with its end of text)
    assert all(vocab[t] == i for t, i in own.items())
    pad = {"llama": "<pad>", "qwen2": EOS_TOKEN}[arch]
    assert tm.tokenizer.eos_token == EOS_TOKEN and tm.tokenizer.pad_token == pad
    assert sorted(tm.added) == sorted(vocab[t] for t in {GOALS_TAG, TACTIC_TAG, pad} - {EOS_TOKEN})
    assert tm._ids(f"{GOALS_TAG}x{TACTIC_TAG}")[0] == vocab[GOALS_TAG]  # one token, never merged
    assert tm.model.get_input_embeddings().weight.shape[0] >= len(tm.tokenizer)
    assert tm.context == 192  # the model's context, not the config's
    # the new rows are the mean of the trained ones, in the output layer too when untied
    for layer in (tm.model.get_input_embeddings(), tm.model.get_output_embeddings()):
        w = layer.weight
        mean = w[:len(own)].mean(0)
        assert torch.allclose(w[tm.added[0]], mean) and torch.allclose(w[-1], mean)
    assert (tm.model.get_output_embeddings().weight is tm.model.get_input_embeddings().weight) == (arch == "qwen2")


@pytest.fixture(scope="module")
def lora_run(checkpoint, tmp_path_factory):
    arch, ckpt = checkpoint
    out = tmp_path_factory.mktemp(f"lora-{arch}") / "model"
    return arch, ckpt, out, train(EXAMPLES, out, lora_cfg(ckpt), progress=False)


def test_lora_fine_tunes_only_the_adapter_and_merges(lora_run):
    arch, ckpt, out, m = lora_run
    base = TacticModel.create(ModelConfig(checkpoint=str(ckpt)), [])
    losses = [x for _, x in m["history"]["train"]]
    assert losses[-1] < 0.2 * losses[0], losses
    assert m["lora"] == {"rank": 4, "alpha": 8.0}
    assert 0 < m["trained_params"] < 0.5 * m["params"]
    # the adapter on its own, and the merged weights as a plain model directory
    adapter = json.loads((out / "adapter" / "adapter_config.json").read_text())
    assert adapter["r"] == 4 and adapter["base_model_name_or_path"] is not None
    merged = load(out)
    assert type(merged.model).__name__ == type(base.model).__name__  # a plain model, no peft wrapper
    got, was = dict(merged.model.named_parameters()), dict(base.model.named_parameters())
    assert set(got) == set(was)
    q = next(n for n in got if n.endswith("q_proj.weight"))
    norm = next(n for n in got if "norm" in n)
    assert not torch.allclose(got[q], was[q])  # the adapter was merged into the projections
    assert torch.equal(got[norm], was[norm])   # what LoRA does not touch is the checkpoint's
    emb = merged.model.get_input_embeddings().weight
    old = base.model.get_input_embeddings().weight
    n_own = min(base.added)
    assert torch.equal(emb[:n_own], old[:n_own])  # the checkpoint's own rows are frozen ...
    assert not torch.allclose(emb[base.added[-1]], old[base.added[-1]])  # ... the tags' rows trained


def test_merged_model_samples_and_scores(lora_run):
    _, _, out, _ = lora_run
    policy = load_policy(out, k=3, mode="beam", max_new_tokens=12)
    cands = policy.propose_goals(GOALS)
    assert [len(c) for c in cands] == [3, 3, 3]
    assert all(c.tactic and c.logprob < 0 for cs in cands for c in cs)
    # it learned something of the toy corpus: the goal's tactic is its first choice
    assert cands[0][0].tactic == "lia."
    # scoring a candidate list: the beam's own first candidate scores as the beam said
    scores = policy.score([GOALS[0]], [cands[0][0].tactic, "intros n.", "left."])[0]
    assert scores[0] == pytest.approx(cands[0][0].logprob, abs=1e-3)
    assert scores[0] == max(scores)


def test_lora_run_resumes_from_its_adapter_checkpoint(lora_run, tmp_path):
    _, ckpt, out, m = lora_run
    # an interrupted run: only the step-20 checkpoint (an adapter) survives
    import shutil
    cut = tmp_path / "cut"
    shutil.copytree(out / "checkpoints", cut / "checkpoints")
    shutil.rmtree(cut / "checkpoints" / "step-0000040")
    assert (cut / "checkpoints" / "step-0000020" / "model" / "adapter_config.json").is_file()
    m2 = train(EXAMPLES, cut, lora_cfg(ckpt), progress=False)
    assert m2["resumed_from"] == 20
    assert [x for _, x in m2["history"]["train"]] == pytest.approx([x for _, x in m["history"]["train"]], rel=1e-4)
    a, b = dict(load(out).model.named_parameters()), dict(load(cut).model.named_parameters())
    assert all(torch.allclose(a[n], b[n], atol=1e-5) for n in a)


def test_next_round_fine_tunes_the_merged_model(lora_run, tmp_path):
    _, _, out, _ = lora_run
    m = train(EXAMPLES, tmp_path / "r1", replace(lora_cfg(None), model=ModelConfig(), steps=4), init=out,
              progress=False)
    assert m["init"] == str(out) and m["steps"] == 4
    # the merged model has the tags already: nothing added, its tokenizer is kept
    assert (tmp_path / "r1" / "tokenizer.json").read_text() == (out / "tokenizer.json").read_text()


def test_gradient_checkpointing_gives_the_same_losses(checkpoint, tmp_path):
    _, ckpt = checkpoint
    plain = train(EXAMPLES, tmp_path / "a", lora_cfg(ckpt, steps=4, save_every=0), progress=False)
    ckp = train(EXAMPLES, tmp_path / "b", lora_cfg(ckpt, steps=4, save_every=0, gradient_checkpointing=True),
                progress=False)
    assert ckp["gradient_checkpointing"] is True
    assert [x for _, x in ckp["history"]["train"]] == pytest.approx([x for _, x in plain["history"]["train"]],
                                                                  rel=1e-4)
    assert load(tmp_path / "b").model.config.use_cache is True  # saved for generation


def test_a_checkpoint_that_does_not_load_gives_one_line(tmp_path):
    bad = tmp_path / "ckpt"
    bad.mkdir()
    (bad / "config.json").write_text("{not json")
    with pytest.raises(ModelError) as e:
        TacticModel.create(ModelConfig(checkpoint=str(bad)), [])
    msg = str(e.value)
    assert msg.startswith(f"{bad}: cannot load checkpoint") and "\n" not in msg
    with pytest.raises(ModelError, match=f"{tmp_path / 'nothing'}: cannot load checkpoint"):
        TacticModel.create(ModelConfig(checkpoint=str(tmp_path / "nothing")), [])


def test_bad_lora_settings_are_refused(checkpoint, tmp_path):
    _, ckpt = checkpoint
    with pytest.raises(ValueError, match="lora_rank"):
        TrainConfig(lora_rank=-1)
    with pytest.raises(ValueError, match="^LoRA: "):
        train(EXAMPLES, tmp_path / "x", lora_cfg(ckpt, lora_targets=["no_such_proj"]), progress=False)


@pytest.mark.slow
def test_one_round_of_iterate_from_a_checkpoint(tmp_path, coq_available, minif2f_coq):
    """``prover iterate --checkpoint DIR`` on the tiny preset with LoRA: round 0 fine-tunes
    the checkpoint (its tokenizer kept, the tags added), merges it, and searches with it,
    batching the frontier's states."""
    import subprocess
    import sys
    from tests.test_iterate import TINY, tiny_config
    ckpt = write_checkpoint(tmp_path / "ckpt", "qwen2", texts(), vocab_size=300, pretrain_steps=150, d_model=48,
                            n_layer=2, n_head=4, n_kv_head=2, context=256)
    tiny = json.loads(TINY.read_text())
    t0 = {k: v for k, v in tiny["train_initial"].items() if k != "model"}
    cfg = tiny_config(tmp_path, "hf", rounds=1, train_initial={**t0, "lora_rank": 8, "lora_alpha": 16.0, "lr": 0.01},
                      search={**tiny["search"], "batch_states": 4})
    run = subprocess.run([sys.executable, "-m", "prover", "iterate", "--config", str(cfg), "--checkpoint", str(ckpt),
                          "--quiet"], cwd=tmp_path, capture_output=True, text=True, timeout=280)
    assert run.returncode == 0, run.stderr[-2000:]
    model = tmp_path / "runs" / "hf" / "models" / "round_0"
    metrics = json.loads((model / "metrics.json").read_text())
    assert metrics["lora"] == {"rank": 8, "alpha": 16.0} and metrics["trained_params"] < metrics["params"]
    assert (model / "adapter" / "adapter_config.json").is_file()
    own = json.loads((ckpt / "tokenizer.json").read_text())["model"]["vocab"]
    vocab = load(model).tokenizer.get_vocab()
    assert all(vocab[t] == i for t, i in own.items()) and GOALS_TAG in vocab
    rows = (tmp_path / "runs" / "hf" / "rounds.csv").read_text().splitlines()
    assert len(rows) == 2  # the header and round 0
    import sqlite3
    db = sqlite3.connect(tmp_path / "runs" / "hf" / "proofs.db")
    n_model, n_edges = db.execute("select count(*), sum(a.expansions) from attempts a where a.policy = 'model'").fetchone()
    assert n_model == 6 and n_edges > 0  # the tiny pool, searched with the fine-tuned checkpoint


def test_the_device_check_runs_at_tiny_size_on_the_cpu(tmp_path):
    """scripts/gpu_check.sh, the one command a lent GPU machine runs, at --tiny size: every
    figure it promises is written into $OUT."""
    import os
    import subprocess
    from pathlib import Path
    repo = Path(__file__).resolve().parents[1]
    out = tmp_path / "out"
    run = subprocess.run(["bash", str(repo / "scripts" / "gpu_check.sh"), "--tiny"], cwd=tmp_path,
                         env={**os.environ, "OUT": str(out)}, capture_output=True, text=True, timeout=280)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert sorted(p.name for p in out.iterdir()) == ["gpu_check.json", "log.txt", "loss.png", "train_metrics.json"]
    report = json.loads((out / "gpu_check.json").read_text())
    assert report["size"] == "tiny" and report["arch"] == "qwen2" and report["versions"]["peft"]
    t = report["train"]
    assert t["steps"] == 20 and 0 < t["trained_params"] < t["params"] and t["tokens_per_second"] > 0
    assert t["last_train_loss"] < t["first_train_loss"]
    full = report["train_full"]  # the baseline: full fine-tuning of the same checkpoint
    assert full["trained_params"] == full["params"] and full["steps"] == 6
    assert report["lora_vs_full"]["trained_params"] == pytest.approx(t["trained_params"] / full["trained_params"],
                                                                     abs=1e-4)
    g = report["generate"]
    assert g["batched"]["states"] == 16 and g["batched"]["batch"] == 4 and g["one_state_per_call"]["batch"] == 1
    assert g["same_states_batched"]["states"] == g["one_state_per_call"]["states"] == 8
    assert g["batched"]["candidate_tokens_per_second"] > 0 and g["batching_speedup"] > 0
    assert len(json.loads((out / "train_metrics.json").read_text())["history"]["train"]) == 4
    assert (out / "loss.png").stat().st_size > 1000 and "wrote" in (out / "log.txt").read_text()


def test_full_fine_tuning_of_a_bf16_model_trains_in_fp32(lora_run, tmp_path):
    """A GPU LoRA run merges into a bf16 model; a later full fine-tuning of it trains fp32 weights."""
    _, _, out, _ = lora_run
    tm = load(out)
    TacticModel(tm.model.to(torch.bfloat16), tm.tokenizer, tm.config).save(tmp_path / "bf16")
    assert load(tmp_path / "bf16").model.dtype == torch.bfloat16
    m = train(EXAMPLES, tmp_path / "ft", replace(lora_cfg(None), model=ModelConfig(), steps=2, lora_rank=0),
              init=tmp_path / "bf16", progress=False)
    assert m["trained_params"] == m["params"] and load(tmp_path / "ft").model.dtype == torch.float32


def test_cli_train_from_a_checkpoint_with_lora(checkpoint, tmp_path):
    import subprocess
    import sys
    _, ckpt = checkpoint
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps(ex) + "\n" for ex in EXAMPLES))
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"steps": 3, "batch_size": 4, "eval_every": 0, "holdout": 8, "eval_decode": 1,
                               "eval_k": 2, "max_new_tokens": 8, "max_len": 128}))
    out = tmp_path / "model"
    run = subprocess.run([sys.executable, "-m", "prover", "train", "--data", str(data), "--out", str(out),
                          "--config", str(cfg), "--checkpoint", str(ckpt), "--lora-rank", "4", "--quiet"],
                         capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "LoRA rank 4" in run.stdout and (out / "adapter" / "adapter_config.json").is_file()
    assert json.loads((out / "metrics.json").read_text())["trained_params"] < load(out).n_params()
    bad = subprocess.run([sys.executable, "-m", "prover", "train", "--data", str(data), "--out", str(tmp_path / "x"),
                          "--config", str(cfg), "--checkpoint", str(tmp_path / "none")],
                         capture_output=True, text=True, timeout=240)
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0
    assert f"{tmp_path / 'none'}: cannot load checkpoint" in bad.stderr


def test_the_checkpoints_own_decoding_defaults_are_dropped(checkpoint, tmp_path):
    """A checkpoint's generation_config.json (Qwen2.5's has sampling, top-k and a repetition
    penalty) would change every generate call; the starting model decodes as the policy says."""
    import shutil
    _, ckpt = checkpoint
    copy = tmp_path / "ckpt"
    shutil.copytree(ckpt, copy)
    gen = json.loads((copy / "generation_config.json").read_text())
    gen.update(do_sample=True, top_k=5, temperature=0.7, repetition_penalty=1.3)
    (copy / "generation_config.json").write_text(json.dumps(gen))
    tm = TacticModel.create(ModelConfig(checkpoint=str(copy)), [])
    g = tm.model.generation_config
    assert (g.eos_token_id, g.pad_token_id) == (tm.eos_id, tm.pad_id)
    assert g.do_sample in (None, False) and g.repetition_penalty in (None, 1.0)
    assert g.top_k in (None, 50) and g.temperature in (None, 1.0)
