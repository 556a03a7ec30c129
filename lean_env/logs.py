"""Lean's logs (the ``logs`` candidate source; see ``prover.policy.logs``): logarithms of
numerals taken apart into logarithms of primes.

Why: ``Real.log 27 / Real.log 3 = 3`` and ``(Real.log 80 / Real.log 2) / (Real.log 2 / Real.log
40) - ... = 2`` are field identities once every ``Real.log c`` is ``e₁ * Real.log p₁ + e₂ *
Real.log p₂ + ...`` over the primes of ``c`` and the ``Real.log p`` are known positive; the
automation sees ``Real.log 27`` and ``Real.log 3`` as unrelated atoms. ``coq_env/logs.py`` is the
same source for Coq. For the numerals ``c ≥ 2`` under ``Real.log`` in the first goal this module
writes one tactic per closer: for each composite ``c``, ``have hlog_c : Real.log c = ... := (by
rw [show (c : ℝ) = p₁ ^ e₁ * p₂ ^ e₂ by norm_num, Real.log_mul (by norm_num) (by norm_num),
Real.log_pow]; push_cast; ring)`` (in parentheses, so the tactics after it stay outside its proof), for each prime ``p`` ``have hlogpos_p : 0 < Real.log p :=
Real.log_pos (by norm_num)``, then ``rw [hlog_c, ...]`` and ``field_simp``/``ring``/``linarith``.
Numerals above ``MAX`` are left alone. Nothing here runs Lean.
"""
from __future__ import annotations

import re

from prover.env import Goal
from prover.policy.logs import factor

MAX = 10 ** 6
_LOG = re.compile(r"Real\.log\s+\(?(\d+)\)?(?![\d.])")
CLOSERS = ("field_simp; ring", "field_simp", "ring", "norm_num", "linarith")


def _power(p: int, e: int) -> str:
    return f"{p} ^ {e}" if e > 1 else str(p)


def _equation(c: int, fs: list[tuple[int, int]]) -> str:
    """``have`` of ``Real.log c`` over its primes, proved by rewriting ``c`` as their product."""
    prod = " * ".join(_power(p, e) for p, e in fs)
    value = " + ".join(f"{e} * Real.log {p}" if e > 1 else f"Real.log {p}" for p, e in fs)
    steps = [f"show ({c} : ℝ) = {prod} by norm_num"]
    steps += ["Real.log_mul (by norm_num) (by norm_num)"] * (len(fs) - 1)
    if any(e > 1 for _, e in fs):
        steps.append("Real.log_pow")
    # the proof in parentheses: a bare ``by`` would take the tactics after it into its own block
    return f"have hlog_{c} : Real.log {c} = {value} := (by rw [{', '.join(steps)}]; push_cast; ring)"


def candidates(goal: Goal, limit: int = 8) -> list[str]:
    """Prime-logarithm tactics for the first goal, one per closer; none without ``Real.log c``."""
    text = " ".join([goal.conclusion, *(h.type for h in goal.hyps)])
    nums = sorted({int(c) for c in _LOG.findall(text) if 2 <= int(c) <= MAX})
    if not nums:
        return []
    facts = {c: factor(c) for c in nums}
    composite = [c for c in nums if len(facts[c]) > 1 or facts[c][0][1] > 1]
    primes = sorted({p for fs in facts.values() for p, _ in fs})
    steps = [_equation(c, facts[c]) for c in composite]
    steps += [f"have hlogpos_{p} : 0 < Real.log {p} := Real.log_pos (by norm_num)" for p in primes]
    if composite:
        steps.append(f"rw [{', '.join(f'hlog_{c}' for c in composite)}]")
    head = "; ".join(steps)
    return [f"{head}; {c}" for c in CLOSERS][:limit]
