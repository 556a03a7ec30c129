"""Hypothesis names a generated tactic invents, mapped onto the state's own.

A small model trained on the Coq library and on the loop's proofs writes ``apply H1`` or
``rewrite H2 in H0`` in a state whose hypotheses are ``H`` and ``H0``: it has learnt the shape
of the step but not to copy the names of the state in front of it. Coq refuses such a tactic
at once ("The reference H2 was not found"), and the idea is lost. This module offers the
same tactic with each invented name replaced by a hypothesis of the state (Tactician and the
retrieval source rename the hypotheses of a retrieved state in the same way).

What counts as invented: a name the tactic uses that is not a name of the state (any goal's
hypotheses) and that looks like a local hypothesis name: ``H``, ``H0``, ``Hx``, ``IHn``,
``h``, ``h0`` or ``h₀`` (Coq's own naming and miniF2F's), not a library lemma's. A tactic
that may bind names itself (``intros``, ``as``, ``eqn:``, ``assert``, ``set``, ``fun``...)
is left alone: a name it uses may be one it introduces.

Replacements: the state's first goal's hypotheses that are facts (the type has a relation or
a connective) or have a hypothesis-like name, the most recent first; with the same index
first when the invented name is Coq's ``H<i>`` or ``h<i>``. Distinct invented names get
distinct hypotheses; at most ``limit`` variants per tactic, none equal to the tactic.

Invariants: the result never contains the tactic itself; the same tactic and state give the
same variants in the same order.
"""
from __future__ import annotations

import itertools
import re

from prover.env import Goal

_NAME = re.compile(r"(?<![\w'.])([^\W\d][\w']*)(?![\w']|\.\w)")
_LOCAL = re.compile(r"^(?:H[\w']*|IH[\w']*|h[0-9₀-₉']*)$")
_BINDS = {  # words after which a tactic may name a hypothesis it introduces, per goal style
    "coq": re.compile(r"\b(?:intros?|as|eqn|into|fun|forall|assert|pose|set|remember|enough|cut|rename|"
                      r"let|fix|cofix|match)\b"),
    "lean": re.compile(r"\b(?:intros?|rintro|as|fun|forall|have|obtain|rcases|cases'?|induction'?|with|"
                       r"set|let|match|generalize|by_contra|by_cases|rename_i|next|case)\b|[∀λ⟨]"),
}
_FACT = re.compile(r"[=<>≤≥≠~¬∧∨↔∣]|/\\|\\/|\bTrue\b|\bFalse\b|->|→")
_SUBSCRIPT = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")


def invented(tactic: str, goals: tuple[Goal, ...], style: str = "coq") -> list[str]:
    """The hypothesis-like names ``tactic`` uses that no goal of the state has, in order of
    first use; [] when there are none or when the tactic may bind names itself."""
    known = {n for g in goals for h in g.hyps for n in h.names}
    names = [w for w in dict.fromkeys(_NAME.findall(tactic)) if _LOCAL.match(w) and w not in known]
    if names and _BINDS.get(style, _BINDS["lean"]).search(tactic):
        return []
    return names


def _index(name: str) -> int | None:
    """Coq's ``H`` is hypothesis 0 of its name family, ``H0`` 1, ``H1`` 2; ``h0``/``h₀`` is 0."""
    m = re.fullmatch(r"([Hh])([0-9₀-₉]*)", name)
    if not m:
        return None
    digits = m.group(2).translate(_SUBSCRIPT)
    if m.group(1) == "H":
        return 0 if not digits else int(digits) + 1
    return int(digits) if digits else 0


def variants(tactic: str, goals: tuple[Goal, ...], limit: int = 2, style: str = "coq") -> list[str]:
    """``tactic`` with its invented hypothesis names replaced by the first goal's facts (see
    the module docstring); [] when nothing is invented or the state has no facts to offer."""
    if not goals:
        return []
    names = invented(tactic, goals, style)
    if not names or len(names) > 3:
        return []
    used = set(_NAME.findall(tactic))
    facts = [n for h in goals[0].hyps for n in h.names
             if n not in used and (_FACT.search(h.type) or _LOCAL.match(n))]
    if len(facts) < len(names):
        return []
    recent = facts[::-1]

    def preference(name: str) -> list[str]:
        i = _index(name)
        first = [facts[i]] if i is not None and i < len(facts) else []
        return first + [f for f in recent if f not in first]

    out: list[str] = []
    for choice in itertools.product(*(preference(n) for n in names)):
        if len(set(choice)) < len(choice):
            continue
        mapping = dict(zip(names, choice))
        text = _NAME.sub(lambda m: mapping.get(m.group(1), m.group(1)), tactic)
        if text != tactic and text not in out:
            out.append(text)
        if len(out) >= limit:
            break
    return out
