"""Candidate source ``witnesses`` (tag ``wit``): terms and case splits instantiated at a goal.

Why: an existential conclusion is closed by its witness (``exists 7; lia``), an ``if`` by the
reflection lemma of its test (``destruct (Z.leb_spec0 a 3); lia``), an existential hypothesis
is opened with named parts; the menu cannot spell a term and the templates only name what is
there. The backend reads the first goal and proposes them (``coq_env/witnesses.py``); the
policy's scorer orders them with everything else, and the proofs they find teach the model to
write such steps itself. A backend without a ``witnesses`` module offers nothing here.
"""
from __future__ import annotations

from prover.policy.backend_source import BackendSource


class WitnessSource(BackendSource):
    """The backend's ``witnesses.candidates(goal, limit=...)`` for the first goal: at most
    ``limit`` tactics per node (default 48), most promising first."""

    name, tag, module = "witnesses", "wit", "witnesses"
    limit_default = 48
    passes_limit = True
