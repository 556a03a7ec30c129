"""The Coq cheat filter: what the search may send to Coq as one proof step.

The rule is an allow-list of tactic syntax, applied before Coq sees the text:
  * exactly one sentence (nothing after a sentence-ending period: no second command);
  * the sentence is a tactic: its head is a tactic name, a lower-case identifier possibly
    qualified by modules (every Coq vernacular command starts with an upper-case letter
    and is never qualified), optionally behind a goal selector (``all:``, ``2:``, ``1-3:``,
    ``!:``) or an opening parenthesis;
  * no string literals (a tactic could print text that mimics Coq's answers), no
    attributes (``#[...]``), no bullets or braces (the environment applies a tactic to
    the first goal; structure is implicit in the goal list);
  * no token that ends a proof without proving it or changes the rules, anywhere in the
    sentence: ``admit``, ``give_up``, ``*_no_check`` casts, and the vernacular words
    (``Admitted``, ``Abort``, ``Axiom``, ``Require``, ``Set``/``Unset`` as commands...).

The independent checker (``coq_env.check``) rejects the same cheats again when they are
written straight into a file; this filter only keeps them out of the search.
"""
from __future__ import annotations

import re

from .sentences import SentenceError, split_sentences, strip_comments


class CheatError(ValueError):
    """The text is not an allowed tactic; the message says why."""


# Words that may not appear anywhere in a tactic sentence.
FORBIDDEN_WORDS = {
    "admit", "give_up", "Admitted", "Abort", "Axiom", "Axioms", "Parameter", "Parameters",
    "Hypothesis", "Hypotheses", "Variable", "Variables", "Conjecture", "Context",
    "Require", "Load", "Declare", "Import", "Export", "Qed", "Defined", "Save", "Proof",
    "Unset", "Local", "Global", "Ltac", "Drop", "Reset", "Back", "BackTo", "Undo", "Restart",
    "Timeout", "Redirect", "Extraction", "Module", "Section", "End", "Opaque", "Transparent",
    "Strategy", "Arguments", "Instance", "Existing", "Hint", "Notation", "Infix", "Inductive",
    "Fixpoint", "CoFixpoint", "Definition", "Lemma", "Theorem", "Goal", "Add", "Remove",
    "Typeclasses", "Canonical", "Coercion", "Open", "Close", "Delimit", "Bind", "Show",
    "Print", "Check", "Eval", "Compute", "Search", "Locate", "Test", "Fail", "Succeed",
    "Time", "Instructions", "Optimize", "Register", "Primitive", "Universe", "Universes",
    "Polymorphic", "Monomorphic", "Cumulative", "Program", "Obligation", "Obligations",
    "Solve", "Next", "Focus", "Unfocus", "Unfocused", "Guarded",
}
_NO_CHECK = re.compile(r"_no_check\b")

# Goal selectors that may stand before the tactic.
_SELECTOR = re.compile(r"^\s*(?:all|par|!|\d+(?:\s*-\s*\d+)?|\[\s*[\w']+\s*\]|\d+(?:\s*,\s*\d+)+)\s*:\s*")
# a tactic name, possibly qualified by modules (``Z.order``): commands are never qualified
_HEAD = re.compile(r"(?:[A-Z][\w']*\.)*[a-z_][\w']*")
_WORD = re.compile(r"[A-Za-z_][\w']*")


def normalise(tactic: str) -> str:
    """One tactic as Coq will see it: comments removed, blanks collapsed, a final period."""
    try:
        t = strip_comments(tactic)
    except SentenceError as e:
        raise CheatError(f"malformed tactic: {e}") from None
    t = " ".join(t.split())
    if not t:
        raise CheatError("empty tactic")
    if not t.endswith("."):
        t += "."
    return t


def spelling(tactic: str) -> str:
    """The canonical spelling (``normalise``), or the stripped text of a tactic that has
    none (malformed: the cheat filter will say why when it is applied)."""
    try:
        return normalise(tactic)
    except CheatError:
        return tactic.strip()


def check_tactic(tactic: str) -> str:
    """Return the normalised tactic, or raise CheatError saying why it is refused."""
    t = normalise(tactic)
    if '"' in t:
        raise CheatError("string literals are not allowed in tactics")
    if re.search(r"#\s*\[", t):
        raise CheatError("attributes (#[...]) are not allowed in tactics")
    try:
        sentences = split_sentences(t, bullets=True)
    except SentenceError as e:
        raise CheatError(f"malformed tactic: {e}") from None
    if len(sentences) != 1:
        raise CheatError("exactly one sentence is allowed: nothing may follow a sentence-ending period")
    s = sentences[0]
    if s.is_structural:
        raise CheatError("bullets and braces are not tactics: the environment works on the goal list")
    body = s.text[:-1]
    if _NO_CHECK.search(body):
        raise CheatError("*_no_check tactics skip type checking and are not allowed")
    for w in _WORD.findall(body):
        if w in FORBIDDEN_WORDS:
            raise CheatError(f"{w!r} is not allowed in a tactic")
    head = _SELECTOR.sub("", body, count=1).lstrip("( ")
    m = _HEAD.match(head)
    if not m:
        raise CheatError("a tactic must start with a tactic name (a command is not a tactic)")
    return t


def allowed(tactics, limit: int) -> list[str]:
    """The first ``limit`` distinct ``tactics`` that pass the cheat filter, normalised, in order:
    what every candidate module of this backend returns."""
    out: list[str] = []
    for t in dict.fromkeys(tactics):
        try:
            t = check_tactic(t)
        except CheatError:
            continue
        if t not in out:
            out.append(t)
        if len(out) >= limit:
            break
    return out
