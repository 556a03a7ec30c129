"""Which engine decodes (``decode.engine``), and the vLLM adapter's plumbing on the CPU.

vLLM itself cannot run here (no GPU, and its CUDA build of torch is not installed): the
adapter is driven by a stand-in of the two vLLM calls it makes (``LLM.beam_search`` and
``LLM.generate`` on token-id prompts), which decodes with transformers one prompt at a time,
unpadded. That checks what is ours: the prompts it sends, how the sequences come back, and
that the candidates carry the transformers path's log-probabilities; never that vLLM works."""
from __future__ import annotations

import sys
import types

import pytest
import torch

from prover.policy import vllm_decoder
from prover.policy.model import load_policy
from tests.test_model import GOALS, data, tiny_cfg, trained  # noqa: F401  (fixtures: the tiny trained model)


def test_auto_is_transformers_without_a_gpu_and_vllm_is_refused_in_one_line(trained, monkeypatch):
    assert not torch.cuda.is_available()
    assert vllm_decoder.resolve("auto") == "transformers"
    assert vllm_decoder.resolve("transformers") == "transformers"
    with pytest.raises(ValueError) as e:
        vllm_decoder.resolve("vllm")
    assert "needs the vllm package and a CUDA GPU" in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(ValueError, match="unknown decoding engine 'tgi'"):
        vllm_decoder.resolve("tgi")
    out, _ = trained
    with pytest.raises(ValueError, match="vllm"):
        load_policy(out, engine="vllm")
    assert load_policy(out, engine="auto").decoder is None


class _Seq:
    def __init__(self, tokens):
        self.tokens = tokens


def stand_in_vllm(calls: list):
    """A module named vllm whose LLM decodes with transformers, prompt by prompt."""
    from transformers import AutoModelForCausalLM

    class LLM:
        def __init__(self, model, tokenizer, seed, **kw):
            calls.append(("init", model, tokenizer))
            self.model = AutoModelForCausalLM.from_pretrained(model).eval()
            self.eos = self.model.generation_config.eos_token_id

        def beam_search(self, prompts, params):
            calls.append(("beam", len(prompts), params.beam_width))
            outs = []
            for p in prompts:
                ids = torch.tensor([p["prompt_token_ids"]])
                with torch.no_grad():
                    seqs = self.model.generate(input_ids=ids, num_beams=params.beam_width, do_sample=False,
                                               num_return_sequences=params.beam_width, length_penalty=0.0,
                                               early_stopping=True, max_new_tokens=params.max_tokens,
                                               pad_token_id=self.eos, eos_token_id=self.eos)
                outs.append(types.SimpleNamespace(sequences=[_Seq(s.tolist()) for s in seqs]))
            return outs

        def generate(self, prompts, params, use_tqdm=True):
            calls.append(("sample", len(prompts), params.n))
            torch.manual_seed(params.seed)
            outs = []
            for p in prompts:
                ids = torch.tensor([p["prompt_token_ids"]])
                with torch.no_grad():
                    seqs = self.model.generate(input_ids=ids, do_sample=True, num_return_sequences=params.n,
                                               temperature=params.temperature, top_p=params.top_p, top_k=0,
                                               max_new_tokens=params.max_tokens, pad_token_id=self.eos,
                                               eos_token_id=self.eos)
                outs.append(types.SimpleNamespace(outputs=[types.SimpleNamespace(token_ids=s[ids.shape[1]:].tolist())
                                                           for s in seqs]))
            return outs

    vllm = types.ModuleType("vllm")
    vllm.LLM = LLM
    vllm.SamplingParams = lambda **kw: types.SimpleNamespace(**kw)
    sp = types.ModuleType("vllm.sampling_params")
    sp.BeamSearchParams = lambda **kw: types.SimpleNamespace(**kw)
    vllm.sampling_params = sp
    return vllm, sp


def test_the_vllm_adapter_gives_the_transformers_candidates_and_scores(trained, monkeypatch):
    out, _ = trained
    calls: list = []
    vllm, sp = stand_in_vllm(calls)
    monkeypatch.setitem(sys.modules, "vllm", vllm)
    monkeypatch.setitem(sys.modules, "vllm.sampling_params", sp)
    monkeypatch.setattr(vllm_decoder, "available", lambda: True)
    assert vllm_decoder.resolve("auto") == "vllm"
    via_vllm = load_policy(out, k=4, mode="beam", max_new_tokens=12, engine="auto")
    plain = load_policy(out, k=4, mode="beam", max_new_tokens=12, engine="transformers")
    assert via_vllm.decoder is not None and plain.decoder is None
    assert calls[0] == ("init", str(out), str(out))
    got, want = via_vllm.propose_goals(GOALS), plain.propose_goals(GOALS)
    assert calls[1] == ("beam", len(GOALS), 4)  # one call for every state of the batch
    assert [[c.tactic for c in cs] for cs in got] == [[c.tactic for c in cs] for cs in want]
    for g, w in zip(got, want):
        assert [c.logprob for c in g] == pytest.approx([c.logprob for c in w], abs=1e-3)
    # sampling goes through generate with n samples per state and the policy's seed
    sampled = load_policy(out, k=3, mode="sample", max_new_tokens=12, engine="auto", seed=5).propose_goals(GOALS[:1])
    assert calls[-1] == ("sample", 1, 6) and 0 < len(sampled[0]) <= 3
    check = plain.score(GOALS[:1], [c.tactic for c in sampled[0]])[0]
    assert [c.logprob for c in sampled[0]] == pytest.approx(check, abs=1e-4)


def test_gumbel_sampler_draws_from_the_tempered_nucleus():
    """20,000 rows, one step: the argmax of logits + the rows' noise is distributed as the
    softmax at the temperature, restricted to the top-p nucleus."""
    from prover.policy.sampling import GumbelSampler, gumbel, row_seeds
    logits = torch.tensor([2.0, 1.0, 0.0, -1.0, -3.0])
    seeds = row_seeds(["a goal"], 20000, "salt")
    ids = torch.zeros((20000, 7), dtype=torch.long)
    for temperature, top_p in [(1.0, 1.0), (0.5, 1.0), (1.0, 0.8)]:
        picked = GumbelSampler(seeds, temperature, top_p)(ids, logits.expand(20000, 5)).argmax(-1)
        freq = torch.bincount(picked, minlength=5).float() / 20000
        p = torch.softmax(logits / temperature, -1)
        if top_p < 1:  # the nucleus of [0.64, 0.23, 0.09, 0.03, 0.004] at 0.8: the first two
            p = torch.tensor([p[0], p[1], 0, 0, 0]) / (p[0] + p[1])
        assert torch.allclose(freq, p, atol=0.012), (temperature, top_p, freq, p)
    # the noise is a function of (seed, step, token): the same again, another at the next step
    assert torch.equal(gumbel(seeds[:3], 7, 5), gumbel(seeds[:3], 7, 5))
    assert not torch.equal(gumbel(seeds[:3], 7, 5), gumbel(seeds[:3], 8, 5))


def test_a_states_samples_do_not_depend_on_its_batch(trained):
    out, _ = trained
    policy = load_policy(out, k=4, mode="sample", max_new_tokens=12, seed=3, batch_size=8)
    together = policy.propose_goals(GOALS)
    alone = [policy.propose_goals([g])[0] for g in GOALS]
    reordered = policy.propose_goals(GOALS[::-1])[::-1]
    for t, a, r in zip(together, alone, reordered):
        assert [c.tactic for c in t] == [c.tactic for c in a] == [c.tactic for c in r]
        assert [c.logprob for c in t] == pytest.approx([c.logprob for c in a], abs=1e-3)
    other = load_policy(out, k=4, mode="sample", max_new_tokens=12, seed=4, batch_size=8).propose_goals(GOALS)
    assert [[c.tactic for c in cs] for cs in other] != [[c.tactic for c in cs] for cs in together]
