"""The macro source: a sub-proof found earlier, offered again as one tactic.

Why: a best-first search of 8 expansions cannot find a proof of more than eight steps, however
good each step's candidates are. On miniF2F test at 16 expansions the loop's models prove
``algebra_absxm1pabsxpabsxp1eqxp2_0leqxleq1`` with ``intros. split_Rabs. lra.`` and seven
more ``lra.`` (ten steps); ``intros; split_Rabs; lra.`` is one step. The training pool's
accepted proofs and hindsight lemmas hold such sub-proofs. Each is compiled, with the
backend's tactic combinators (:meth:`prover.backends.Backend.combine`; Coq: ``t; s`` and
``t; [ a | b ]``; Lean: the sequence ``(t; a; b)``), into one tactic that redoes it, and is indexed under the state where it
started. At a new state the source offers the compiled sub-proofs of the most similar indexed
states (BM25 and hypothesis renaming as in :mod:`prover.policy.retrieval`), so one expansion
can take a learned multi-step move: library learning from the loop's own proofs, in the
sense of Tactician's tactic reuse, without a model.

Compilation: a proof is a list of (goals before, tactic) steps, the tactic applied to the
first goal. The number of goals after a step says how many new goals it left for its first
goal (``after - before + 1``; after the last step, one goal fewer), so the steps form a tree
read depth first: a step that leaves no goal is a leaf, one that leaves ``k`` is followed by
the ``k`` sub-proofs in order. Every step whose sub-tree has at least two steps gives one
entry (its first goal -> the compiled sub-tree). Step lists whose counts do not make a tree
(a step that closes goals other than its own) are skipped.

Diversity: a library grown from the loop's own proofs holds near-copies (``intros; rewrite H in
*; lra.``, the same with ``rewrite H in *`` twice, four times...) that BM25 ranks together, and
they can fill every place at a state and push out a different macro that works (the ``long2``
run lost ``aime_1983_p2``, proved by ``intros; split_Rabs; lra.``, that way). So the source
ranks the top ``DIVERSE_POOL`` times ``limit`` candidates by shape first (:func:`shape`: the
sequence of tactic names, repeats collapsed): the best of each shape in score order, then the
rest in score order. Nothing is dropped, only moved to a later page.

The index is read from a proof database like the retrieval source's, growing online and
rebuilt on resume, and never holds a problem in ``deny`` (the evaluation split) nor an
attempt under an evaluation label. A backend without combinators gets no candidates.

Invariants: candidates are in the backend's canonical spelling, pass its cheat filter, are
de-duplicated, best first; the same index and state give the same candidates.
"""
from __future__ import annotations

import re
from typing import Sequence

from prover.env import parse_goals_text
from prover.policy.retrieval import RetrievalSource


DIVERSE_POOL = 4  # the candidates reordered by shape: this many times the source's limit


def shape(tactic: str) -> tuple[str, ...]:
    """The sequence of tactic names of a compiled macro, consecutive repeats collapsed:
    ``intros; rewrite H in *; rewrite H0 in *; lra.`` -> ``(intros, rewrite, lra)``."""
    heads = [seg.split()[0].rstrip(".") for seg in re.split(r"[;\[\]|()]", tactic) if seg.strip()]
    return tuple(h for i, h in enumerate(heads) if h and (i == 0 or h != heads[i - 1]))


def diverse(tactics: Sequence[str]) -> list[str]:
    """``tactics`` (best first) with the best of each shape first, in order, then the rest in order."""
    seen: set[tuple[str, ...]] = set()
    first, rest = [], []
    for t in tactics:
        (rest if shape(t) in seen else first).append(t)
        seen.add(shape(t))
    return first + rest


def compile_steps(steps: Sequence[tuple[str, str]], combine, style: str = "coq",
                  min_steps: int = 2) -> list[tuple[str, str]]:
    """(goals text, one tactic) for every step of ``steps`` whose sub-proof of its first goal
    has at least ``min_steps`` steps; [] when the goal counts do not make a tree or the
    backend cannot combine."""
    steps = list(steps)
    if len(steps) < min_steps:
        return []
    try:
        counts = [len(parse_goals_text(g, style)) for g, _ in steps]
    except ValueError:
        return []
    after = counts[1:] + [counts[-1] - 1]
    left = [a - b + 1 for a, b in zip(after, counts)]  # goals each step leaves for its first goal
    if any(n < 0 for n in left):
        return []
    out: list[tuple[str, str]] = []

    def tree(i: int) -> tuple[str, int, int]:
        """The compiled sub-proof starting at step ``i``, the index after it, its size."""
        if i >= len(steps):
            raise IndexError(i)
        goals, tactic = steps[i]
        j, size, subs = i + 1, 1, []
        for _ in range(left[i]):
            sub, j, n = tree(j)
            subs.append(sub)
            size += n
        text = combine(tactic, subs) if subs else tactic
        if text is None:
            raise LookupError("no combinators")
        if size >= min_steps:
            out.append((goals, text))
        return text, j, size

    try:
        _, end, _ = tree(0)
    except (IndexError, LookupError, RecursionError):
        return []
    return out if end == len(steps) else []


class MacroSource(RetrievalSource):
    """Candidate source ``macros`` (tag ``macro``): the compiled sub-proofs of the ``m`` most
    similar indexed states, names mapped, at most ``limit`` distinct ones. Options: ``db``
    (a proof database path, read for new proofs before each state), ``deny`` (problem keys
    never indexed: the evaluation split), ``proofs`` (step lists to index at once). Querying,
    renaming and the online refresh are the retrieval source's; only the entries differ."""

    name, tag, static = "macros", "macro", False

    def __init__(self, backend, db: str | None = None, deny: Sequence[str] = (),
                 proofs: Sequence[Sequence[tuple[str, str]]] = (), m: int = 16, limit: int = 4):
        self.backend = backend  # entries() needs it during the first refresh in super().__init__
        super().__init__(backend, db=db, deny=deny, m=m, limit=limit)
        self.index.add(self.entries(proofs))

    def ranked(self, state, limit: int, m: int) -> list[str]:
        """The retrieval source's ranking over ``DIVERSE_POOL`` times ``limit`` candidates,
        reordered by shape (:func:`diverse`), cut to ``limit`` (every page alike)."""
        return diverse(super().ranked(state, limit * DIVERSE_POOL, m))[:limit]

    def entries(self, proofs) -> list[tuple[str, str]]:
        """Every sub-proof of two steps or more, compiled into one tactic."""
        return [e for steps in proofs for e in compile_steps(steps, self.backend.combine, self.backend.goal_style)]
