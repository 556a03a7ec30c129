"""Lean's library premises (the ``premises`` candidate source; see ``prover.policy.premises``):
Mathlib's own premise selection, ``exact?``.

Why: ``coq_env/premises.py`` lists the loaded libraries' lemmas with Coq's ``Search`` and matches
them against the goal, because Coq 8.16 has no library search that closes a goal by a lemma.
Lean has one: ``exact?`` looks the goal up in Mathlib's discrimination trees (every lemma of the
imports, the context's hypotheses included) and closes it with the first lemma whose conclusion
unifies and whose premises ``solve_by_elim`` discharges; it fails with an error otherwise (both
recorded from the real REPL: ``Mathlib/test/exact``). The environment stores a success as the
tactic Lean suggests (``Try this: exact Nat.one_pos``, :func:`lean_env.env.try_this`), so a proof
names the lemma and a fresh Lean checks it without searching again.

Only ``exact?`` is offered: ``apply?`` closes what it cannot prove with ``sorry`` (the cheat filter
refuses it), and a variant with ``using`` has no recorded answer here. The run's own lemmas
(``use_library=False``, the ``lemmas`` source) are not offered on Lean yet: it returns nothing then.
"""
from __future__ import annotations

from prover.env import Goal


def candidates(goal: Goal, limit: int = 64, use_library: bool = True, **_options) -> list[str]:
    """``["exact?"]`` for a goal with a conclusion (at most ``limit``); [] without the library."""
    if not use_library or limit <= 0 or not goal.conclusion.strip():
        return []
    return ["exact?"]
