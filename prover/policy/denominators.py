"""Candidate source ``denominators`` (tag ``den``): real equations with their fractions cleared.

Why: ``lra`` reads a quotient by a variable as an atom and ``field`` works only on the
conclusion, so ``(x - 9) / (x + 1) = 2 -> x = -11`` is out of the menu's reach although it is
linear once multiplied out (Lean: ``field_simp at h; linarith``). The backend writes
``field_simplify_eq in H`` with a closer for the side goals the goal's own ``<>`` hypotheses
prove (``coq_env/denominators.py``). A backend without a ``denominators`` module offers
nothing here.
"""
from __future__ import annotations

from prover.policy.backend_source import BackendSource


class DenominatorSource(BackendSource):
    """The backend's ``denominators.candidates(goal, limit=...)`` for the first goal."""

    name, tag, module = "denominators", "den", "denominators"
    limit_default = 16
    passes_limit = True
