"""Stand-ins for downloaded checkpoints: small randomly initialised models of public
architectures (Llama, Qwen2, Mistral, GPT-2), each saved with a tokenizer of its own.

Why: nothing reachable from these machines ships pretrained weights, yet the path a user
takes with DeepSeek-Prover, InternLM-StepProver or a Qwen2.5 base model (a Hugging Face
directory whose tokenizer knows nothing of the prompt tags and may have no pad token) has to
be exercised end to end: loading it as ``model.checkpoint``, LoRA fine-tuning, merging,
generation. The directories written here are what ``save_pretrained`` writes for those
models; only the sizes and the weights differ. ``scripts/gpu_check.sh`` builds a larger one
to time training and generation on a GPU.
"""
from __future__ import annotations

import random
from pathlib import Path
from typing import Iterable

from prover.model import bpe, quiet

EOS_TOKEN = "<|endoftext|>"  # the checkpoint's own end of text (Qwen's name); no pad, no prompt tags

ARCHITECTURES = ("llama", "qwen2", "mistral", "gpt2")


VARS = ["a", "b", "c", "x", "y", "z", "n", "m", "k"]
TACTICS = ["nlinarith [sq_nonneg ({u} - {v}), sq_nonneg ({u} + {v})].", "lra.", "lia.", "nra.", "field_simp.",
           "intros {u} {v} h0.", "subst {u}.", "rewrite h0 in h1.", "destruct h0 as [h0 h1].", "ring_simplify.",
           "assert (0 <= ({u} - {v}) ^ 2) by nra.", "interval_cases {u}.", "exists {c}.", "norm_num."]


def _term(rng: random.Random, vs: list[str], depth: int = 0) -> str:
    if depth > 2 or rng.random() < 0.3:
        return rng.choice(vs + [str(rng.randint(0, 99))])
    op = rng.choice(["+", "-", "*", "^ 2 +", "/"])
    return f"({_term(rng, vs, depth + 1)} {op} {_term(rng, vs, depth + 1)})"


def synthetic_examples(n: int, seed: int = 0) -> list[dict]:
    """(goals, tactic) pairs shaped like miniF2F states (real variables, a few hypotheses, one
    goal; 100-300 tokens) with tactics of the kinds that close them: for timing, where no
    traced corpus is at hand (a lent GPU machine has no Coq)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        vs = rng.sample(VARS, rng.randint(1, 4))
        hyps = [f"{', '.join(vs)} : R"] + [f"h{i} : {_term(rng, vs)} {rng.choice(['=', '<=', '<'])} {_term(rng, vs)}"
                                            for i in range(rng.randint(1, 5))]
        goal = f"{_term(rng, vs)} {rng.choice(['=', '<=', '<>'])} {_term(rng, vs)}"
        u, v = (vs * 2)[:2]
        tactic = rng.choice(TACTICS).format(u=u, v=v, c=rng.randint(0, 9))
        out.append({"goals": "\n".join(hyps) + "\n⊢ " + goal, "tactic": tactic})
    return out


def _tokenizer(texts: Iterable[str], vocab_size: int):
    from transformers import PreTrainedTokenizerFast
    return PreTrainedTokenizerFast(tokenizer_object=bpe(texts, vocab_size, [EOS_TOKEN], min_frequency=0), eos_token=EOS_TOKEN)


def build(arch: str, vocab: int, d_model: int = 64, n_layer: int = 2, n_head: int = 4, n_kv_head: int = 2,
          d_ff: int = 0, context: int = 512, tie: bool = True, seed: int = 0):
    """A randomly initialised causal LM of a public architecture (grouped-query attention
    where the architecture has it)."""
    import torch
    import transformers as tf
    torch.manual_seed(seed)
    d_ff = d_ff or 4 * d_model
    if arch == "gpt2":
        return tf.GPT2LMHeadModel(tf.GPT2Config(vocab_size=vocab, n_embd=d_model, n_layer=n_layer, n_head=n_head,
                                                n_inner=d_ff, n_positions=context, tie_word_embeddings=tie))
    classes = {"llama": (tf.LlamaConfig, tf.LlamaForCausalLM), "qwen2": (tf.Qwen2Config, tf.Qwen2ForCausalLM),
               "mistral": (tf.MistralConfig, tf.MistralForCausalLM)}
    if arch not in classes:
        raise ValueError(f"unknown architecture {arch!r} (expected one of {', '.join(ARCHITECTURES)})")
    config, model = classes[arch]
    return model(config(vocab_size=vocab, hidden_size=d_model, intermediate_size=d_ff, num_hidden_layers=n_layer,
                        num_attention_heads=n_head, num_key_value_heads=n_kv_head,
                        max_position_embeddings=context, tie_word_embeddings=tie))


def pretrain(model, tok, texts: list[str], steps: int, lr: float = 3e-3, batch_size: int = 16, seed: int = 0) -> list[float]:
    """Plain next-token training on ``texts`` (each followed by the end of text): what a
    pretrained checkpoint knows of its domain's text, without any prompt format. Returns the losses."""
    import torch
    rng = random.Random(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    losses = []
    for _ in range(steps):
        rows = [tok(t)["input_ids"] + [tok.eos_token_id] for t in rng.sample(texts, min(batch_size, len(texts)))]
        width = max(map(len, rows))
        ids = torch.tensor([r + [tok.eos_token_id] * (width - len(r)) for r in rows])
        mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
        loss = model(input_ids=ids, attention_mask=mask, labels=ids.masked_fill(mask == 0, -100)).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
        losses.append(float(loss.detach()))
    model.eval()
    return losses


def write_checkpoint(out_dir, arch: str, texts: Iterable[str], vocab_size: int = 512, pretrain_steps: int = 0,
                     **size) -> Path:
    """A Hugging Face directory (weights, config, tokenizer) of an ``arch`` model whose
    byte-level BPE tokenizer is trained on ``texts``, and the model on them for
    ``pretrain_steps`` (0: random weights): ``AutoModelForCausalLM`` and ``AutoTokenizer``
    load it like a downloaded checkpoint."""
    out = Path(out_dir)
    texts = list(texts)
    tok = _tokenizer(texts, vocab_size)
    model = build(arch, len(tok), **size)
    model.config.eos_token_id = model.generation_config.eos_token_id = tok.eos_token_id
    if pretrain_steps:
        pretrain(model, tok, texts, pretrain_steps)
    out.mkdir(parents=True, exist_ok=True)
    with quiet():
        model.save_pretrained(out)
        tok.save_pretrained(out)
    return out
