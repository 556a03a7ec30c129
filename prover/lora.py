"""LoRA fine-tuning through peft: wrap a causal LM, save its adapter, merge it for generation.

Why: users start from pretrained checkpoints of 1-7B parameters, where full fine-tuning
needs optimiser state for every weight; LoRA trains low-rank adapters beside every linear
layer (rank 8-64) and leaves the base frozen, a fraction of a percent of the parameters.
Two things the plain recipe misses here: the tokens a checkpoint lacked and
:meth:`prover.model.TacticModel.create` added (the prompt tags, a pad or an eos) have
embedding rows nobody trained, so those rows are trained too (peft's trainable tokens, in
the input embedding and, when it is not tied, the output layer: an eos the model cannot
emit would never end a tactic); and every consumer of a model directory (the policy,
evaluation, the next round's fine-tuning) wants a plain model, so training ends by saving
the adapter on its own (``adapter/``) and the merged weights as the model directory.
"""
from __future__ import annotations

ADAPTER_DIR = "adapter"


def _module_name(model, module) -> str | None:
    for name, m in model.named_modules():
        if m is module:
            return name.rsplit(".", 1)[-1]
    return None


def wrap(model, rank: int, alpha: float, dropout: float, targets: list[str] | None, new_tokens=()):
    """``model`` with LoRA adapters of ``rank`` on ``targets`` (module names; None: every
    linear layer but the output layer) and the rows of ``new_tokens`` trainable; only those
    train. Raises ValueError (one line) for targets the model does not have."""
    from peft import LoraConfig, get_peft_model
    token_rows = None
    if new_tokens:
        ids = sorted(set(int(i) for i in new_tokens))
        emb_in, emb_out = model.get_input_embeddings(), model.get_output_embeddings()
        token_rows = {_module_name(model, emb_in): ids}
        if emb_out is not None and emb_out.weight is not emb_in.weight:  # untied: the output rows too
            token_rows[_module_name(model, emb_out)] = ids
    cfg = LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=dropout, task_type="CAUSAL_LM",
                     target_modules=list(targets) if targets else "all-linear",
                     trainable_token_indices=token_rows)
    from prover.model import quiet
    try:
        with quiet():
            return get_peft_model(model, cfg)
    except ValueError as e:
        raise ValueError(f"LoRA: {' '.join(str(e).split())[:300]}") from None


def trainable(model) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def merged(model):
    """The base model with the adapter's weights added in (the adapter is gone from it)."""
    return model.merge_and_unload()

