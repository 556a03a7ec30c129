"""Decoding with vLLM where a GPU and the ``vllm`` package are present (``decode.engine``).

Why: on a GPU, transformers' ``generate`` pads a batch to its longest prompt and recomputes
nothing it could share; vLLM's paged attention and continuous batching keep the GPU busy
across many states, which is where a search with a 1-7B policy spends its time (BFS-Prover
and InternLM-StepProver serve their policies with it). vLLM is optional: it is never
installed by ``make setup`` (it pins a CUDA build of torch of its own), never needed on a
CPU, and ``engine: auto`` falls back to transformers without it.

vLLM only picks the token sequences (beam search, or ``n`` samples per state); their
log-probabilities come from the policy's own scorer (:meth:`ModelPolicy.score`, transformers,
temperature 1, the end of sequence included), so the candidates carry the same scores
whichever engine decoded them; the cost is one batched forward pass per state over its
candidates, small next to decoding them. Not run on this project's CPU machines: the
adapter is checked against a stand-in of vLLM's interface only (tests/test_generation.py).
"""
from __future__ import annotations

ENGINES = ("auto", "transformers", "vllm")


def available() -> bool:
    """vLLM is importable and a CUDA GPU is present."""
    import importlib.util
    import torch
    return importlib.util.find_spec("vllm") is not None and torch.cuda.is_available()


def resolve(engine: str) -> str:
    """The engine ``engine`` names (``auto``: vllm where :func:`available`, else transformers).
    Raises ValueError (one line) for an unknown engine, or vllm where it cannot run."""
    if engine not in ENGINES:
        raise ValueError(f"unknown decoding engine {engine!r} (expected one of {', '.join(ENGINES)})")
    if engine == "auto":
        return "vllm" if available() else "transformers"
    if engine == "vllm" and not available():
        raise ValueError("decoding engine vllm needs the vllm package and a CUDA GPU "
                         "(engine auto falls back to transformers)")
    return engine


class VllmDecoder:
    """Token sequences for prompts of token ids, from a model directory loaded into vLLM."""

    def __init__(self, model_dir, seed: int = 0, gpu_memory_utilization: float = 0.5):
        from vllm import LLM
        # a share of the GPU (decode.vllm_memory): the transformers copy of the model (the
        # scorer) lives beside it, and every search worker on this GPU has its own
        self.llm = LLM(model=str(model_dir), tokenizer=str(model_dir), seed=seed, dtype="bfloat16",
                       gpu_memory_utilization=gpu_memory_utilization, enable_prefix_caching=True)

    def decode(self, prompts: list[list[int]], n: int, beam: bool, max_new_tokens: int, eos_id: int,
               temperature: float = 1.0, top_p: float = 1.0, seed: int | None = None) -> list[list[list[int]]]:
        """Per prompt, the generated token ids (end of sequence excluded) of ``n`` beams or samples."""
        if beam:
            from vllm.sampling_params import BeamSearchParams
            outs = self.llm.beam_search([{"prompt_token_ids": p} for p in prompts],
                                        BeamSearchParams(beam_width=n, max_tokens=max_new_tokens, length_penalty=0.0))
            return [[_until(s.tokens[len(p):], eos_id) for s in o.sequences[:n]] for p, o in zip(prompts, outs)]
        from vllm import SamplingParams
        params = SamplingParams(n=n, temperature=temperature, top_p=top_p, max_tokens=max_new_tokens,
                                stop_token_ids=[eos_id], seed=seed)
        outs = self.llm.generate([{"prompt_token_ids": p} for p in prompts], params, use_tqdm=False)
        return [[_until(list(c.token_ids), eos_id) for c in o.outputs] for o in outs]


def _until(ids: list[int], eos_id: int) -> list[int]:
    return ids[:ids.index(eos_id)] if eos_id in ids else ids
