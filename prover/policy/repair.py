"""Names a generated tactic invents, mapped onto names that exist.

A small model trained on the Coq library and on the loop's proofs learns the shape of a step
before it learns the names in it. On miniF2F states the default preset's round-0 model wrote,
for 150 states, 687 tactics that no source offered: 323 of them (47%) used a lemma name that
no training tactic uses (``apply Rle_lt_lt_compat``, ``rewrite Rabs_0_l``), and 23 a hypothesis
name the state lacks (``rewrite H2 in H0`` where the state has ``H`` and ``H0``). Coq refuses
such a tactic at once and the idea is lost. This module offers the same tactic with each
invented name replaced by one that exists (Tactician and the retrieval source rename the
hypotheses of a retrieved state in the same way; ReProver retrieves the premises instead).

Two kinds of invented names:
  * a hypothesis: a name the tactic uses that is not a name of the state (any goal's
    hypotheses) and looks like a local hypothesis name (``H``, ``H0``, ``Hx``, ``IHn``, ``h``,
    ``h0``, ``h₀``). Replacements: the first goal's hypotheses that are facts (the type has a
    relation or a connective) or have such a name, the most recent first; with the same index
    first when the invented name is Coq's ``H<i>`` or miniF2F's ``h<i>``.
  * a lemma: a qualified name or one with an underscore (``Rle_lt_lt_compat``, ``Z.le_le``)
    that neither the model's training tactics (``names.json``, written next to the model by
    :func:`prover.train.train`) nor the state's text use. Replacements: the training tactics'
    lemma names closest in spelling (``difflib``, ratio at least ``CLOSE``), closest first.
    Without ``names.json`` (an older model) lemma names are left alone.
A tactic that may bind names itself (``intros``, ``as``, ``eqn:``, ``assert``, ``set``,
``fun``...) is left alone: a name it uses may be one it introduces.

Distinct invented hypotheses get distinct hypotheses; at most ``limit`` variants per tactic.

Invariants: the result never contains the tactic itself; the same tactic, state and names
give the same variants in the same order.
"""
from __future__ import annotations

import difflib
import itertools
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from prover.backends import Backend
from prover.env import Goal
from prover.policy.retrieval import FACT

NAMES_FILE = "names.json"
CLOSE = 0.7           # difflib ratio a lemma name must reach to replace an invented one
_NAME = re.compile(r"(?<![\w'.])([^\W\d][\w']*(?:\.[^\W\d][\w']*)*)(?![\w'])")
_LOCAL = re.compile(r"^(?:H[\w']*|IH[\w']*|h[0-9₀-₉']*)$")
_LEMMA = re.compile(r"^(?=.{4})[^\W\d][\w'.]*[_.][\w'.]*$")
_FACT = re.compile(FACT.pattern + r"|->|→")  # an implication counts as a fact here
_SUBSCRIPT = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")


# ---- the names a model was trained on ------------------------------------------------------
def save_names(model_dir, tactics: Iterable[str], init=None) -> Path:
    """Write ``names.json``: the identifiers of ``tactics`` (a model's training tactics), with
    those of the model it was fine-tuned from (``init``), so a fine-tuned model knows them all."""
    names = set(load_names(init) or ()) if init is not None else set()
    for t in tactics:
        names.update(_NAME.findall(t))
    path = Path(model_dir) / NAMES_FILE
    path.write_text(json.dumps(sorted(names), ensure_ascii=False) + "\n")
    return path


def load_names(model_dir) -> frozenset[str] | None:
    """The names of ``model_dir``'s ``names.json``; None when there is none or it is unreadable."""
    try:
        return frozenset(json.loads((Path(model_dir) / NAMES_FILE).read_text()))
    except (OSError, ValueError, TypeError):
        return None


@lru_cache(maxsize=4)
def _lemmas(names: frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted(n for n in names if _LEMMA.match(n) and not _LOCAL.match(n)))


# ---- invented names and their replacements -------------------------------------------------
def invented(tactic: str, goals: tuple[Goal, ...], binders: str = Backend.binder_words,
             names: frozenset[str] | None = None) -> list[str]:
    """The names ``tactic`` uses that do not exist (see the module docstring), in order of first
    use; [] when there are none or when the tactic may bind names itself (after one of
    ``binders``, the backend's ``binder_words``)."""
    known = {n for g in goals for h in g.hyps for n in h.names}
    text = {w for g in goals for w in _NAME.findall(g.text())}

    def made_up(w: str) -> bool:
        if w in known:
            return False
        if _LOCAL.match(w):
            return True
        return names is not None and _LEMMA.match(w) is not None and w not in names and w not in text

    out = [w for w in dict.fromkeys(_NAME.findall(tactic)) if made_up(w)]
    if out and re.search(binders, tactic):
        return []
    return out


def _index(name: str) -> int | None:
    """Coq's ``H`` is hypothesis 0 of its name family, ``H0`` 1, ``H1`` 2; ``h0``/``h₀`` is 0."""
    m = re.fullmatch(r"([Hh])([0-9₀-₉]*)", name)
    if not m:
        return None
    digits = m.group(2).translate(_SUBSCRIPT)
    if m.group(1) == "H":
        return 0 if not digits else int(digits) + 1
    return int(digits) if digits else 0


def variants(tactic: str, goals: tuple[Goal, ...], limit: int = 2, binders: str = Backend.binder_words,
             names: frozenset[str] | None = None) -> list[str]:
    """``tactic`` with its invented names replaced by existing ones (see the module
    docstring); [] when nothing is invented or nothing can replace it."""
    if not goals:
        return []
    made_up = invented(tactic, goals, binders, names)
    if not made_up or len(made_up) > 3:
        return []
    used = set(_NAME.findall(tactic))
    facts = [n for h in goals[0].hyps for n in h.names
             if n not in used and (_FACT.search(h.type) or _LOCAL.match(n))]
    recent = facts[::-1]

    def options(name: str) -> list[str]:
        if not _LOCAL.match(name):  # a lemma
            return difflib.get_close_matches(name, _lemmas(names), n=limit, cutoff=CLOSE)
        i = _index(name)
        first = [facts[i]] if i is not None and i < len(facts) else []
        return first + [f for f in recent if f not in first]

    out: list[str] = []
    for choice in itertools.product(*(options(n) for n in made_up)):
        hyps = [c for n, c in zip(made_up, choice) if _LOCAL.match(n)]
        if len(set(hyps)) < len(hyps):
            continue
        mapping = dict(zip(made_up, choice))
        text = _NAME.sub(lambda m: mapping.get(m.group(1), m.group(1)), tactic)
        if text != tactic and text not in out:
            out.append(text)
        if len(out) >= limit:
            break
    return out
