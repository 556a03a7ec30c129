"""LeanEnv: the :class:`prover.env.Environment` protocol on top of the Lean REPL.

``open(problem)`` elaborates the problem's header once per REPL process (``import
Mathlib`` is the expensive part; every problem with the same header reuses its ``env``
id) and then ``statement := by sorry`` in that env; the sorry's proof state is the root.

``apply(state, tactic)`` runs one tactic in the REPL's tactic mode on the proof state
the current process holds for ``state``. For every State handed out the environment
remembers its tactic path from the root; the :class:`~lean_env.replay.Replayer` maps paths
to REPL ids and rebuilds them after a restart (timeout, crash, memory recycle), so
states can be extended in any order, including after the process was replaced.

Outcome mapping (``prover.env``):
  * refused by ``lean_env.cheat`` -> ``TacticError(refused=True)``, Lean never sees it;
  * ``{"message": ...}`` or any message of severity ``error`` -> ``TacticError`` with
    Lean's text; a step that produced a ``sorry`` -> ``TacticError``;
  * a search tactic (``exact?``, ``simp?``: a first word ending in ``?``) that Lean answers with
    ``Try this: T`` is stored and replayed as ``T`` (``NewState.tactic``, the proof's path):
    the proof a fresh Lean checks names the lemma instead of searching the library again;
  * no goals left: ``ProofFinished`` when the REPL's ``proofStatus`` is ``Completed``
    (or absent), else ``TacticError`` with that status (e.g. metavariables left);
  * goals left -> ``NewState`` (State id = hash of the parsed goals);
  * no answer within the timeout -> ``TacticTimeout`` (the process is killed);
  * the process died on the tactic: restart, rebuild, retry once; a second death ->
    ``TacticError``.
"""
from __future__ import annotations

from dataclasses import dataclass

from prover.env import (EnvError, Environment, NewState, Outcome, ProofFinished, State,
                        TacticError, TacticTimeout)
from prover.process import retry_once

from . import cheat, paths
from .goals import GoalParseError, parse_goals
from .protocol import ReplCrashed, ReplError, ReplNotInstalled, ReplTimeout, TacticResponse
from .repl import LeanRepl
from .replay import ReplayError, Replayer, first_error


def try_this(tactic: str, messages) -> str | None:
    """The tactic Lean suggests for a search tactic (``exact?`` -> ``Try this: exact
    Nat.one_pos``; Lean v4.33 writes ``[apply] exact Nat.one_pos``), the first of several, when
    the cheat filter accepts it; None for any other tactic or answer."""
    words = tactic.split()
    if not words or not words[0].endswith("?"):
        return None
    for m in messages:
        if m.severity != "info" or not m.data.lstrip().startswith("Try th"):
            continue
        body = m.data.split(":", 1)[1] if ":" in m.data else ""
        first = body.strip().split("\n•")[0].lstrip("• ").strip()
        if first.startswith("[") and "]" in first:  # the widget's action label
            first = first.split("]", 1)[1].strip()
        first = " ".join(first.split())
        try:
            return cheat.check_tactic(first) if first else None
        except cheat.CheatError:
            return None
    return None


@dataclass
class _Node:
    path: tuple[str, ...]
    raw_goals: tuple[str, ...]


class LeanEnv(Environment):
    backend = "lean"

    def __init__(self, repl: LeanRepl | None = None, *, command=None, cwd=None,
                 timeout: float = 60.0, memory_limit_mb: float | None = 12_000,
                 allow_native_decide: bool = False, header_timeout: float = 900.0,
                 statement_timeout: float = 300.0):
        self._own_repl = repl is None
        if repl is None:
            if command is None and paths.default_repl_command() is None:
                repl = None
            else:
                repl = LeanRepl(command, cwd=cwd, timeout=timeout, memory_limit_mb=memory_limit_mb)
        self.repl = repl
        self.timeout = timeout
        self.allow_native_decide = allow_native_decide
        self.replayer = Replayer(repl, header_timeout=header_timeout,
                                 statement_timeout=statement_timeout,
                                 replay_timeout=max(timeout, 60.0)) if repl else None
        self.problem = None
        self.root: State | None = None
        self._nodes: dict[str, _Node] = {}

    # ------------------------------------------------------------------ protocol
    def open(self, problem) -> State:
        if self.replayer is None:
            raise EnvError(paths.NOT_INSTALLED)
        self.problem = problem
        self._nodes = {}
        self.replayer.recycle_if_needed()
        try:
            info = retry_once(lambda: self.replayer.root(problem.header, problem.statement), ReplCrashed)
        except (ReplayError, ReplNotInstalled) as e:
            raise EnvError(f"{problem.name}: {e}") from None
        except ReplError as e:
            raise EnvError(f"{problem.name}: {e}") from None
        try:
            goals = parse_goals([info.goal])
        except GoalParseError as e:
            raise EnvError(f"{problem.name}: cannot parse the root goal: {e}") from None
        self.root = State(goals)
        self._nodes[self.root.id] = _Node((), (info.goal,))
        return self.root

    def apply(self, state: State, tactic: str, timeout: float | None = None) -> Outcome:
        node = self._nodes.get(state.id)
        if node is None or self.problem is None:
            raise EnvError("apply() on a state this environment did not hand out for the open problem")
        try:
            tactic = cheat.check_tactic(tactic, self.allow_native_decide)
        except cheat.CheatError as e:
            return TacticError(f"refused: {e}", refused=True)
        seconds = self.timeout if timeout is None else timeout
        prob = self.problem
        self.replayer.recycle_if_needed()

        def step():
            ps = self.replayer.proof_state(prob.header, prob.statement, node.path)
            gen = self.repl.generation
            return self.repl.tactic(tactic, ps, timeout=seconds), gen

        try:
            ans, gen = retry_once(step, ReplCrashed)
        except ReplTimeout as e:
            return TacticTimeout(e.seconds)
        except ReplCrashed as e:
            return TacticError(f"the Lean REPL crashed on this tactic: {e}", transient=True)
        except ReplayError as e:
            raise EnvError(f"cannot rebuild the state: {e}") from None
        except ReplError as e:
            raise EnvError(str(e)) from None
        return self._outcome(node, tactic, ans, gen)

    def proof_of(self, state: State) -> tuple[str, ...]:
        node = self._nodes.get(state.id)
        if node is None:
            raise EnvError("proof_of() on an unknown state")
        return node.path

    def close(self) -> None:
        if self.repl is not None and self._own_repl:
            self.repl.close()

    # ------------------------------------------------------------------ helpers
    def raw_goals(self, state: State) -> tuple[str, ...]:
        """The goals exactly as Lean printed them (with ``case`` tags)."""
        return self._nodes[state.id].raw_goals

    def _outcome(self, node: _Node, tactic: str, ans, gen: int) -> Outcome:
        err = first_error(ans)
        if err is not None:
            return TacticError(err)
        if not isinstance(ans, TacticResponse):
            return TacticError(f"unexpected answer to a tactic: {ans.to_json()}")
        if ans.sorries:
            return TacticError("the tactic left a `sorry`")
        suggested = try_this(tactic, ans.messages)
        if suggested is not None:
            tactic = suggested
        path = node.path + (tactic,)
        if not ans.goals:
            if ans.completed:
                return ProofFinished(path)
            return TacticError(f"no goals left but the proof is not complete: {ans.proof_status}")
        try:
            goals = parse_goals(list(ans.goals))
        except GoalParseError as e:
            return TacticError(f"cannot parse Lean's goals: {e}")
        new = State(goals)
        if gen == self.repl.generation:
            self.replayer.record(self.problem.header, self.problem.statement, path, ans.proof_state)
        if new.id not in self._nodes:
            self._nodes[new.id] = _Node(path, tuple(ans.goals))
        return NewState(new, tactic=suggested)
