"""The fixed scorer: candidates in their sources' order with fixed, decreasing scores.

``MenuPolicy`` is the floor every learned policy must beat: the backend's automation menu
(optionally followed by the state's hypothesis templates, the ``menu+hyps`` ablation), the
same order at every state. Scores are a proper distribution over the first source (a
geometric decay, normalised); each later candidate scores half the one before it, so the
best-first search ranks children by the position of the tactic that made them.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

from prover.policy.base import Candidate
from prover.env import State


class FixedPolicy:
    """Policy protocol over candidate sources with the fixed scorer. ``k`` caps the
    candidates per state (None: all of them)."""

    def __init__(self, sources: Sequence, k: int | None = None, name: str | None = None):
        self.sources = list(sources)
        self.default_k = k
        self.name = name or "+".join(s.tag for s in self.sources) or "empty"

    def offered(self, state: State | None) -> list[list[str]]:
        """Each source's tactics for ``state``, each tactic only at its first source."""
        return grouped(self.sources, state)

    def propose(self, states: Sequence[State | None], k: int | None = None) -> list[list[Candidate]]:
        k = k or self.default_k
        out = []
        for s in states:
            cands = fixed_scores(self.offered(s), [src.name for src in self.sources])
            out.append(cands[:k] if k else cands)
        return out

    def begin(self, problem) -> None:
        """A new problem: sources that depend on it (its header's lemmas) learn it."""
        begin_sources(self.sources, problem)

    def widen(self, state: State, page: int, tried: set[str]) -> list[Candidate]:
        """Candidates not yet ``tried`` for a node the search expands again (``page`` 1, 2...):
        the sources' next page, scored below everything the first expansion offered."""
        last = min((c.logprob for c in fixed_scores(self.offered(state))), default=0.0)
        fresh = [(t, src.name) for src, g in zip(self.sources, grouped(self.sources, state, page, tried)) for t in g]
        return [Candidate(t, last - math.log(2) * (i + 1), name) for i, (t, name) in enumerate(fresh)]


def begin_sources(sources: Sequence, problem) -> None:
    """Tell each source that has a ``begin(problem)`` which problem the next states are of."""
    for src in sources:
        begin = getattr(src, "begin", None)
        if begin is not None:
            begin(problem)


def grouped(sources: Sequence, state: State | None, page: int = 0, tried=()) -> list[list[str]]:
    """Each source's tactics for ``state`` (None: the static sources' only), each tactic only
    at its first source and none in ``tried``. ``page`` 1, 2... asks for the page past the usual
    offer, for a search that widens a node: the sources with more to give (``more(state,
    page)``: retrieval, macros) give their next tactics, the others nothing."""
    seen: set[str] = set(tried)
    out = []
    for src in sources:
        if state is None and not src.static:
            out.append([])
            continue
        if page:
            more = getattr(src, "more", None)
            offer = more(state, page) if more else []
        else:
            offer = src.candidates(state)
        fresh = [t for t in dict.fromkeys(offer) if t not in seen]
        seen.update(fresh)
        out.append(fresh)
    return out


def fixed_scores(groups: Sequence[Sequence[str]], names: Sequence[str] | None = None) -> list[Candidate]:
    """The fixed scorer over each source's tactics (``groups``, in source order, each tactic
    once): a normalised geometric decay over the first source, then half the score before
    for each later tactic. Also the prior a model policy can mix in (``fixed_weight``).
    ``names``: the sources' names, kept on each candidate."""
    names = list(names) if names is not None else [""] * len(groups)
    tagged = [(t, n) for g, n in zip(groups, names) for t in g]
    first = len(groups[0]) if groups else 0
    weights = [0.9 ** i for i in range(first)]
    z = sum(weights) or 1.0
    cands = [Candidate(t, math.log(w / z), n) for (t, n), w in zip(tagged[:first], weights)]
    last = cands[-1].logprob if cands else 0.0
    cands += [Candidate(t, last - math.log(2) * (i + 1), n) for i, (t, n) in enumerate(tagged[first:])]
    return cands


class MenuPolicy(FixedPolicy):
    """The backend's menu (or ``tactics``), then with ``templates`` the state's hypothesis
    templates: the named policies ``menu`` and ``menu+hyps``."""

    def __init__(self, backend="coq", tactics: Sequence[str] | None = None, templates: bool = False,
                 k: int | None = None):
        from prover import backends
        from prover.policy.sources import make_source
        from prover.policy.menu import MenuSource
        b = backends.get(backend)
        menu = MenuSource(b, tactics)
        self.tactics = menu.tactics
        super().__init__([menu] + ([make_source("templates", b)] if templates else []), k=k)

    @classmethod
    def from_file(cls, path: str | Path, backend="coq") -> "MenuPolicy":
        lines = [ln.strip() for ln in Path(path).read_text().splitlines()]
        return cls(backend, [ln for ln in lines if ln and not ln.startswith("#")])


def scored_menu(backend="coq", tactics: Sequence[str] | None = None) -> list[str]:
    """A menu in the spelling stored proofs use (e.g. Coq's final period), the spelling the
    model was trained on and so the one its log-probabilities are asked for."""
    from prover import backends
    from prover.policy.menu import MenuSource
    return MenuSource(backends.get(backend), tactics).tactics
