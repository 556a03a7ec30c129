"""Parse coqtop's goal display into structured goals.

coqtop (with a wide ``Printing Width``) shows the first goal with its hypotheses and the
others as conclusions only::

    2 goals (ID 10)

      x, y : R
      H : x = 2
      ============================
      x + 1 = 3

    goal 2 (ID 11) is:
     y = y

``Show N.`` shows goal N with hypotheses in the same layout. A hypothesis that does not
fit on one line continues on lines indented deeper than the hypothesis names.
"""
from __future__ import annotations

import re

from prover.env import Goal, Hyp

BAR = "============================"
_COUNT = re.compile(r"^(\d+) goals?(?: \(ID \d+\))?\s*$", re.M)
_HYP = re.compile(r"^([^\s:,][^:]*?)\s*(:=|:)\s(.*)$", re.S)


def goal_count(text: str) -> int | None:
    """Goals shown (focused ones, when others are shelved or given up)."""
    return shown_goal_count(text)


def goals_start(text: str) -> int:
    """Offset of the goal display ("N goals") in an answer that may start with warnings."""
    m = _SHOWN.search(text)
    return m.start() if m else 0


_SHOWN = re.compile(r"^(\d+) (?:focused )?goals?((?: \((?:shelved|given up|unfocused): \d+\))*)(?: \(ID \d+\))?\s*$", re.M)


def shown_goal_count(text: str) -> int | None:
    """Like :func:`goal_count`, also for the header Coq prints when goals are shelved or
    given up ("4 focused goals (shelved: 2) (ID 255)"): the number of focused goals."""
    m = _SHOWN.search(text)
    return int(m.group(1)) if m else None


def first_goal_block(text: str) -> str:
    """The first goal of a display (hypotheses to conclusion): after the goal-count header,
    before "goal 2 (ID i) is:"."""
    m = _SHOWN.search(text)
    if m:
        text = text[m.end():]
    return re.split(r"^goal \d+(?: \(ID \d+\))? is:\s*$", text, flags=re.M)[0]


def parse_goal(text: str) -> Goal:
    """Parse one goal with hypotheses (the part from the hypotheses to the conclusion)."""
    if BAR not in text:
        raise ValueError(f"no goal separator in {text[:200]!r}")
    before, after = text.split(BAR, 1)
    conclusion = " ".join(after.split())
    hyps: list[Hyp] = []
    entries: list[str] = []
    for line in before.split("\n"):
        if not line.strip():
            continue
        if re.match(r"^\s*\d+ (?:focused )?goals?\b|^\s*goal \d+ \(ID", line):
            continue
        indent = len(line) - len(line.lstrip())
        if entries and indent > 2:
            entries[-1] += " " + line.strip()
        else:
            entries.append(line.strip())
    for e in entries:
        hyps.append(_parse_hyp(e))
    return Goal(tuple(hyps), conclusion)


def _parse_hyp(entry: str) -> Hyp:
    # "x, y : T", "x := v : T", "H : forall a : nat, a = a"
    m = re.match(r"^([\w'.,\s]+?)\s*(:=|:)\s(.*)$", entry, re.S)
    if not m:
        raise ValueError(f"cannot parse hypothesis {entry!r}")
    names = tuple(n.strip() for n in m.group(1).split(",") if n.strip())
    rest = " ".join(m.group(3).split())
    if m.group(2) == ":=":
        body, typ = _split_body(rest)
        return Hyp(names, typ, body)
    return Hyp(names, rest)


def _split_body(rest: str) -> tuple[str, str]:
    """Split ``body : type`` at the last top-level ' : ' (bodies rarely contain one)."""
    depth = 0
    cut = -1
    for i, c in enumerate(rest):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == ":" and depth == 0 and rest[i - 1:i] == " " and rest[i + 1:i + 2] == " ":
            cut = i
    if cut < 0:
        return rest, ""
    return rest[:cut].strip(), rest[cut + 1:].strip()

