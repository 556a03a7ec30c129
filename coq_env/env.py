"""The Coq backend of the environment protocol (``prover.env``).

One coqtop process per environment. A state is identified by its goals (content hash);
internally each state remembers the first tactic path that reached it. Coq itself holds
one linear history, so extending a state means: ``BackTo`` the longest common prefix of
the current path and the state's path, replay the rest, run the tactic. Best-first search
mostly extends states near the current one, so replays are short (``make bench`` measures
the cost of a jump between distant states).

Every tactic runs as ``Timeout N tactic.`` inside Coq, and under a wall-clock deadline
outside it: a hung, crashed or memory-blown process is killed, restarted, and the problem
reopened; the caller sees only a TacticTimeout/TacticError for the tactic that did it, and
every earlier state stays usable (it is rebuilt by replay on demand).

A ``Timeout!`` that Coq gives far sooner than the limit it was given is no timeout: it is a
coqtop whose alarm broke (seen once in a 244-problem evaluation, after `sauto` hit its limit
and `qauto` failed: from then on `lia`, `lra`, `nra` and `sauto` answered ``Timeout!`` within
5 ms on every goal, for the rest of the process's life). Such an answer restarts the process
and runs the tactic again; only a second early ``Timeout!`` from a fresh process is believed.
"""
from __future__ import annotations

import math
import re
import time

from prover.env import (EnvError, Environment, Goal, NewState, Outcome, ProofFinished,
                        State, TacticError, TacticTimeout)
from prover.problems import Problem
from prover.process import retry_once

from . import automation
from . import goals as G
from .cheat import CheatError, check_tactic, spelling
from .coqtop import CoqDied, CoqHang, Coqtop
from .sentences import SentenceError, one_sentence, split_sentences

# A Timeout! sooner than this fraction of the limit Coq was given is a broken alarm, not a timeout.
EARLY_TIMEOUT = 0.25

# Loaded after the problem's own imports and before its statement. These modules add
# tactics only (lia, nia, lra, nra, psatz); they export no names that could shadow the
# statement's. (`Field`/`Ring` would: their `condition` shadowed a miniF2F definition.
# `field` and `ring` come with Reals, ZArith and Arith themselves.) Checked in
# tests/test_coq_env.py against the same statements opened without the prelude.
# `ZifyNat` teaches lia/nia nat's `mod`, `/` and `^` (and turns `Z.modulo`/`Z.div` by constants
# into Euclidean equations): with it menu + templates proves 79 miniF2F test problems at 8
# expansions instead of 66 (11 of the 13 by `lia`, e.g. `n mod 5 = 3 -> (2 * n) mod 5 = 1`,
# `5 ^ 30 mod 7 = 1`; data/results/ablation_zifynat_test8.md).
PRELUDE = "Require Import Lia Lra Psatz ZifyNat."
# Preludes of earlier versions: a proof file written with one of them still checks.
LEGACY_PRELUDES = ("Require Import Lia Lra Psatz.",)
SETTINGS = ["Set Printing Width 1000.", "Set Printing Depth 1000."]
_ERROR = re.compile(r"^Error:\s*(.*)", re.M | re.S)


def coq_error(output: str) -> str | None:
    """Coq's error message in an answer, or None when the answer has none."""
    m = _ERROR.search(output)
    if not m:
        return None
    return " ".join(m.group(1).split())


class CoqEnv(Environment):
    backend = "coq"

    def __init__(self, timeout: float = 5.0, mem_limit_mb: int = 4096, recycle_mb: int = 2048,
                 load_timeout: float = 300.0, grace: float = 5.0, prelude: str | None = None):
        self.timeout = timeout
        self.mem_limit_mb = mem_limit_mb
        self.recycle_mb = recycle_mb
        self.load_timeout = load_timeout
        self.grace = grace
        # default: the tactic prelude and the installed automation (coq_env.automation)
        self.prelude = f"{PRELUDE} {automation.env_prelude()}".strip() if prelude is None else prelude
        self.preload = automation.preload() if prelude is None else ""
        # the external solvers its tactics may call: part of the failure cache's context
        self.solvers = " ".join(automation.solvers())
        self.coq: Coqtop | None = None
        self.problem: Problem | None = None
        self.restarts = 0
        self.broken_timers = 0  # early Timeout! answers that restarted the process
        self._retrying = False
        self._spent = False  # the process answered "Out of memory.": replaced before its next tactic
        self._paths: dict[str, tuple[str, ...]] = {}
        self._cur: list[tuple[str, int]] = []   # current Coq path: (tactic, state number after it)
        self._root_n = 0
        self._base_n = 0
        self.root: State | None = None

    # -- process ------------------------------------------------------------------
    def _start(self) -> None:
        self.coq = Coqtop(mem_limit_mb=self.mem_limit_mb)
        for s in SETTINGS:
            self.coq.send(s)
        if self.preload:  # load (not import) the automation once: each problem then imports it fast
            for s in split_sentences(self.preload, bullets=False):
                out, _, _ = self.coq.send(s.text, timeout=self.load_timeout)
                if coq_error(out):
                    raise EnvError(f"cannot load {s.text}: {coq_error(out)}")
        self._base_n = self.coq.state

    def _restart(self) -> None:
        if self.coq is not None:
            self.coq.kill()
        self.coq = None
        self._spent = False
        self.restarts += 1
        self._start()
        if self.problem is not None:
            self._load(self.problem)

    def close(self) -> None:
        if self.coq is not None:
            self.coq.close()
            self.coq = None

    # -- problems -----------------------------------------------------------------
    def open(self, problem: Problem) -> State:
        if self.coq is None or not self.coq.alive():
            self._start()
        self.problem = problem
        self._paths = {}
        try:
            self.root = self._load(problem)
        except EnvError:
            self.problem = None
            raise
        self._paths[self.root.id] = ()
        return self.root

    def problem_sentences(self, problem: Problem) -> list[str]:
        try:
            header = [s.text for s in split_sentences(problem.header, bullets=False)]
        except SentenceError as e:
            raise EnvError(f"{problem.name}: malformed header: {e}") from None
        prelude = [s.text for s in split_sentences(self.prelude, bullets=False)] if self.prelude else []
        try:
            statement = one_sentence(problem.statement).text
        except SentenceError as e:
            raise EnvError(f"{problem.name}: malformed statement: {e}") from None
        return header + prelude + [statement]

    def _load(self, problem: Problem) -> State:
        coq = self.coq
        if coq.state != self._base_n:
            out, n, _ = coq.send(f"BackTo {self._base_n}.")
            if coq_error(out):
                raise EnvError(f"{problem.name}: cannot reset coqtop: {coq_error(out)}")
        self._cur = []
        out = ""
        try:
            for s in self.problem_sentences(problem):
                out, n, name = coq.send(s, timeout=self.load_timeout)
                err = coq_error(out)
                if err:
                    coq.send(f"BackTo {self._base_n}.")
                    raise EnvError(f"{problem.name}: does not elaborate: {err}")
        except (CoqDied, CoqHang) as e:
            self.coq.kill()
            self._start()
            raise EnvError(f"{problem.name}: does not elaborate: {e}") from None
        if coq.proof in ("", "Coq"):
            raise EnvError(f"{problem.name}: the statement did not open a proof")
        self._root_n = coq.state
        goals = self._goals_from(out)
        if goals is None or not goals:
            raise EnvError(f"{problem.name}: no goal after the statement: {out.strip()[:200]}")
        return State(tuple(goals))

    # -- navigation ---------------------------------------------------------------
    def proof_of(self, state: State) -> tuple[str, ...]:
        try:
            return self._paths[state.id]
        except KeyError:
            raise EnvError(f"unknown state {state.id} for problem "
                           f"{self.problem.name if self.problem else '?'}") from None

    def _goto(self, path: tuple[str, ...]) -> None:
        cur = [t for t, _ in self._cur]
        k = 0
        while k < len(cur) and k < len(path) and cur[k] == path[k]:
            k += 1
        if k < len(cur):
            target = self._cur[k - 1][1] if k > 0 else self._root_n
            out, _, _ = self.coq.send(f"BackTo {target}.")
            if coq_error(out):
                raise EnvError(f"BackTo {target} failed: {coq_error(out)}")
            del self._cur[k:]
        for t in path[k:]:
            out, n, _ = self.coq.send(self._timed(t, max(self.timeout, 1.0) * 4),
                                      timeout=max(self.timeout, 1.0) * 4 + self.grace)
            err = coq_error(out)
            if err:
                raise EnvError(f"replaying {t!r} failed: {err}")
            self._cur.append((t, n))

    @staticmethod
    def _timed(tactic: str, seconds: float) -> str:
        return f"Timeout {max(1, math.ceil(seconds))} {tactic}"

    # -- the protocol -------------------------------------------------------------
    def normalise(self, tactic: str) -> str:
        return spelling(tactic)

    def apply(self, state: State, tactic: str, timeout: float | None = None) -> Outcome:
        if self.problem is None:
            raise EnvError("no problem is open")
        timeout = self.timeout if timeout is None else timeout
        try:
            t = check_tactic(tactic)
        except CheatError as e:
            return TacticError(str(e), refused=True)
        path = self.proof_of(state)

        def attempt() -> Outcome:
            if self.coq is None or not self.coq.alive():
                self._restart()
            elif self._spent or self.recycle_mb and self.coq.rss_mb() > self.recycle_mb:
                self._restart()  # (an "Out of memory." leaves the heap spent whatever its size)
            self._goto(path)
            return self._run(path, t, timeout)

        # killed from outside, or by this tactic (or its alarm broke): rebuilt; one more try tells which
        self._retrying = False
        try:
            return retry_once(attempt, CoqDied, before_retry=self._retry)
        except CoqHang:
            self._restart()
            return TacticTimeout(timeout)
        except CoqDied as e:
            self._restart()
            return TacticError(f"Coq process died: {e}", transient=True)

    def _retry(self) -> None:
        self._retrying = True
        self._restart()

    def _run(self, path: tuple[str, ...], t: str, timeout: float) -> Outcome:
        coq = self.coq
        before = coq.state
        t0 = time.monotonic()
        out, n, _ = coq.send(self._timed(t, timeout), timeout=timeout + self.grace)
        err = coq_error(out)
        if err:
            if err.startswith("Timeout!"):
                took = time.monotonic() - t0
                if took < EARLY_TIMEOUT * max(1, math.ceil(timeout)) and not self._retrying:
                    self.broken_timers += 1
                    raise CoqDied(f"Timeout! after {took:.3f}s of a {timeout:g}s limit: a broken alarm")
                return TacticTimeout(timeout)
            if err.startswith("Out of memory"):
                self._spent = True  # every later tactic in this process answers the same: replaced first
            return TacticError(err)
        if n == before:
            return TacticError(f"tactic had no effect on Coq's state: {out.strip()[:200]}")
        rewritten = None
        if automation.uses_hammer(t):  # store what CoqHammer reconstructed, never the ATP call
            rewritten = automation.reconstruct(t, out)
            if rewritten is None:
                coq.send(f"BackTo {before}.")
                return TacticError("hammer found a proof but reported no single reconstruction to store")
            t = rewritten
        self._cur.append((t, n))
        new_path = path + (t,)
        if G.goal_count(out) is None and not re.search(r"^No more goals\.", out, re.M):
            # coqtop shows nothing when it thinks the display did not change: ask.
            out, n, _ = coq.send("Show.", timeout=timeout + self.grace)
            self._cur[-1] = (t, n)
        if re.search(r"^No more goals\.", out, re.M):
            return ProofFinished(new_path, tactic=rewritten)
        try:
            goals = self._goals_from(out)
        except ValueError as e:  # a display this parser does not know: this tactic's failure, not the search's
            return TacticError(f"unsupported proof state after tactic: {e}")
        if goals is None:
            msg = " ".join(out.split())[:300]
            return TacticError(f"unsupported proof state after tactic: {msg}")
        st = State(tuple(goals))
        self._paths.setdefault(st.id, new_path)
        return NewState(st, tactic=rewritten)

    def _goals_from(self, out: str) -> list[Goal] | None:
        """Structured goals from a tactic's answer; ``Show k.`` for goals 2..n."""
        count = G.goal_count(out)
        if count is None:
            return None
        out = out[G.goals_start(out):]  # drop warnings and messages printed before the goals
        first_text = re.split(r"^goal \d+(?: \(ID \d+\))? is:\s*$", out, flags=re.M)[0]
        goals = [G.parse_goal(first_text)]
        if count > 1:
            answers = self.coq.send_many([f"Show {k}." for k in range(2, count + 1)],
                                         timeout=self.timeout + self.grace)
            for a, _, _ in answers:
                m = re.search(r"^goal \d+ \(ID \d+\) is:", a, re.M)
                goals.append(G.parse_goal(a[m.start():] if m else a))
            if self._cur:
                self._cur[-1] = (self._cur[-1][0], self.coq.state)
            else:
                self._root_n = self.coq.state
        return goals
