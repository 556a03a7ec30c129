"""The environment protocol every proof assistant backend implements.

Search, model, database, training and evaluation talk only to these types, never to
Coq or Lean directly. A backend turns a :class:`~prover.problems.Problem` into a root
:class:`State`, and applies a tactic to any state it has handed out so far, in any order
(best-first search jumps between distant nodes of the tree).

Invariants:
  * ``State.id`` is a content hash of the goals: two states with the same goals, reached
    by different paths, have the same id (this is what de-duplicates the search tree).
  * ``apply`` returns exactly one of :class:`NewState`, :class:`ProofFinished`,
    :class:`TacticError` or :class:`TacticTimeout`. It never raises for a bad tactic;
    it raises :class:`EnvError` only when the backend itself cannot go on.
  * A tactic refused by the cheat filter is a :class:`TacticError` with
    ``refused=True``; it never reaches the proof assistant.
"""
from __future__ import annotations

import abc
import hashlib
import re
from dataclasses import dataclass, field
from typing import Callable, Union

from prover import backends
from prover.errors import EnvError  # the protocol's error (defined where backends can import it)


__all__ = ["EnvError", "Hyp", "LAYOUTS", "layout", "Goal", "goals_text", "parse_goals_text", "state_id",
           "renaming_key", "State", "NewState", "ProofFinished", "TacticError", "TacticTimeout", "Outcome",
           "Environment"]


@dataclass(frozen=True)
class Hyp:
    """One hypothesis line: ``names : type`` or ``names := body : type``."""

    names: tuple[str, ...]
    type: str
    body: str | None = None

    def text(self, style: str = backends.DEFAULT) -> str:
        """The line in the layout of ``style``'s backend: ``x, y : T`` / ``n := v : T`` (comma,
        Coq's) or ``x y : T`` / ``n : T := v`` (space, Lean's)."""
        return layout(style)(self)


def _comma_layout(h: Hyp) -> str:
    head = ", ".join(h.names)
    return f"{head} : {h.type}" if h.body is None else f"{head} := {h.body} : {h.type}"


def _space_layout(h: Hyp) -> str:
    line = f"{' '.join(h.names)} : {h.type}"
    return line if h.body is None else f"{line} := {h.body}"


# The hypothesis layouts goal text may use; a backend names its own (``Backend.hyp_layout``).
LAYOUTS: dict[str, Callable[[Hyp], str]] = {"comma": _comma_layout, "space": _space_layout}
_BY_STYLE: dict[str, Callable[[Hyp], str]] = {}


def layout(style: str) -> Callable[[Hyp], str]:
    """The hypothesis layout of goals of ``style`` (a backend's ``goal_style``), as that backend
    names it (loaded on demand, so rendering never depends on what was imported before); a
    style no registered backend has gets the comma layout."""
    f = _BY_STYLE.get(style)
    if f is None:
        b = backends.by_style(style)
        f = _BY_STYLE[style] = LAYOUTS[b.hyp_layout] if b is not None else _comma_layout
    return f


@dataclass(frozen=True)
class Goal:
    """One goal: its hypotheses in context order and its conclusion.

    ``case`` is Lean's case tag (``case succ``; None in Coq, whose goals have none shown) and
    ``style`` the proof assistant's own layout (``coq`` or ``lean``), so that the text the
    model reads is the text that proof assistant prints (and that its traced corpus holds)."""

    hyps: tuple[Hyp, ...]
    conclusion: str
    case: str | None = None
    style: str = backends.DEFAULT

    def text(self) -> str:
        lines = [f"case {self.case}"] if self.case else []
        line = layout(self.style)  # once per goal: goal text is rendered in the search's inner loop
        lines.extend(line(h) for h in self.hyps)
        lines.append("⊢ " + self.conclusion)
        return "\n".join(lines)


def goals_text(goals: tuple[Goal, ...] | list[Goal]) -> str:
    """The one text form of a goal list: the model's prompt, the database and the trace use it."""
    if not goals:
        return "no goals"
    return "\n\n".join(g.text() for g in goals)


def parse_goals_text(text: str, style: str = backends.DEFAULT) -> tuple[Goal, ...]:
    """The inverse of :func:`goals_text` (what the database and the corpus store): goals
    separated by a blank line, each ``[case TAG]``, hypothesis lines, ``⊢ conclusion``.
    A hypothesis line that does not parse (a continuation of a long one) is appended to the
    one before. Raises ValueError for a block without a conclusion."""
    if text.strip() in ("", "no goals"):
        return ()
    goals = []
    for block in text.split("\n\n"):
        lines = block.split("\n")
        case = None
        if lines and lines[0].startswith("case ") and " : " not in lines[0]:  # Lean's case tag
            case, lines = lines[0][5:].strip(), lines[1:]
        at = next((i for i, ln in enumerate(lines) if ln.startswith("⊢ ")), None)
        if at is None:
            raise ValueError(f"no conclusion (⊢) in goal block {block[:80]!r}")
        hyps: list[Hyp] = []
        for ln in lines[:at]:
            h = _parse_hyp(ln, style)
            if h is None:
                if not hyps:
                    raise ValueError(f"unparsable hypothesis line {ln[:80]!r}")
                last = hyps.pop()
                h = Hyp(last.names, last.type + "\n" + ln, last.body)
            hyps.append(h)
        conclusion = "\n".join([lines[at][2:]] + lines[at + 1:])
        goals.append(Goal(tuple(hyps), conclusion, case, style))
    return tuple(goals)


def _parse_hyp(line: str, style: str) -> Hyp | None:
    """One hypothesis line in ``style``'s layout; a let-bound one keeps its body (best effort:
    split at the first ``:=``); None when the line is not a hypothesis line."""
    if not line or line[0].isspace() or " : " not in line:
        return None
    head, rest = line.split(" : ", 1)
    if layout(style) is _space_layout:
        names = tuple(head.split())
        if " := " in rest:
            rest, body = rest.split(" := ", 1)
            return Hyp(names, rest, body)
        return Hyp(names, rest) if names else None
    if " := " in head:  # Coq: n := body : type (the body ends at the first " : ")
        name, body = head.split(" := ", 1)
        return Hyp(tuple(n.strip() for n in name.split(",")), rest, body)
    names = tuple(n.strip() for n in head.split(","))
    return Hyp(names, rest) if all(names) else None


def state_id(goals: tuple[Goal, ...] | list[Goal]) -> str:
    return hashlib.sha1(goals_text(goals).encode()).hexdigest()[:16]


def renaming_key(goals: tuple[Goal, ...] | list[Goal]) -> str:
    """The goals' text with each goal's local names (its hypotheses and variables) replaced by
    their position in its context: two states with the same key differ only by a renaming of
    local names (``intros.`` against ``intros x nra.``), so one is provable exactly when the
    other is. The placeholders (``§0``, ``§1``, ...) are no identifier of either proof
    assistant, so the key never equates states that differ otherwise; a bound variable that
    shares a local's name is renamed with it, which is still a renaming."""
    out = []
    for g in goals:
        names = [n for h in g.hyps for n in h.names]
        if not names:
            out.append(g.text())
            continue
        pos = {n: i for i, n in reversed(list(enumerate(names)))}
        alt = "|".join(re.escape(n) for n in sorted(pos, key=len, reverse=True))
        rx = re.compile(r"(?<![\w'.])(" + alt + r")(?![\w'])")
        out.append(rx.sub(lambda m: f"§{pos[m.group(1)]}", g.text()))
    return "\n\n".join(out) if out else goals_text(goals)


@dataclass(frozen=True)
class State:
    """A proof state: the open goals. ``id`` is stable across paths (content hash)."""

    goals: tuple[Goal, ...]
    id: str = field(default="")

    def __post_init__(self):
        if not self.id:
            object.__setattr__(self, "id", state_id(self.goals))

    def text(self) -> str:
        return goals_text(self.goals)


@dataclass(frozen=True)
class NewState:
    state: State
    tactic: str | None = None  # the tactic as it must be stored and replayed, when the backend rewrote it


@dataclass(frozen=True)
class ProofFinished:
    """No goals left. ``proof`` is the tactic script from the root, one tactic a line."""

    proof: tuple[str, ...]
    tactic: str | None = None  # the last tactic as it must be stored, when the backend rewrote it


@dataclass(frozen=True)
class TacticError:
    message: str
    refused: bool = False  # True when the cheat filter refused it before the prover saw it
    transient: bool = False  # the process failed, not the tactic (a crash): never cached


@dataclass(frozen=True)
class TacticTimeout:
    seconds: float


Outcome = Union[NewState, ProofFinished, TacticError, TacticTimeout]


class Environment(abc.ABC):
    """One proof-assistant session (one process per worker).

    Typical use::

        with CoqEnv() as env:
            root = env.open(problem)
            out = env.apply(root, "intros; lia")
    """

    backend: str = "?"

    @abc.abstractmethod
    def open(self, problem) -> State:
        """Start a problem; return its root state. Raises EnvError if it does not elaborate."""

    @abc.abstractmethod
    def apply(self, state: State, tactic: str, timeout: float | None = None) -> Outcome:
        """Apply ``tactic`` to ``state`` (any state returned so far for the open problem)."""

    @abc.abstractmethod
    def proof_of(self, state: State) -> tuple[str, ...]:
        """The tactic path from the root to ``state``."""

    def normalise(self, tactic: str) -> str:
        """The canonical spelling of a tactic (e.g. Coq's final period); identity by default."""
        return tactic.strip()

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
