"""Parse Lean 4 goal displays into :class:`prover.env.Goal`.

The REPL prints each goal the way the infoview does::

    case succ
    x y : ℝ
    h₀ :
      ∀ (x : ℝ), f x = 2 * x +
        1
    n : ℕ := 5
    ⊢ x + 1 + 1 > x + 1

* an optional first line ``case TAG``;
* hypotheses ``names : type`` (several names share one type), let-bound ones as
  ``name : type := value``;
* a long type is broken by Lean's formatter onto continuation lines indented deeper than
  column 0 (``h :`` then the type on the next lines); in flat layout every such break is a
  single space, so continuation lines are joined with one space;
* the conclusion after ``⊢ ``.

A list of goals comes as a JSON list (``goals``) or, in messages such as "unsolved
goals", as one text with goals separated by blank lines.

Goals come back with ``case`` set to the tag and ``style="lean"``, so ``Goal.text()`` (the
model's prompt, the database) is Lean's own layout (``x y : T``, ``n : T := v``, ``case tag``
first), the layout LeanDojo's traced ``state_before`` has too.
"""
from __future__ import annotations

import re

from prover.env import Goal, Hyp

TURNSTILE = "⊢"
_CASE = re.compile(r"^case\s+(\S.*)$")
_COLON = re.compile(r"\s:(?=\s|$)")
_OPEN, _CLOSE = "([{⟨⦃⟦", ")]}⟩⦄⟧"


class GoalParseError(ValueError):
    pass


def _flat(lines: list[str]) -> str:
    return " ".join(x.strip() for x in lines if x.strip())


def _split_top(text: str, sep: str) -> tuple[str, str | None]:
    """Split ``text`` at the first ``sep`` outside brackets."""
    depth = 0
    i = 0
    while i < len(text):
        c = text[i]
        if c in _OPEN:
            depth += 1
        elif c in _CLOSE:
            depth = max(0, depth - 1)
        elif depth == 0 and text.startswith(sep, i):
            return text[:i], text[i + len(sep):]
        i += 1
    return text, None


def _hyp(lines: list[str]) -> Hyp:
    first = lines[0]
    m = _COLON.search(first)
    if not m:
        raise GoalParseError(f"hypothesis without ' : ': {first!r}")
    names = tuple(first[:m.start()].split())
    if not names:
        raise GoalParseError(f"hypothesis without a name: {first!r}")
    rest = _flat([first[m.end():]] + lines[1:])
    typ, body = _split_top(rest, " := ")
    return Hyp(names=names, type=typ.strip(), body=None if body is None else body.strip())


def parse_goal_tagged(text: str) -> tuple[str | None, Goal]:
    """One goal display -> (case tag or None, Goal)."""
    lines = text.strip("\n").split("\n")
    tag = None
    if lines and (m := _CASE.match(lines[0])):
        tag = m.group(1).strip()
        lines = lines[1:]
    items: list[list[str]] = []
    for line in lines:
        if not line.strip():
            continue
        if line[0].isspace() and items:
            items[-1].append(line)
        else:
            items.append([line])
    if not items or not items[-1][0].startswith(TURNSTILE):
        raise GoalParseError(f"goal without a '{TURNSTILE}' line: {text!r:.200}")
    concl = items[-1]
    hyps = tuple(_hyp(it) for it in items[:-1])
    for it in items[:-1]:
        if it[0].startswith(TURNSTILE):
            raise GoalParseError(f"two '{TURNSTILE}' lines in one goal: {text!r:.200}")
    conclusion = _flat([concl[0][len(TURNSTILE):]] + concl[1:])
    return tag, Goal(hyps=hyps, conclusion=conclusion, case=tag, style="lean")


def parse_goal(text: str) -> Goal:
    return parse_goal_tagged(text)[1]


def split_goals(text: str) -> list[str]:
    """A text holding several goals (blank-line separated, as in "unsolved goals") -> goal texts."""
    text = text.strip()
    if not text or text == "no goals":
        return []
    return [chunk for chunk in re.split(r"\n\s*\n", text) if chunk.strip()]


def parse_goals(goals: list[str] | tuple[str, ...] | str) -> tuple[Goal, ...]:
    """The REPL's ``goals`` list (or one blank-line separated text) -> Goals, in order."""
    if isinstance(goals, str):
        goals = split_goals(goals)
    out: list[Goal] = []
    for g in goals:
        out.extend(parse_goal(chunk) for chunk in split_goals(g))
    return tuple(out)


def lean_text(goal: Goal, tag: str | None = None) -> str:
    """``goal`` in Lean's own (flat) layout: ``x y : T``, ``n : T := v``, ``case tag`` first."""
    return Goal(goal.hyps, goal.conclusion, case=tag if tag is not None else goal.case, style="lean").text()
