"""Split Coq text into sentences, the unit coqtop executes and the cheat filter judges.

Coq ends a sentence at a ``.`` followed by a blank or the end of the input, outside
comments ``(* ... *)`` (which nest) and strings ``"..."`` (where ``""`` is a quote).
At the start of a sentence, bullets (``-``, ``+``, ``*`` runs) and braces ``{`` ``}``
are sentences of their own without a period (with an optional goal selector ``2: {``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass


class SentenceError(ValueError):
    pass


@dataclass(frozen=True)
class Sentence:
    text: str      # the sentence, comments kept, leading/trailing blanks stripped
    start: int     # offset in the source
    end: int       # offset just after the sentence

    @property
    def is_structural(self) -> bool:
        """A bullet or brace: focusing, not a tactic."""
        return bool(STRUCTURAL.fullmatch(self.text))


STRUCTURAL = re.compile(r"(?:\d+\s*:\s*)?\{|\}|[-+*]+")
# Coq reads a bullet glued to its tactic (``+apply H.``) as a bullet too.
_LEAD = re.compile(r"\s*(?:(?:\d+\s*:\s*)?\{|\}|-+(?![->])|\++(?!\+)|\*+(?![*)]))")


def strip_comments(text: str) -> str:
    """Remove comments (nested), keep strings intact."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("(*", i):
            i = _skip_comment(text, i)
            out.append(" ")
        elif text[i] == '"':
            j = _skip_string(text, i)
            out.append(text[i:j])
            i = j
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _skip_comment(text: str, i: int) -> int:
    depth, n = 0, len(text)
    while i < n:
        if text.startswith("(*", i):
            depth += 1
            i += 2
        elif text.startswith("*)", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        elif text[i] == '"':
            i = _skip_string(text, i)
        else:
            i += 1
    raise SentenceError("unterminated comment")


def _skip_string(text: str, i: int) -> int:
    n = len(text)
    i += 1
    while i < n:
        if text[i] == '"':
            if i + 1 < n and text[i + 1] == '"':
                i += 2
                continue
            return i + 1
        i += 1
    raise SentenceError("unterminated string")


def _ends_sentence(text: str, i: int) -> bool:
    """A period before a blank ends a sentence, and so does ``...`` (a tactic run with the
    ``Proof with`` tactic); ``..`` (recursive notations) does not."""
    j = i
    while j > 0 and text[j - 1] == ".":
        j -= 1
    return (i - j + 1) in (1, 3)


def split_sentences(text: str, bullets: bool = True) -> list[Sentence]:
    """Split ``text`` into sentences. Trailing text without a final period is an error."""
    out: list[Sentence] = []
    i, n = 0, len(text)
    start = None
    while i < n:
        if start is None:
            # skip blanks and comments between sentences
            if text[i].isspace():
                i += 1
                continue
            if text.startswith("(*", i):
                i = _skip_comment(text, i)
                continue
            start = i
            if bullets:
                m = _LEAD.match(text, i)
                if m:
                    out.append(Sentence(text[i:m.end()].strip(), i, m.end()))
                    i, start = m.end(), None
                    continue
        c = text[i]
        if text.startswith("(*", i):
            i = _skip_comment(text, i)
        elif c == '"':
            i = _skip_string(text, i)
        elif c == "." and (i + 1 == n or text[i + 1].isspace()) and _ends_sentence(text, i):
            out.append(Sentence(text[start:i + 1].strip(), start, i + 1))
            i, start = i + 1, None
        else:
            i += 1
    if start is not None and text[start:].strip():
        raise SentenceError(f"text after the last sentence has no final period: {text[start:].strip()[:60]!r}")
    return out


def one_sentence(text: str) -> Sentence:
    """The single sentence ``text`` is; SentenceError when it is malformed or more than one
    (coqtop would wait for the rest of a sentence that never ends, such as ``: 0..``)."""
    found = split_sentences(text, bullets=False)
    if len(found) != 1:
        raise SentenceError(f"exactly one sentence expected, found {len(found)}")
    return found[0]
