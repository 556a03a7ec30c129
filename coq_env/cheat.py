"""The Coq cheat filter: what the search may send to Coq as one proof step.

The rule is an allow-list of tactic syntax, applied before Coq sees the text:
  * exactly one sentence (nothing after a sentence-ending period: no second command);
  * the sentence is a tactic: its head is a tactic name (lower-case identifier: every
    Coq vernacular command starts with an upper-case letter), optionally behind a goal
    selector (``all:``, ``2:``, ``[1-3]:``, ``!:``) or an opening parenthesis;
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
    "Solve", "Next", "Focus", "Unfocus", "Unfocused", "Guarded", "Abort",
}
_NO_CHECK = re.compile(r"_no_check\b")

# Goal selectors that may stand before the tactic.
_SELECTOR = re.compile(r"^\s*(?:all|par|!|\d+(?:\s*-\s*\d+)?|\[\s*[\w']+\s*\]|\d+(?:\s*,\s*\d+)+)\s*:\s*")
# a tactic name, possibly qualified by modules (``Z.order``): commands are never qualified
_HEAD = re.compile(r"(?:[A-Z][\w']*\.)*[a-z_][\w']*")
_WORD = re.compile(r"[A-Za-z_][\w']*")

# The tactic heads Coq and the libraries the prelude loads define (documentation and a
# fast path; any lower-case head is a tactic to Coq's parser, so it is accepted too).
KNOWN_TACTICS = {
    "intro", "intros", "apply", "eapply", "exact", "eexact", "refine", "simple", "assert",
    "enough", "pose", "set", "remember", "destruct", "edestruct", "induction", "einduction",
    "case", "elim", "inversion", "inversion_clear", "injection", "discriminate", "congruence",
    "f_equal", "reflexivity", "symmetry", "transitivity", "etransitivity", "rewrite", "erewrite",
    "replace", "subst", "simpl", "cbn", "cbv", "compute", "vm_compute", "native_compute",
    "unfold", "fold", "red", "hnf", "lazy", "change", "pattern", "split", "esplit", "left",
    "right", "exists", "eexists", "constructor", "econstructor", "exfalso", "contradiction",
    "contradict", "absurd", "auto", "eauto", "trivial", "easy", "now", "tauto", "intuition",
    "firstorder", "lia", "nia", "lra", "nra", "psatz", "field", "field_simplify", "ring",
    "ring_simplify", "field_simplify_eq", "omega", "zify", "clear", "clearbody", "rename",
    "revert", "generalize", "specialize", "assumption", "eassumption", "try", "repeat", "do",
    "first", "solve", "progress", "idtac", "fail", "abstract", "match", "lazymatch",
    "multimatch", "let", "fun", "unshelve", "shelve", "cut", "decide", "dependent", "functional",
    "rapply", "move", "exists2", "interval", "auto_derive", "lt_dec", "nat_compare",
    "case_eq", "destruct_all", "split_Rabs", "split_Rmult", "Rcompute", "fourier", "decompose",
    "instantiate", "evar", "setoid_rewrite", "rewrite_strat", "autorewrite",
    "autounfold", "typeclasses", "info_auto", "info_eauto", "time", "timeout", "once", "exactly_once",
    "tryif", "assert_fails", "assert_succeeds", "gfail", "constr_eq", "is_var", "has_evar",
    "classical_left", "classical_right", "nsatz", "lia_fast", "xlia", "bool_congr", "unify",
}


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
