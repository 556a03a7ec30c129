"""Search paths the default preset takes that had no test (issue #37): the ``max_seconds`` outcome,
the ``max_depth`` cutoff, per-tactic ``tactic_timeouts``, a prover crash never becoming a cached
failure, the database keeping the stronger of two failures, a problem that cannot be opened (or a
prover that cannot start) becoming an error attempt, and a resume skipping attempts that ended in
error. Real Coq, real SQLite; the only double is the crash injected into coqtop's pipe."""
from __future__ import annotations

import os
import signal

import pytest

from coq_env.problems import parse_file
from prover.db import ProofDB
from prover.policy import MenuPolicy, PolicySpec
from prover.search import BestFirstSearch, SearchConfig
from prover.search.failure_cache import Failure, FailureCache, failure_context, failure_key, failure_row
from prover.search.runner import load_failures, run_search
from prover.search.tree import EdgeOutcome, SearchResult, Status
from tests.conftest import write

NEVER_ENDS = "repeat (assert True by exact I)"  # times out under any limit


@pytest.fixture(scope="module")
def coq(coq_available):
    """One default environment for this module's searches (each search opens its problem afresh)."""
    from coq_env.env import CoqEnv
    from prover.problems import Problem
    e = CoqEnv(timeout=10)
    e.open(Problem("warm", "valid", "coq", "", "Theorem warm : True."))  # started before any search's clock
    yield e
    e.close()


@pytest.fixture(scope="module")
def deep(tmp_path_factory):
    # three steps from the menu below: split, then lra for the real goal, then lia for the nat one
    return parse_file(write(tmp_path_factory.mktemp("p") / "deep.v", """
        Require Import Reals.
        Open Scope R_scope.
        Theorem deep (x : R) (n : nat) : x + 0 = x /\\ (n + 0 = n)%nat.
        Proof.
        Admitted.
        """))


def _db(tmp_path, problems=()):
    db = ProofDB(tmp_path / "proofs.db")
    db.add_problems(problems)
    return db, db.start_run({"command": "test"})


# ---- max_seconds ------------------------------------------------------------------------------

def test_a_search_stopped_by_max_seconds_records_the_timeout_outcome(coq, deep, tmp_path, monkeypatch):
    """The root's first candidate opens a child; its second runs into its 1 s tactic limit, past
    the 0.9 s search budget. The search stops with expansions and an open node left: outcome
    ``timeout``, not ``budget`` or ``failed``, and the database records it so.

    The search's clock is the test's: it stands still while Coq opens the problem and applies
    a tactic, and moves by the tactic's limit when Coq runs out of it, so the deadline falls
    exactly there however loaded the machine is (Coq itself is real and really times out)."""
    from prover.search import best_first

    clock = [0.0]
    monkeypatch.setattr(best_first, "time", type("Clock", (), {"perf_counter": staticmethod(lambda: clock[0])}))
    real_apply = coq.apply

    def apply(state, tactic, timeout=None):
        out = real_apply(state, tactic, timeout)
        clock[0] += timeout if type(out).__name__ == "TacticTimeout" else 0.01
        return out

    monkeypatch.setattr(coq, "apply", apply)
    cfg = SearchConfig(max_expansions=10, max_seconds=0.9, tactic_timeout=1.0, cost_order=False,
                       failure_cache=False)
    res = BestFirstSearch(coq, MenuPolicy("coq", ["split", NEVER_ENDS]), cfg).run(deep)
    assert res.outcome == "timeout" and res.proof is None
    assert res.expansions == 1 < cfg.max_expansions
    assert [e.outcome for e in res.edges] == [EdgeOutcome.NEW, EdgeOutcome.TIMEOUT]
    child = res.edges[0].dst
    assert res.nodes[child].status is Status.OPEN and not res.nodes[child].expanded  # stopped, not exhausted
    monkeypatch.undo()
    db, run = _db(tmp_path, [deep])
    aid = db.record_attempt(res, run, 0, "menu", cfg.as_dict(), None)
    row = db.query("select outcome, expansions, nodes from attempts where id = ?", (aid,))[0]
    assert (row["outcome"], row["expansions"], row["nodes"]) == ("timeout", 1, 2)
    db.close()


# ---- max_depth ---------------------------------------------------------------------------------

def test_max_depth_cuts_the_tree_off(coq, deep):
    """The proof needs a node at depth 2 to be expanded: under max_depth 2 the search reaches that
    node but never expands it (it is FAILED at the cutoff), so the problem fails; under 3 it is
    proved."""
    policy = MenuPolicy("coq", ["split", "lra", "lia"])
    cut = BestFirstSearch(coq, policy, SearchConfig(max_expansions=20, max_depth=2, tactic_timeout=5)).run(deep)
    assert cut.outcome == "failed" and cut.proof is None and cut.expansions == 2
    deepest = [n for n in cut.nodes.values() if n.depth >= 2]
    assert deepest, "the search never reached the cutoff"
    for n in deepest:  # reached, never expanded: no edge leaves it
        assert n.status is Status.FAILED and not any(e.src == n.id for e in cut.edges)
    ok = BestFirstSearch(coq, policy, SearchConfig(max_expansions=20, max_depth=3, tactic_timeout=5)).run(deep)
    assert ok.outcome == "proved" and ok.proof == ["split.", "lra.", "lia."]


# ---- tactic_timeouts ---------------------------------------------------------------------------

def test_tactic_timeouts_set_the_limit_of_the_tactics_naming_the_word(coq, deep, tmp_path):
    """``tactic_timeouts: {"repeat": 2}``: a tactic naming ``repeat`` runs under 2 s, one that does
    not under the search's ``tactic_timeout`` (1 s). Both never end: the limit each ran under is
    the one its timeout is cached and stored with."""
    other = "do 100000000 (assert True by exact I)"  # no `repeat` in it; never ends within seconds
    cfg = SearchConfig(max_expansions=1, tactic_timeout=1.0, tactic_timeouts={"repeat": 2})
    cache = FailureCache()
    res = BestFirstSearch(coq, MenuPolicy("coq", [NEVER_ENDS, other]), cfg, failures=cache).run(deep)
    assert [e.outcome for e in res.edges] == [EdgeOutcome.TIMEOUT, EdgeOutcome.TIMEOUT]
    context, root = failure_context(deep, coq), res.nodes[res.root].goals
    limits = {e.tactic: cache.entries[failure_key(context, root, e.tactic)].limit for e in res.edges}
    assert limits == {f"{NEVER_ENDS}.": 2.0, f"{other}.": 1.0}
    db, run = _db(tmp_path, [deep])
    db.record_attempt(res, run, 0, "menu", cfg.as_dict(), None)
    assert sorted(r["limit_s"] for r in db.failure_rows()) == [1.0, 2.0]
    db.close()


# ---- crashes are never cached ------------------------------------------------------------------

CRASH = "idtac crash_here"  # harmless; the double below kills coqtop whenever it is sent


def test_a_prover_crash_is_never_a_cached_failure(coq_available, tmp_path, monkeypatch):
    """coqtop dies every time the crash tactic is sent (a kill injected at the pipe; the
    environment's own recovery runs: restart, one retry, dies again, a transient error). The
    search goes on and proves the problem; the crash is in the tree as an error but neither in
    the failure cache nor in the database's failures table, so the next search sends it to the
    prover again, while a real error (``lia`` on a real goal) is answered from the cache."""
    from coq_env import coqtop
    from coq_env.env import CoqEnv
    real_send, sent = coqtop.Coqtop.send, []

    def send(self, sentence, timeout=60.0):
        if "crash_here" in sentence:
            sent.append(sentence)
            os.kill(self.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        return real_send(self, sentence, timeout)
    monkeypatch.setattr(coqtop.Coqtop, "send", send)
    p = parse_file(write(tmp_path / "p" / "crashy.v", """
        Require Import Reals.
        Open Scope R_scope.
        Theorem crashy (x : R) (h : x = 1) : x + 0 = 1.
        Proof.
        Admitted.
        """))
    policy = MenuPolicy("coq", [CRASH, "lia", "lra"])
    cfg = SearchConfig(max_expansions=2, tactic_timeout=5, cost_order=False)
    cache = FailureCache()
    with CoqEnv(timeout=5, prelude="Require Import Lia Lra.") as env:  # no automation preload: fast restarts
        r1 = BestFirstSearch(env, policy, cfg, failures=cache).run(p)
        assert r1.outcome == "proved" and r1.proof == ["lra."]
        crash, lia = r1.edges[0], r1.edges[1]
        assert crash.tactic == f"{CRASH}." and crash.outcome is EdgeOutcome.ERROR and "died" in crash.message
        assert len(sent) == 2 and env.restarts >= 2  # sent, died, restarted, retried, died again
        context, root = failure_context(p, env), r1.nodes[r1.root].goals
        crash_key, lia_key = failure_key(context, root, crash.tactic), failure_key(context, root, lia.tactic)
        assert lia.outcome is EdgeOutcome.ERROR and lia_key in cache.entries  # a real error is cached
        assert crash_key not in cache.entries and [r["key"] for r in r1.failures] == [lia_key]
        db, run = _db(tmp_path, [p])
        db.record_attempt(r1, run, 0, "menu", cfg.as_dict(), None)
        assert [r["key"] for r in db.failure_rows()] == [lia_key]
        assert crash_key not in load_failures(str(db.path)).entries
        db.close()
        r2 = BestFirstSearch(env, policy, cfg, failures=cache).run(p)  # the next search
    assert r2.outcome == "proved" and len(sent) == 4  # the crash tactic reached coqtop again
    assert r2.cache_hits == 1 and not r2.edges[0].message.startswith("[cached]")


# ---- the database keeps the stronger failure ----------------------------------------------------

def test_the_failures_table_keeps_the_stronger_failure(tmp_path):
    """Failures reach the ``failures`` table through ``record_attempt`` (the database's path, one
    attempt at a time, two of one key in one attempt too). Per key it keeps the stronger:
    a timeout under a longer limit over a shorter one, an error over any timeout, and the first
    error over a later one; never a weaker. The table agrees with the in-memory rule
    (``FailureCache.add``) after every attempt."""
    db, run = _db(tmp_path)
    cache = FailureCache()
    steps = [  # (failures of one attempt), the stored (kind, limit, message) of key "k" after it
        ([Failure("timeout", 1.0, "", 1.0)], ("timeout", 1.0, "")),
        ([Failure("timeout", 0.5, "", 0.5)], ("timeout", 1.0, "")),      # shorter limit: weaker
        ([Failure("timeout", 3.0, "", 3.0)], ("timeout", 3.0, "")),      # longer limit: stronger
        ([Failure("timeout", 4.0, ""), Failure("timeout", 2.0, "")], ("timeout", 4.0, "")),  # one attempt
        # an error beats a timeout, and a later timeout of the same attempt does not undo it
        ([Failure("error", 1.0, "no", 0.1), Failure("timeout", 9.0, "")], ("error", 1.0, "no")),
        ([Failure("timeout", 20.0, "", 9.0)], ("error", 1.0, "no")),     # ... and is never replaced
        ([Failure("error", 5.0, "other")], ("error", 1.0, "no")),        # the first error stays
    ]
    for i, (failures, expected) in enumerate(steps):
        res = SearchResult("valid/p", "failed", None, 1, 0.1, failures=[failure_row("k", f) for f in failures])
        res.failures.append(failure_row(f"other{i}", Failure("error", 1.0, "x")))  # new keys are inserted
        db.record_attempt(res, run, i, "menu", {}, None)
        for f in failures:
            cache.add("k", f)
        row = {r["key"]: r for r in db.failure_rows()}["k"]
        assert (row["kind"], row["limit_s"], row["message"]) == expected, f"after attempt {i}"
        mem = cache.entries["k"]
        assert (mem.kind, mem.limit, mem.message) == expected, f"the in-memory rule, after attempt {i}"
    assert len(db.failure_rows()) == 1 + len(steps)
    db.close()


# ---- env.open failing: an error attempt, nothing lost ---------------------------------------------

@pytest.fixture
def two_problems(tmp_path):
    d = tmp_path / "problems"
    write(d / "broken.v", """
        Theorem broken : undefined_thing = 1.
        Proof.
        Admitted.
        """)
    write(d / "fine.v", """
        Theorem fine : 1 = 1.
        Proof.
        Admitted.
        """)
    return [parse_file(d / "broken.v"), parse_file(d / "fine.v")]


def _attempts(db):
    return {r["problem"]: r for r in db.query("select * from attempts order by id")}


def test_a_problem_that_does_not_open_is_an_error_attempt(coq, two_problems, tmp_path):
    broken, fine = two_problems
    res = BestFirstSearch(coq, MenuPolicy("coq", ["reflexivity"]), SearchConfig(max_expansions=2)).run(broken)
    assert res.outcome == "error" and "does not elaborate" in res.error and res.expansions == 0
    db = ProofDB(tmp_path / "proofs.db")
    s = run_search(two_problems, db, backend="coq", spec=PolicySpec.named("menu", k=1),
                   cfg=SearchConfig(max_expansions=2, tactic_timeout=5), workers=1, progress=False)
    assert s.outcomes == {"error": 1, "proved": 1} and s.attempted == 2
    rows = _attempts(db)
    assert rows[broken.key]["outcome"] == "error" and "undefined_thing" in rows[broken.key]["error"]
    assert rows[fine.key]["outcome"] == "proved" and db.accepted_problems() == {fine.key}  # nothing lost
    db.close()


def _dead_prover(tmp_path, monkeypatch):
    """A coqtop that dies as it starts: the environment cannot open any problem."""
    fake = tmp_path / "coqtop"
    fake.write_text("#!/bin/sh\necho 'Segmentation fault' >&2\nexit 139\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PROVER_COQTOP", str(fake))


def test_a_prover_that_cannot_start_gives_error_attempts_not_a_traceback(two_problems, tmp_path, monkeypatch):
    _dead_prover(tmp_path, monkeypatch)
    db = ProofDB(tmp_path / "proofs.db")
    s = run_search(two_problems, db, backend="coq", spec=PolicySpec.named("menu"),
                   cfg=SearchConfig(max_expansions=2), workers=1, progress=False)
    assert s.outcomes == {"error": 2}
    rows = _attempts(db)
    assert set(rows) == {p.key for p in two_problems}
    assert all(r["outcome"] == "error" and "coqtop exited" in r["error"] for r in rows.values())
    db.close()


def test_a_resume_skips_attempts_that_ended_in_error(two_problems, tmp_path, monkeypatch, coq_available):
    """The rule (``ProofDB.finished_attempt``): a recorded attempt is finished whatever its
    outcome, ``error`` included, so re-running the same search (same round and label) skips it
    and records nothing twice, even once the prover works again."""
    _dead_prover(tmp_path, monkeypatch)
    db = ProofDB(tmp_path / "proofs.db")
    kw = dict(backend="coq", spec=PolicySpec.named("menu", k=1), cfg=SearchConfig(max_expansions=2, tactic_timeout=5),
              workers=1, progress=False)
    run_search(two_problems, db, **kw)
    before = db.query("select id, problem, outcome from attempts order by id")
    assert [r["outcome"] for r in before] == ["error", "error"]
    monkeypatch.delenv("PROVER_COQTOP")  # the prover works again: the resume must still not redo them
    again = run_search(two_problems, db, **kw)
    assert (again.skipped, again.attempted) == (2, 0)
    assert db.query("select id, problem, outcome from attempts order by id") == before
    db.close()
