"""Candidate source ``hints`` (label tag ``hint``): nonlinear-arithmetic hints.

Why: ``nra``/``nia`` (Lean's ``nlinarith``) prove an inequality once they are given the right
square or product to start from (``sq_nonneg (a - b)``, ``mul_pos ha hb``), and the published
proofs are mostly that: automation behind one or two hints. A fixed menu cannot spell them
(they name the goal's own atoms) and a small model rarely does, so the backend writes them from
the first goal (``coq_env/hints.py``: ``pose proof (pow2_ge_0 (a - b)); nra.``...) and the
policy's scorer orders them with everything else. The shell is
:class:`prover.policy.backend_source.BackendSource`.
"""
from __future__ import annotations

from prover.policy.backend_source import BackendSource


class HintSource(BackendSource):
    name, tag, module = "hints", "hint", "hints"
    limit_default = 48
