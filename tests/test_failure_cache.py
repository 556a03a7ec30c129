"""The failure cache (issue #14): a (goal, tactic) that failed before is not tried again, a
timeout under a shorter limit is retried under a longer one, and the cache spans the attempts
and rounds of a run through the proof database. Real Coq, real SQLite."""
from __future__ import annotations

import shutil

import pytest

from coq_env.problems import parse_file
from prover.db import ProofDB
from prover.policy import MenuPolicy, PolicySpec
from prover.search import BestFirstSearch, SearchConfig
from prover.search.failure_cache import Failure, FailureCache, failure_context, failure_key
from prover.search.runner import load_failures, run_search
from prover.search.tree import EdgeOutcome
from tests.conftest import write


class CountingEnv:
    """The real environment, counting what reaches the proof assistant."""

    def __init__(self, env):
        self.env, self.applied = env, []

    def __getattr__(self, name):
        return getattr(self.env, name)

    def apply(self, state, tactic, timeout=None):
        self.applied.append(tactic)
        return self.env.apply(state, tactic, timeout)


@pytest.fixture
def hard(tmp_path):
    # the menu below cannot prove it: every candidate fails at the root or one step down
    return parse_file(write(tmp_path / "p" / "hard.v", """
        Require Import Reals.
        Open Scope R_scope.
        Theorem hard (x : R) (n : nat) : x * x + 1 > 0 /\\ (n * n = n + 2)%nat.
        Proof.
        Admitted.
        """))


def test_lookup_rules():
    c = FailureCache()
    c.add("e", Failure("error", 1.0, "no"))
    c.add("t", Failure("timeout", 1.0))
    assert c.lookup("e", 100.0).kind == "error"          # an error holds whatever the limit
    assert c.lookup("t", 0.5).kind == "timeout"          # a timeout at 1 s answers a 0.5 s try
    assert c.lookup("t", 1.0) is not None
    assert c.lookup("t", 2.0) is None                    # ... never a longer one
    c.add("t", Failure("timeout", 4.0))                  # the longer timeout replaces the shorter
    assert c.lookup("t", 2.0) is not None
    c.add("t", Failure("error", 4.0, "boom"))            # an error replaces a timeout
    assert c.lookup("t", 60.0).kind == "error"
    c.add("t", Failure("timeout", 9.0))                  # ... and is not replaced by one
    assert c.entries["t"].kind == "error"
    assert failure_key("h1", "g", "lia.") != failure_key("h2", "g", "lia.")  # the header is part of the key


def test_second_search_skips_known_failures(env, hard):
    policy = MenuPolicy("coq", ["lia", "lra", "split", "nia", "reflexivity"])
    cfg = SearchConfig(max_expansions=4, tactic_timeout=5)
    cache = FailureCache()
    first = CountingEnv(env)
    r1 = BestFirstSearch(first, policy, cfg, failures=cache).run(hard)
    assert r1.outcome != "proved" and r1.failures and r1.cache_hits == 0
    second = CountingEnv(env)
    r2 = BestFirstSearch(second, policy, cfg, failures=cache).run(hard)
    # same tree, same outcome; only the tactics that succeeded reach Coq again
    assert r2.outcome == r1.outcome and r2.nodes.keys() == r1.nodes.keys()
    assert [(e.src, e.tactic, e.outcome) for e in r2.edges] == [(e.src, e.tactic, e.outcome) for e in r1.edges]
    assert r2.cache_hits == len([e for e in r1.edges if e.outcome in (EdgeOutcome.ERROR, EdgeOutcome.TIMEOUT)])
    assert len(second.applied) == len(first.applied) - r2.cache_hits
    assert all(e.message.startswith("[cached]") for e in r2.edges if e.outcome is EdgeOutcome.ERROR)
    assert not r2.failures  # nothing new to store


def test_timeout_is_retried_with_a_longer_limit(env, hard):
    slow = "repeat (assert True by exact I)"  # never stops: a timeout at any limit
    policy = MenuPolicy("coq", [slow])
    cache = FailureCache()
    short = CountingEnv(env)
    r1 = BestFirstSearch(short, policy, SearchConfig(max_expansions=1, tactic_timeout=0.5), failures=cache).run(hard)
    assert [e.outcome for e in r1.edges] == [EdgeOutcome.TIMEOUT]
    again = CountingEnv(env)
    BestFirstSearch(again, policy, SearchConfig(max_expansions=1, tactic_timeout=0.5), failures=cache).run(hard)
    assert again.applied == []  # the same limit: answered from the cache
    longer = CountingEnv(env)
    r3 = BestFirstSearch(longer, policy, SearchConfig(max_expansions=1, tactic_timeout=1.0), failures=cache).run(hard)
    assert len(longer.applied) == 1 and r3.cache_hits == 0  # a longer limit tries it again
    assert cache.entries[failure_key(failure_context(hard, env), r1.nodes[r1.root].goals, r1.edges[0].tactic)].limit == 1.0


def test_switched_off_nothing_is_cached(env, hard):
    policy = MenuPolicy("coq", ["lia", "lra"])
    cfg = SearchConfig(max_expansions=2, tactic_timeout=5, failure_cache=False)
    counting = CountingEnv(env)
    for _ in range(2):
        res = BestFirstSearch(counting, policy, cfg).run(hard)
        assert res.cache_hits == 0 and not res.failures
    assert len(counting.applied) == 4


def test_cache_spans_rounds_through_the_database(coq_available, tmp_path, hard):
    db = ProofDB(tmp_path / "proofs.db")
    spec = PolicySpec(sources=("menu",))
    cfg = SearchConfig(max_expansions=2, tactic_timeout=10, max_seconds=600)  # (each candidate errs at once)
    s0 = run_search([hard], db, backend="coq", spec=spec, cfg=cfg, workers=1, round=0, progress=False)
    stored = db.failure_rows()
    assert s0.cache_hits == 0 and stored
    assert len(load_failures(str(db.path))) == len(stored)
    s1 = run_search([hard], db, backend="coq", spec=spec, cfg=cfg, workers=1, round=1, progress=False)
    assert s1.cache_hits == len(stored) == 60  # every failure of round 0 (all errors) answered from the cache
    a0, a1 = (db.query("select * from attempts where round = ?", (r,))[0] for r in (0, 1))
    assert a1["outcome"] == a0["outcome"] and a1["nodes"] == a0["nodes"]
    cached = db.query("select count(*) as n from edges where attempt_id = ? and message like '[cached]%'", (a1["id"],))
    assert cached[0]["n"] == s1.cache_hits
    db.close()


def test_a_stronger_prelude_retries_what_failed_under_the_old_one(env, tmp_path):
    """`intros; lia` fails on nat `mod` without `ZifyNat`; a cache filled by an environment
    with the old prelude must not answer for the default one."""
    from coq_env.env import CoqEnv
    p = parse_file(write(tmp_path / "p" / "modn.v", """
        Require Import Nat.
        Theorem modn : forall n : nat, n mod 5 = 3 -> (2 * n) mod 5 = 1.
        Proof.
        Admitted.
        """))
    policy = MenuPolicy("coq", ["intros; lia"])
    cfg = SearchConfig(max_expansions=1, tactic_timeout=5)
    cache = FailureCache()
    with CoqEnv(prelude="Require Import Lia.") as old:
        r1 = BestFirstSearch(old, policy, cfg, failures=cache).run(p)
    assert r1.outcome != "proved" and len(cache) == 1
    r2 = BestFirstSearch(env, policy, cfg, failures=cache).run(p)
    assert r2.outcome == "proved" and r2.cache_hits == 0


class NoSolverEnv(CountingEnv):
    """The real environment as it is on a machine without csdp: no solvers, and micromega's
    `psatz` fails as it does there (a double for the cache's own bookkeeping)."""

    solvers = ""

    def apply(self, state, tactic, timeout=None):
        if "psatz" in tactic:
            from prover.env import TacticError
            self.applied.append(tactic)
            return TacticError("Tactic failure: cannot find witness (csdp is not installed).")
        return super().apply(state, tactic, timeout)


@pytest.mark.skipif(shutil.which("csdp") is None, reason="csdp is not installed (Debian coinor-csdp: make setup)")
def test_a_solver_installed_since_retries_what_failed_without_it(env, tmp_path):
    """A `psatz` failure cached while csdp was missing must not answer once it is installed."""
    p = parse_file(write(tmp_path / "p" / "sos.v", """
        Require Import Reals.
        Open Scope R_scope.
        Theorem sos (a c : R) : 2 * a * (2 + c) <= a^2 + c^2 + 4 * (1 + c).
        Proof.
        Admitted.
        """))
    policy = MenuPolicy("coq", ["psatz R 2"])
    cfg = SearchConfig(max_expansions=1, tactic_timeout=10)
    cache = FailureCache()
    blind = NoSolverEnv(env)
    assert BestFirstSearch(blind, policy, cfg, failures=cache).run(p).outcome != "proved" and len(cache) == 1
    again = BestFirstSearch(NoSolverEnv(env), policy, cfg, failures=cache).run(p)
    assert again.cache_hits == 1  # the same machine: answered by the cache
    assert "csdp" in env.solvers
    r = BestFirstSearch(env, policy, cfg, failures=cache).run(p)
    assert r.outcome == "proved" and r.cache_hits == 0
