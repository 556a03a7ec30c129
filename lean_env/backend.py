"""The Lean 4 backend's one object in the registry (``prover.backends``): the Lean REPL,
miniF2F-lean4, the ``lake env lean`` checker and LeanDojo's tracer behind the
:class:`prover.backends.Backend` interface. Everything imports without a Lean toolchain."""
from __future__ import annotations

from prover.backends import Backend
from prover.env import EnvError

MENU = (
    "rfl", "norm_num", "linarith", "nlinarith", "positivity", "simp", "omega", "decide",
    "ring", "field_simp", "ring_nf", "norm_num [*]", "intro h", "constructor", "simp_all",
)
TRACE_OPTIONS = ("repo", "commit")
LEAN_NEEDS = "tracing Lean needs LeanDojo and a live Lean toolchain (make lean-setup)"


class LeanBackend(Backend):
    name = "lean"
    dataset = "minif2f-lean4"
    suffix = ".lean"
    menu = MENU
    expensive = ("nlinarith", "polyrith", "aesop", "decide")
    goal_style = "lean"
    hyp_layout = "space"  # `x y : T`, `n : T := v`
    binder_words = (r"\b(?:intros?|rintro|as|fun|forall|have|obtain|rcases|cases'?|induction'?|with|"
                    r"set|let|match|generalize|by_contra|by_cases|rename_i|next|case)\b|[∀λ⟨]")
    order_symbols = ("<", "≤")
    auto_trace = False  # tracing Mathlib takes hours and a Lean toolchain: `prover trace --backend lean`

    def check_available(self) -> None:
        from .paths import NOT_INSTALLED, default_repl_command, repl_binary
        if default_repl_command() is None or not repl_binary().exists():
            raise EnvError(NOT_INSTALLED)

    def make_env(self, **kw):
        from .env import LeanEnv
        return LeanEnv(**kw)

    def parse_problem(self, path):
        from pathlib import Path

        from prover.problems import ProblemError

        from .problems import parse_text
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise ProblemError(f"{path}: cannot read: {e}") from None
        return parse_text(text, str(path))

    def comment(self, text: str) -> str:
        return "-- " + " ".join(text.split())

    def normalise(self, tactic: str) -> str:
        from .cheat import normalise
        return normalise(tactic)

    def combine(self, tactic: str, subs) -> str | None:
        """``(t; a; b)``: Lean's parenthesised tactic sequence runs the steps in order, each on
        the main goal, as the search did, so the sub-proofs follow ``t`` one after the other.
        None for a multi-line step (a ``calc`` block, say), which ``;`` cannot join."""
        parts = [self.normalise(t) for t in (tactic, *subs)]
        if any("\n" in p for p in parts):
            return None
        flat = [p[1:-1] if p.startswith("(") and p.endswith(")") and _one_group(p) else p for p in parts[1:]]
        return f"({'; '.join([parts[0], *flat])})"

    def statement(self, goal, name: str) -> str | None:
        binders = self.binders(goal, lambda n: "✝" not in n)  # inaccessible names cannot be stated
        if binders is None or "?" in goal.conclusion:
            return None
        return f"theorem {name}{''.join(' ' + b for b in binders)} : {goal.conclusion}"

    trace_options = TRACE_OPTIONS

    def trace(self, out, *, workers: int = 2, progress: bool = True, **options) -> dict:
        unknown = sorted(set(options) - set(TRACE_OPTIONS))
        if unknown:
            raise ValueError(f"the lean tracer takes no option {', '.join(unknown)}")
        from .paths import lake
        from .trace import MATHLIB_URL, LeanDojoMissing, trace_repo
        if lake() is None:
            raise EnvError(f"{LEAN_NEEDS}: no lake found")
        try:
            summary = trace_repo(out, url=options.get("repo") or MATHLIB_URL, commit=options.get("commit"))
        except LeanDojoMissing as e:
            raise EnvError(str(e)) from None
        brief = {k: summary[k] for k in ("source", "pairs", "files", "wall_seconds")}
        return {"ok": True, "brief": brief, "summary": summary}


BACKEND = LeanBackend()


def _one_group(text: str) -> bool:
    """Whether ``text``'s opening parenthesis is closed only by its last character."""
    depth = 0
    for i, c in enumerate(text):
        depth += (c == "(") - (c == ")")
        if depth == 0 and i < len(text) - 1:
            return False
    return depth == 0
