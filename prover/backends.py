"""Backends: everything the pipeline needs from one proof assistant, found by name.

A backend is one object (a :class:`Backend`) registered under its name. The search, the
policies, the database, training, evaluation and the command line ask this registry and
never import ``coq_env`` or ``lean_env`` themselves, nor compare a backend's name: adding a
proof assistant is one package with one ``backend.py`` plus one line in ``REGISTRY``.

What a backend provides (each a method or attribute of :class:`Backend`):
  * ``make_env(**kw)``: an :class:`prover.env.Environment` (one prover process);
  * ``check_available()``: raises :class:`prover.env.EnvError` with one line saying what to
    install when the proof assistant cannot run here;
  * ``load_problems(...)`` and ``parse_problem(path)``: problem files into
    :class:`prover.problems.Problem`;
  * ``check_file``, ``check_proof``, ``render_proof``, ``comment``: the independent
    verdict and the proof file it reads;
  * ``menu`` and ``templates(goal)``: the automation menu and the tactics naming a goal's
    own hypotheses (candidate sources of the policies);
  * ``statement(goal, name)``: a goal as a standalone theorem statement (self-play's
    hindsight lemmas and conjectures);
  * ``refusal(tactic)`` and ``normalise(tactic)``: the cheat filter and the one canonical
    spelling of a tactic (the spelling stored proofs, and so the model, use);
  * ``trace(out, ...)`` and ``auto_trace``: the corpus tracer, and whether ``prover
    iterate`` may run it by itself when a run's corpus is missing.

Invariants: ``get(name).name == name``; ``normalise`` is idempotent; a tactic for which
``refusal`` returns a reason never reaches the proof assistant.
"""
from __future__ import annotations

import abc
import importlib
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:  # pragma: no cover
    import prover  # prover.env's types, named by their path (prover.env imports this module)
    from prover.problems import Problem

# name -> "module:attribute" of the backend object. One line per backend.
REGISTRY: dict[str, str] = {
    "coq": "coq_env.backend:BACKEND",
    "lean": "lean_env.backend:BACKEND",
}
DEFAULT = "coq"


class UnknownBackend(ValueError):
    """No backend of that name is registered."""


class Backend(abc.ABC):
    """The base every backend subclasses. A backend package keeps the project's file names
    (Evariste-style): ``problems.py`` with ``load_dir``, ``check.py`` with ``check_file``,
    ``check_proof`` and ``render_proof``, ``cheat.py`` with ``check_tactic``, ``templates.py``
    with ``templates``; the defaults below call them in the package the subclass lives in, so
    a backend overrides only what differs. Without such a module, that part is missing
    (no menu, no templates, no tracer are the other defaults)."""

    name: str = "?"
    dataset: str = ""                  # its problems' folder under the data directory (prover.paths)
    suffix: str = ""                   # its source files' suffix (a proof written to a file)
    menu: tuple[str, ...] = ()         # the automation menu, closing tactics first
    expensive: tuple[str, ...] = ()    # words of its costly decision procedures (prover.search.cost)
    trace_options: tuple[str, ...] = ()  # the options its tracer (``trace``) takes
    auto_trace: bool = False           # ``prover iterate`` traces the corpus itself when missing
    goal_style: str = "coq"            # its goals' style name (prover.env.Goal.style)
    hyp_layout: str = "comma"          # how its goals print hypotheses: "comma" or "space" (prover.env.LAYOUTS)
    # words after which a tactic may name a hypothesis it introduces (a regex; prover.policy.repair
    # then leaves its unknown names alone); these few bind names in most tactic languages
    binder_words: str = r"\b(?:intros?|as|fun|forall|let|match|set|with|assert|pose|have|obtain)\b"
    order_symbols: tuple[str, str] = ("<", "<=")  # strict and non-strict order (self-play's ``weaken``)

    def module(self, name: str):
        """The backend package's module ``name`` (``check``, ``problems``...)."""
        return importlib.import_module(f"{type(self).__module__.rsplit('.', 1)[0]}.{name}")

    # -- the prover ----------------------------------------------------------------------
    def check_available(self) -> None:
        """Raise EnvError (one line: what to install) when the proof assistant cannot run."""

    @abc.abstractmethod
    def make_env(self, **kw) -> "prover.env.Environment":
        """A new environment (one prover process); ``timeout`` is its default per tactic."""

    # -- problems ------------------------------------------------------------------------
    def load_problems(self, directory=None, split: str | None = None, limit: int | None = None,
                      on_error=None) -> list["Problem"]:
        return self.module("problems").load_dir(directory, split=split, limit=limit, on_error=on_error)

    def parse_problem(self, path) -> "Problem":
        return self.module("problems").parse_file(path)

    # -- the verdict ---------------------------------------------------------------------
    def check_file(self, path, theorem: str | None = None, timeout: float = 300.0, problem=None,
                   second_opinion: bool = False):
        """The fresh-process verdict on a file; ``second_opinion``: also the backend's
        independent kernel checker (Coq: coqchk), ValueError where it has none."""
        kw = {"second_opinion": True} if second_opinion else {}
        return self.module("check").check_file(path, theorem=theorem, timeout=timeout, problem=problem, **kw)

    def check_proof(self, problem, proof: Sequence[str], timeout: float = 300.0):
        return self.module("check").check_proof(problem, proof, timeout=timeout)

    def render_proof(self, problem, proof: Sequence[str]) -> str:
        return self.module("check").render_proof(problem, proof)

    @abc.abstractmethod
    def comment(self, text: str) -> str:
        """``text`` as a one-line comment of the proof file's language."""

    # -- tactics -------------------------------------------------------------------------
    def normalise(self, tactic: str) -> str:
        return tactic.strip()

    def check_tactic(self, tactic: str) -> str:
        """The cheat filter: the tactic as it will run, or ValueError saying why it is refused."""
        return self.module("cheat").check_tactic(tactic)

    def refusal(self, tactic: str) -> str | None:
        """Why the cheat filter refuses ``tactic``, or None when it may run."""
        try:
            self.check_tactic(tactic)
        except ValueError as e:
            return str(e)
        return None

    def combine(self, tactic: str, subs: Sequence[str]) -> str | None:
        """One tactic that runs ``tactic`` on a goal, then ``subs[i]`` on the i-th goal it
        leaves (how a sub-proof becomes a macro, ``prover.policy.macros``); None when this
        backend has no combinators (its macro source then offers nothing)."""
        return None

    def templates(self, goal: "prover.env.Goal") -> list[str]:
        """Tactics naming ``goal``'s own hypotheses and variables (``templates.py``; none
        without it)."""
        try:
            make = self.module("templates").templates
        except ModuleNotFoundError:
            return []
        return make(goal)

    def statement(self, goal: "prover.env.Goal", name: str) -> str | None:
        """A closed theorem statement named ``name`` whose proof starts in exactly ``goal``
        (its hypotheses as binders), to be placed after a problem's header: how a subgoal of
        a search tree becomes a standalone lemma or a conjecture. None when this backend
        cannot state that goal (it is then skipped)."""
        return None

    def binders(self, goal: "prover.env.Goal", name_ok) -> list[str] | None:
        """``(a b : T)`` for each hypothesis line of ``goal``, or None when one cannot be a
        binder: let-bound, spread over lines, or a name ``name_ok`` refuses."""
        out = []
        for h in goal.hyps:
            if h.body is not None or "\n" in h.type or not all(n and name_ok(n) for n in h.names):
                return None
            out.append(f"({' '.join(h.names)} : {h.type})")
        return out

    # -- the corpus ----------------------------------------------------------------------
    def trace(self, out, *, workers: int = 2, progress: bool = True, **options) -> dict:
        """Trace this backend's library into a corpus at ``out`` (``prover.corpus`` format).
        Returns ``{"ok": bool, "brief": dict, "summary": dict}``; raises EnvError when the
        tracer cannot run here and ValueError for an option it does not take."""
        from prover.errors import EnvError
        raise EnvError(f"the {self.name} backend has no tracer")

    def __repr__(self) -> str:
        return f"<backend {self.name}>"


_LOADED: dict[str, Backend] = {}


def names() -> list[str]:
    return sorted(REGISTRY)


def get(backend: "str | Backend") -> Backend:
    """The registered backend of that name (a Backend is returned as it is)."""
    if isinstance(backend, Backend):
        return backend
    if backend not in _LOADED:
        where = REGISTRY.get(backend)
        if where is None:
            raise UnknownBackend(f"unknown backend {backend!r} (expected one of {', '.join(names())})")
        module, attr = where.split(":")
        obj = getattr(importlib.import_module(module), attr)
        if obj.name != backend:
            raise UnknownBackend(f"{where} registers {obj.name!r}, not {backend!r}")
        _LOADED[backend] = obj
    return _LOADED[backend]


def check_available(backend: str) -> None:
    """Raise EnvError with one line saying what to install when ``backend`` cannot run here."""
    from prover.errors import EnvError
    try:
        b = get(backend)
    except UnknownBackend as e:
        raise EnvError(str(e)) from None
    b.check_available()


def make_env(backend: str, **kw) -> "prover.env.Environment":
    return get(backend).make_env(**kw)


def load_problems(backend: str, directory=None, split: str | None = None, limit: int | None = None,
                  on_error=None) -> list["Problem"]:
    """Problems of ``backend`` from ``directory`` (default: its miniF2F copy); ``on_error(path,
    message)`` is called for each malformed file (default: raise ProblemError)."""
    return get(backend).load_problems(directory, split=split, limit=limit, on_error=on_error)


def by_style(style: str) -> Backend | None:
    """The registered backend whose goals have ``style`` (``goal_style``), or None: the one
    named so first, then every registered one (each is loaded on first use)."""
    if style in REGISTRY and get(style).goal_style == style:
        return get(style)
    return next((get(n) for n in names() if get(n).goal_style == style), None)
