"""Which attempt labels are evaluations, in Python and in SQL, in one place.

Why: an evaluation's trees, proofs and timings must never train, index, prune or be counted
as new data, and four modules (retrieval, the value, the cost model's pruning, the run
comparison) ask the question. The loop labels its evaluations ``eval`` and
``menu-baseline``; ``prover eval`` writes ``eval:<policy>:<model>``. This module imports
nothing of the project, so the database, the search, self-play and the loop can all use it,
and so does :class:`LeakError`, the error the firewall raises.
"""
from __future__ import annotations


class LeakError(RuntimeError):
    """An evaluation problem would enter training (its tree, proof or statement)."""


EVAL_LABELS = ("eval", "menu-baseline")  # the loop's evaluation labels; ``prover eval`` uses ``eval:...``


def is_eval_label(label: str | None) -> bool:
    """Whether attempts under ``label`` are evaluations: their trees, proofs and timings never
    train, index or prune anything."""
    return bool(label) and (label in EVAL_LABELS or label.startswith("eval:"))


def eval_label_sql(column: str) -> str:
    """The SQL test of :func:`is_eval_label` on ``column`` (a label column, NULL: not one)."""
    labels = ", ".join(f"'{x}'" for x in EVAL_LABELS)
    return f"(coalesce({column}, '') IN ({labels}) OR coalesce({column}, '') LIKE 'eval:%')"
