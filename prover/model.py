"""The tactic model: a small causal language model and its tokenizer, as one directory.

Why Llama-style (RoPE, RMSNorm, SwiGLU, no biases) rather than GPT-2: rotary positions
have no learned position table, so no parameters are spent on positions and the model
degrades gracefully on prompts near the context limit; it is the architecture every
current open checkpoint uses, so ``checkpoint`` can swap in a pretrained model with the
same code path; and at 5-15M parameters it trains as fast as GPT-2 on a CPU (both use
PyTorch's fused scaled-dot-product attention). ``architecture="gpt2"`` is kept for
comparison.

The tokenizer is byte-level BPE trained on the corpus (goals and tactics), with special
tokens for padding, end of sequence and the two prompt tags of :mod:`prover.prompt`, so a
tag is always one token and never merged with goal text. A model directory is a plain
Hugging Face directory (``config.json``, ``model.safetensors``, ``tokenizer.json``...):
``AutoModelForCausalLM.from_pretrained(dir)`` and ``AutoTokenizer.from_pretrained(dir)``
load it too.

Examples are encoded as ``prompt ids + target ids + eos``, the prompt and the target
tokenized separately, so sampling (which feeds exactly the prompt ids) sees the same
token boundary the model was trained on. A prompt too long for the context is shortened
with :func:`prover.prompt.clip_goals` (character level, first goal kept), the same way in
training and sampling.
"""
from __future__ import annotations

import contextlib
import json
import logging
import warnings
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Iterable

from prover.prompt import GOALS_TAG, TACTIC_TAG, clip_goals, prompt, target

PAD, EOS = "<pad>", "<eos>"
SPECIAL_TOKENS = [PAD, EOS, GOALS_TAG, TACTIC_TAG]
META_FILE = "prover_model.json"


class ModelError(RuntimeError):
    """A model directory is missing, incomplete or unreadable (message: one line, with the path)."""


def check_keys(cls, d: dict, what: str) -> None:
    """A config dict may only name fields of the dataclass ``cls``."""
    unknown = set(d) - {f.name for f in fields(cls)}
    if unknown:
        raise ValueError(f"unknown {what} config keys: {', '.join(sorted(unknown))}")


@dataclass
class ModelConfig:
    architecture: str = "llama"    # "llama" or "gpt2"
    n_layer: int = 6
    n_head: int = 8
    d_model: int = 256
    d_ff: int = 0                  # feed-forward width; 0: 8/3 d_model (llama) or 4 d_model (gpt2)
    context: int = 512             # tokens
    vocab_size: int = 4096         # BPE target size (a small corpus may give fewer)
    dropout: float = 0.0
    tokenizer_examples: int = 200_000  # examples read to train the tokenizer
    checkpoint: str | None = None  # a Hugging Face causal LM directory (or hub name) to start from instead of
                                   # building one; its architecture, tokenizer and context are the checkpoint's

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        check_keys(cls, d, "model")
        return cls(**d)


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return (text[:300] + "...") if len(text) > 300 else text or type(e).__name__


@contextlib.contextmanager
def quiet():
    """Silence transformers', accelerate's and peft's progress bars and notices (loading, saving)."""
    from transformers.utils import logging as hf_logging
    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    acc = logging.getLogger("accelerate")
    acc_level = acc.level
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    acc.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module="peft")  # e.g. saving a resized embedding with the adapter
            warnings.filterwarnings("ignore", category=FutureWarning, module="transformers")
            yield
    finally:
        hf_logging.set_verbosity(verbosity)
        acc.setLevel(acc_level)
        if bars:
            hf_logging.enable_progress_bar()


def bpe(texts: Iterable[str], vocab_size: int, special_tokens: list[str], min_frequency: int = 2):
    """A byte-level BPE (a ``tokenizers.Tokenizer``) trained on ``texts``, ``special_tokens`` first."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=special_tokens,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer)
    return tok


def train_tokenizer(texts: Iterable[str], vocab_size: int):
    """Byte-level BPE on ``texts``, wrapped as a transformers PreTrainedTokenizerFast."""
    from transformers import PreTrainedTokenizerFast
    return PreTrainedTokenizerFast(tokenizer_object=bpe(texts, vocab_size, SPECIAL_TOKENS), pad_token=PAD,
                                   eos_token=EOS, extra_special_tokens=[GOALS_TAG, TACTIC_TAG],
                                   model_max_length=1_000_000_000)


def _round_up(n: int, m: int = 64) -> int:
    return (n + m - 1) // m * m


def build_model(cfg: ModelConfig, tokenizer):
    """A freshly initialised causal LM for ``tokenizer`` (embeddings tied to the output layer)."""
    vocab = _round_up(len(tokenizer))
    ids = dict(pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
               bos_token_id=tokenizer.eos_token_id)
    if cfg.architecture == "llama":
        from transformers import LlamaConfig, LlamaForCausalLM
        hf = LlamaConfig(vocab_size=vocab, hidden_size=cfg.d_model, num_hidden_layers=cfg.n_layer,
                         num_attention_heads=cfg.n_head, num_key_value_heads=cfg.n_head,
                         intermediate_size=cfg.d_ff or _round_up(8 * cfg.d_model // 3),
                         max_position_embeddings=cfg.context, attention_dropout=cfg.dropout,
                         tie_word_embeddings=True, **ids)
        return LlamaForCausalLM(hf)
    if cfg.architecture == "gpt2":
        from transformers import GPT2Config, GPT2LMHeadModel
        hf = GPT2Config(vocab_size=vocab, n_embd=cfg.d_model, n_layer=cfg.n_layer, n_head=cfg.n_head,
                        n_inner=cfg.d_ff or 4 * cfg.d_model, n_positions=cfg.context,
                        resid_pdrop=cfg.dropout, embd_pdrop=cfg.dropout, attn_pdrop=cfg.dropout,
                        tie_word_embeddings=True, **ids)
        return GPT2LMHeadModel(hf)
    raise ModelError(f"unknown architecture {cfg.architecture!r} (expected llama or gpt2)")


def _context_of(model) -> int:
    c = model.config
    return int(getattr(c, "max_position_embeddings", None) or getattr(c, "n_positions", None) or 2048)


@dataclass
class TacticModel:
    """A causal LM, its tokenizer and the config it was built from."""

    model: object
    tokenizer: object
    config: ModelConfig
    added: tuple[int, ...] = ()  # ids of the tokens added to a checkpoint's tokenizer (rows nobody trained)

    # ---- construction -------------------------------------------------------------
    @classmethod
    def create(cls, cfg: ModelConfig, examples: Iterable[dict], dtype=None) -> "TacticModel":
        """A new model: tokenizer trained on ``examples`` (dicts with goals/tactic), or
        ``cfg.checkpoint`` (loaded in ``dtype``, default its stored one)."""
        if cfg.checkpoint:
            return cls._from_checkpoint(cfg, dtype)

        def texts():
            for i, ex in enumerate(examples):
                if i >= cfg.tokenizer_examples:
                    return
                yield prompt(ex["goals"])
                yield target(ex["tactic"])

        tokenizer = train_tokenizer(texts(), cfg.vocab_size)
        model = build_model(cfg, tokenizer)
        cls._set_generation_ids(model, tokenizer)
        return cls(model, tokenizer, cfg)

    @classmethod
    def _from_checkpoint(cls, cfg: ModelConfig, dtype=None) -> "TacticModel":
        """A Hugging Face causal LM with its own tokenizer: the pad and eos it lacks and the
        prompt tags added as special tokens (one token each), their embedding rows (and the
        rows of a grown table) set to the mean of the trained rows, deterministically, so a
        run resumed from a LoRA checkpoint rebuilds the same base; the context is the model's."""
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        try:
            with quiet():
                tokenizer = AutoTokenizer.from_pretrained(cfg.checkpoint)
                model = AutoModelForCausalLM.from_pretrained(cfg.checkpoint, **({"dtype": dtype} if dtype else {}))
            if getattr(tokenizer, "backend_tokenizer", None) is None:
                raise ModelError("the tokenizer is not a fast (tokenizers) one")
        except Exception as e:
            raise ModelError(f"{cfg.checkpoint}: cannot load checkpoint: {_one_line(e)}") from None
        before = len(tokenizer)
        added = {}
        if tokenizer.eos_token is None:
            added["eos_token"] = EOS
        if tokenizer.pad_token is None:
            added["pad_token"] = PAD
        missing_tags = [t for t in (GOALS_TAG, TACTIC_TAG) if t not in tokenizer.get_vocab()]
        if missing_tags:
            added["extra_special_tokens"] = list(missing_tags)
        if added:
            tokenizer.add_special_tokens(added)
        new_ids = tuple(range(before, len(tokenizer)))
        rows = model.get_input_embeddings().weight.shape[0]
        if len(tokenizer) > rows:
            model.resize_token_embeddings(_round_up(len(tokenizer)), mean_resizing=False)
        if new_ids:
            with torch.no_grad():
                for layer in {id(m): m for m in (model.get_input_embeddings(), model.get_output_embeddings())
                              if m is not None}.values():
                    w = layer.weight
                    w[before:] = w[:min(before, rows)].float().mean(0).to(w.dtype)
        # the checkpoint's own decoding defaults (sampling, top-k, a repetition penalty...) would
        # apply to every generate call: the policy decodes as it is told, nothing more
        from transformers import GenerationConfig
        model.generation_config = GenerationConfig()
        cls._set_generation_ids(model, tokenizer)
        cfg.context = _context_of(model)
        return cls(model, tokenizer, cfg, added=new_ids)

    @staticmethod
    def _set_generation_ids(model, tokenizer) -> None:
        for c in (model.config, model.generation_config):
            c.pad_token_id = tokenizer.pad_token_id
            c.eos_token_id = tokenizer.eos_token_id

    # ---- encoding (shared by training and sampling) --------------------------------
    @property
    def context(self) -> int:
        return min(self.config.context, _context_of(self.model))

    @property
    def eos_id(self) -> int:
        return self.tokenizer.eos_token_id

    @property
    def pad_id(self) -> int:
        return self.tokenizer.pad_token_id

    def _ids(self, text: str) -> list[int]:
        return self.tokenizer.backend_tokenizer.encode(text, add_special_tokens=False).ids

    def encode_prompt(self, goals: str, max_tokens: int) -> list[int]:
        """Token ids of ``prompt(goals)``, the goals clipped (character level) to fit ``max_tokens``."""
        ids = self._ids(prompt(goals))
        chars = len(goals)
        while len(ids) > max_tokens and chars > 1:
            chars = max(1, int(chars * max_tokens / len(ids) * 0.9))
            ids = self._ids(prompt(clip_goals(goals, chars)))
        return ids[-max_tokens:] if len(ids) > max_tokens else ids

    def encode_target(self, tactic: str) -> list[int]:
        return self._ids(target(tactic)) + [self.eos_id]

    def encode_examples(self, goals: list[str], tactics: list[str], max_len: int):
        """Per training example, (ids, prompt length), or None where the tactic alone does not
        fit: one batched tokenizer call, re-encoding only the prompts that must be clipped."""
        backend = self.tokenizer.backend_tokenizer

        def ids(texts: list[str], chunk: int = 1024) -> list[list[int]]:  # chunks: Encodings are large
            return [e.ids for i in range(0, len(texts), chunk)
                    for e in backend.encode_batch(texts[i:i + chunk], add_special_tokens=False)]

        prompts = ids([prompt(g) for g in goals])
        targets = [t + [self.eos_id] for t in ids([target(t) for t in tactics])]
        out = []
        for g, p, tgt in zip(goals, prompts, targets):
            room = min(max_len, self.context) - len(tgt)
            if room < 8:
                out.append(None)
                continue
            if len(p) > room:
                p = self.encode_prompt(g, room)
            out.append((p + tgt, len(p)))
        return out

    def decode(self, ids) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True).strip()

    def n_params(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    # ---- persistence ----------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """A model directory (a LoRA-wrapped model writes its adapter only: see :mod:`prover.lora`)."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        with quiet():
            self.model.save_pretrained(path)
            self.tokenizer.save_pretrained(path)
        (path / META_FILE).write_text(json.dumps({"format": 1, "config": asdict(self.config)}, indent=2) + "\n")
        return path


def is_model_dir(path: str | Path) -> bool:
    p = Path(path)
    return (p / "config.json").is_file() and any(p.glob("model*.safetensors")) and (p / "tokenizer.json").is_file()


def load(path: str | Path, dtype=None) -> TacticModel:
    """Load a model directory written by :meth:`TacticModel.save` (or any HF causal LM directory
    whose tokenizer has the prompt tags). Raises :class:`ModelError` naming the path."""
    from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast

    p = Path(path)
    if not p.exists():
        raise ModelError(f"{p}: no such model directory")
    if not p.is_dir():
        raise ModelError(f"{p}: not a directory")
    if not is_model_dir(p):
        raise ModelError(f"{p}: not a model directory (needs config.json, model.safetensors and tokenizer.json)")
    cfg = ModelConfig()
    try:
        if (p / META_FILE).is_file():
            cfg = ModelConfig.from_dict(json.loads((p / META_FILE).read_text())["config"])
        with quiet():
            tokenizer = PreTrainedTokenizerFast.from_pretrained(p)
            model = AutoModelForCausalLM.from_pretrained(p, **({"dtype": dtype} if dtype else {}))
    except Exception as e:
        raise ModelError(f"{p}: cannot load model: {_one_line(e)}") from None
    vocab = tokenizer.get_vocab()
    for tok in (GOALS_TAG, TACTIC_TAG):
        if tok not in vocab:
            raise ModelError(f"{p}: the tokenizer has no {tok} token (not a tactic model)")
    if tokenizer.eos_token_id is None or tokenizer.pad_token_id is None:
        raise ModelError(f"{p}: the tokenizer has no eos or pad token")
    TacticModel._set_generation_ids(model, tokenizer)
    model.eval()
    return TacticModel(model, tokenizer, cfg)
