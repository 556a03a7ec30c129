"""The Coq backend's one object in the registry (``prover.backends``): every part of Coq the
pipeline uses, behind the :class:`prover.backends.Backend` interface."""
from __future__ import annotations

import re

from prover.backends import Backend
from prover.env import EnvError

from .sentences import SentenceError, one_sentence

_IDENT = re.compile(r"[^\W\d][\w']*")

# Closing automation first, then one-step openers.
MENU = (
    "reflexivity", "lia", "lra", "nia", "nra", "field", "ring", "easy", "auto", "trivial",
    "intros; lia", "intros; lra", "intros; nia", "intros; nra", "intros; field", "intros; ring",
    "intros; subst; lia", "intros; subst; lra", "intros; subst; nra", "intros; subst; field",
    "compute; reflexivity", "vm_compute; reflexivity", "intros; compute; lia",
    "intros; split; lra", "intros; split; lia", "intros; split; nra",
    "intros; field_simplify; lra", "intros; subst; field_simplify; nra",
    "intros; psatz R 3", "intros; tauto", "intros; congruence",
    "intros", "split", "subst", "simpl", "intros; subst", "field_simplify", "ring_simplify",
)
# The Coq world's automation (coq_env.automation), offered when its library is installed and
# enabled: expensive, so the cost order tries them last and only at shallow nodes or when ranked
# high. CoqHammer's reconstruction tactics only: `hammer` itself is not on the menu, because
# Coq's `Timeout` cannot stop its external provers (measured on miniF2F test under a 1 s limit:
# 14 of 17 calls ran into the outside deadline, 5.5 s each, and cost a coqtop restart); a
# policy or a menu file may still propose it (`tactic_timeouts`: {"hammer": 10}), and a proof
# it finds is stored as its reconstruction.
AUTOMATION_MENU = {
    "Hammer": ("intros; sauto", "intros; qauto"),
    "Interval": ("intros; interval",),
}
TRACE_OPTIONS = ("files", "roots", "timeout", "limit_files", "file_budget", "engine")


class CoqBackend(Backend):
    name = "coq"
    dataset = "minif2f-coq"
    suffix = ".v"
    binder_words = (r"\b(?:intros?|as|eqn|into|fun|forall|assert|pose|set|remember|enough|cut|rename|"
                    r"let|fix|cofix|match)\b")

    @property
    def menu(self) -> tuple[str, ...]:
        from .automation import enabled
        return MENU + tuple(t for lib in enabled() for t in AUTOMATION_MENU.get(lib, ()))

    # nonlinear arithmetic, evaluation and the proof-search families: slow when they fail
    expensive = ("nra", "nia", "psatz", "compute", "vm_compute", "native_compute",
                 "hammer", "sauto", "qauto", "hauto", "sfirstorder", "interval")
    auto_trace = True  # the installed Coq sources can always be traced here

    def check_available(self) -> None:
        from .coqtop import CoqMissing, find_coqtop
        try:
            find_coqtop()
        except CoqMissing as e:
            raise EnvError(str(e)) from None

    def make_env(self, **kw):
        from .env import CoqEnv
        return CoqEnv(**kw)

    def comment(self, text: str) -> str:
        return f"(* {text.replace('*)', '* )')} *)"

    def normalise(self, tactic: str) -> str:
        from .cheat import spelling
        return spelling(tactic)

    def combine(self, tactic: str, subs) -> str | None:
        """``t; s`` when every new goal gets the same ``s``, else ``t; [ a | b ]``; a
        sequence ``s`` shared by several goals goes in parentheses, so it runs per goal."""
        def bare(t: str) -> str:
            t = self.normalise(t)
            return t[:-1].rstrip() if t.endswith(".") else t

        parts = [bare(s) for s in subs]
        if not parts:
            return self.normalise(tactic)
        if len(set(parts)) == 1:  # (t; s1); s2 is t; (s1; s2) when t leaves one goal
            s = parts[0] if len(parts) == 1 or ";" not in parts[0] else f"({parts[0]})"
            return self.normalise(f"{bare(tactic)}; {s}")
        return self.normalise(f"{bare(tactic)}; [ {' | '.join(parts)} ]")

    def statement(self, goal, name: str) -> str | None:
        binders = self.binders(goal, _IDENT.fullmatch)
        if binders is None or "?" in goal.conclusion or "\n" in goal.conclusion:
            return None  # an existential variable cannot be stated
        text = f"Lemma {name}{''.join(' ' + b for b in binders)} : {goal.conclusion}."
        try:  # a conclusion that ends the sentence early or never lets it end is not stated
            one_sentence(text)
        except SentenceError:
            return None
        return text

    trace_options = TRACE_OPTIONS

    def trace(self, out, *, workers: int = 2, progress: bool = True, **options) -> dict:
        unknown = sorted(set(options) - set(TRACE_OPTIONS))
        if unknown:
            raise ValueError(f"the coq tracer takes no option {', '.join(unknown)}")
        self.check_available()
        from .trace import trace_corpus
        summary = trace_corpus(out, workers=workers, progress=progress, **options)
        brief = {
            "out": str(out),
            "pairs": {k: summary["pairs"][k] for k in ("train", "heldout")},
            "files": {k: summary["files"][k] for k in ("done", "traced", "partial", "skipped")},
            "proofs": {k: summary["proofs"][k] for k in ("replayed", "failed", "admitted", "aborted")},
            "this_run": {k: summary["this_run"][k] for k in ("traced", "resumed", "wall_seconds")},
        }
        return {"ok": not summary["this_run"]["worker_errors"], "brief": brief, "summary": summary}


BACKEND = CoqBackend()
