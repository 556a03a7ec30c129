"""Best-first search and the search command on real Coq, with a real proof database."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from coq_env.problems import parse_file
from prover.check import check_proof
from prover.policy import MenuPolicy
from prover.search import BestFirstSearch, SearchConfig
from prover.search.tree import EdgeOutcome, Status
from tests.conftest import write


@pytest.fixture
def deep_problem(tmp_path):
    # needs three steps from the menu: split, then lra for the real goal, then lia for the nat one
    return parse_file(write(tmp_path / "p" / "deep.v", """
        Require Import Reals.
        Open Scope R_scope.
        Theorem deep (x : R) (n : nat) : x + 0 = x /\\ (n + 0 = n)%nat.
        Proof.
        Admitted.
        """))


def test_search_proves_and_proof_is_checked(env, deep_problem):
    policy = MenuPolicy("coq", ["lra", "lia", "split"])
    res = BestFirstSearch(env, policy, SearchConfig(max_expansions=10, tactic_timeout=60)).run(deep_problem)
    assert res.outcome == "proved"
    assert res.proof == ["split.", "lra.", "lia."]
    assert [t for _, t in res.steps] == res.proof
    assert res.steps[0][1] == "split." and res.steps[0][0] == "x : R\nn : nat\n⊢ x + 0 = x /\\ (n + 0)%nat = n"
    assert res.nodes[res.root].status is Status.PROVED
    assert check_proof(deep_problem, res.proof).accepted


def test_identical_states_are_one_node(env, deep_problem):
    # "split" and "constructor" reach the same goals: one node, one NEW and one DUP edge
    policy = MenuPolicy("coq", ["split", "constructor"])
    res = BestFirstSearch(env, policy, SearchConfig(max_expansions=1)).run(deep_problem)
    root_edges = [e for e in res.edges if e.src == res.root]
    assert [e.outcome for e in root_edges] == [EdgeOutcome.NEW, EdgeOutcome.DUP]
    assert root_edges[0].dst == root_edges[1].dst
    assert len(res.nodes) == 2


def test_renamed_copies_are_dead_ends(env, tmp_path):
    """``intros a b c d.`` reaches ``intros.``'s state up to names: no new node, a DUP edge without
    a destination (nothing below it would replay), and the proof goes through the twin."""
    p = parse_file(write(tmp_path / "r" / "renamed.v", """
        Require Import Reals.
        Open Scope R_scope.
        Theorem renamed : forall x y : R, x = 1 -> y = x -> y = 1.
        Proof.
        Admitted.
        """))
    policy = MenuPolicy("coq", ["intros", "intros a b c d", "lra"])
    res = BestFirstSearch(env, policy, SearchConfig(max_expansions=4, tactic_timeout=60)).run(p)
    assert res.outcome == "proved" and res.proof == ["intros.", "lra."]
    copy = [e for e in res.edges if e.tactic == "intros a b c d." and e.src == res.root]
    assert [(e.outcome, e.dst) for e in copy] == [(EdgeOutcome.DUP, None)]
    assert copy[0].message.startswith("renamed copy of ")
    assert check_proof(p, res.proof).accepted
    plain = BestFirstSearch(env, policy, SearchConfig(max_expansions=4, tactic_timeout=60,
                                                      dedupe_renamed=False)).run(p)
    assert len(plain.nodes) == len(res.nodes) + 1  # the switch off: the copy is a node of its own


def test_renaming_key_equates_exactly_the_renamings():
    from prover.env import parse_goals_text, renaming_key

    def key(text):
        return renaming_key(parse_goals_text(text))
    assert key("x : R\nH : x = 1\n⊢ x + 0 = 1") == key("y : R\nh0 : y = 1\n⊢ y + 0 = 1")
    assert key("x : R\nH : x = 1\n⊢ x + 0 = 1") != key("x : R\nH : x = 2\n⊢ x + 0 = 1")
    assert key("x, y : R\n⊢ x < y") != key("x, y : R\n⊢ y < x")  # the context's order is kept
    assert key("n : nat\n⊢ Nat.n n = n0") == key("m : nat\n⊢ Nat.n m = n0")  # qualified and longer names stay
    assert key("n : nat\n⊢ Nat.n n = n0") != key("m : nat\n⊢ Nat.n m = m0")
    assert key("⊢ 1 = 1") == "⊢ 1 = 1"


def test_failure_propagates_to_root(env, tmp_path):
    p = parse_file(write(tmp_path / "q" / "false_goal.v", """
        Theorem false_goal : forall n : nat, n = 0.
        Proof.
        Admitted.
        """))
    res = BestFirstSearch(env, MenuPolicy("coq", ["intros", "lia"]), SearchConfig(max_expansions=50)).run(p)
    assert res.outcome == "failed" and res.proof is None
    assert res.expansions == 2  # root, then its only child; then everything is known dead
    assert all(n.status is Status.FAILED for n in res.nodes.values())


def test_budget_exhaustion_ends_unproved(env, deep_problem):
    res = BestFirstSearch(env, MenuPolicy("coq", ["split", "lra", "lia"]),
                          SearchConfig(max_expansions=1)).run(deep_problem)
    assert res.outcome == "budget" and res.proof is None and res.expansions == 1


def test_length_normalised_order(env, deep_problem):
    cfg = SearchConfig(max_expansions=10, length_norm=True)
    res = BestFirstSearch(env, MenuPolicy("coq", ["lra", "lia", "split"]), cfg).run(deep_problem)
    assert res.outcome == "proved" and len(res.proof) == 3


class KillingPolicy:
    """Kills the environment's Coq process on its second call: a crash mid-search."""

    name, default_k = "killer", 3

    def __init__(self, env):
        self.env, self.calls = env, 0
        self.menu = MenuPolicy("coq", ["split", "lra", "lia"])

    def propose(self, states, k):
        self.calls += 1
        if self.calls == 2:
            os.kill(self.env.coq.pid, signal.SIGKILL)
        return self.menu.propose(states, k)


def test_prover_crash_mid_search_is_survived(env, deep_problem):
    res = BestFirstSearch(env, KillingPolicy(env), SearchConfig(max_expansions=10)).run(deep_problem)
    assert res.outcome == "proved" and env.restarts == 1
    assert check_proof(deep_problem, res.proof).accepted


def _crash_on(state, problem):
    if problem == "crash":
        os._exit(3)
    return problem.upper()


def test_worker_death_loses_only_its_item():
    from prover.engines import make_pool
    out = dict(make_pool("local", 2, dict, ()).imap(_crash_on, ["a", "crash", "b", "c"]))
    assert out["a"] == "A" and out["b"] == "B" and out["c"] == "C"
    assert "worker died" in out["crash"]["error"]


def _cli(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "prover.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def _attempts(db):
    if not os.path.exists(db):
        return []
    try:
        with sqlite3.connect(db) as c:
            return c.execute("select problem, id, outcome from attempts order by id").fetchall()
    except sqlite3.OperationalError:
        return []


def test_search_cli_kill_and_resume(problem_dir, tmp_path, coq_available):
    """`prover search` killed in the middle of its run resumes: the attempts recorded stay as
    they were, none is searched again, the rest are searched.

    The kill lands mid-run by construction, not by timing: the run's fourth problem (in its
    order: by name) loads through a gate, a FIFO that Coq's `Redirect` blocks on until someone
    reads it, and nobody does until the run is killed. For the resumed run the FIFO is gone
    (`Redirect` writes a plain file)."""
    from prover.process import _descendants
    for i in range(4):
        write(problem_dir / f"lin{i}.v", f"""
            Require Import Reals.
            Open Scope R_scope.
            Theorem lin{i} (x : R) (h : x + {i} = 2 * x) : x = {i}.
            Proof.
            Admitted.
            """)
    gate = tmp_path / "gate"
    os.mkfifo(f"{gate}.out")
    write(problem_dir / "lin1_gate.v", f"""
        Redirect "{gate}_reached" Check 1.
        Redirect "{gate}" Check 1.
        Theorem lin1_gate : forall n : nat, n = 0.
        Proof.
        Admitted.
        """)
    order = ["add_zero", "lin0", "lin1", "lin1_gate", "lin2", "lin3", "real_lin", "two_goals"]
    db = str(tmp_path / "run" / "proofs.db")
    args = ["search", "--backend", "coq", "--problems", str(problem_dir), "--db", db,
            "--workers", "1", "--expansions", "4", "--timeout", "30"]
    proc = _cli(*args, start_new_session=True)
    family = []
    try:
        # the first three recorded and Coq at the gate of the fourth: the run cannot go on
        deadline = time.monotonic() + 600  # only against a hang: each step waits for an event
        while not (os.path.exists(f"{gate}_reached.out") and len(_attempts(db)) == 3):
            assert proc.poll() is None and time.monotonic() < deadline, (proc.poll(), _attempts(db))
            time.sleep(0.1)
        family = _descendants(proc.pid)  # its coqtop: a session of its own, which killpg misses
    finally:
        for kill, pid in [(os.killpg, proc.pid)] + [(os.kill, pid) for pid in family]:
            try:
                kill(pid, signal.SIGKILL)
            except ProcessLookupError:  # gone already (the run ended: the assertion above says so)
                pass
        proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL  # killed: the run had not ended
    before = _attempts(db)
    assert [p for p, _, _ in before] == order[:3], before
    os.unlink(f"{gate}.out")
    r = _cli(*args)
    out, err = r.communicate(timeout=600)
    assert r.returncode == 0, err
    assert "searched 5 (skipped 3 finished)" in out
    after = _attempts(db)
    assert after[:3] == before                     # nothing redone, nothing lost
    assert [p for p, _, _ in after] == order       # the rest searched once each, the gate's too
    # the database commands on this real database
    stats = subprocess.run([sys.executable, "-m", "prover.cli", "db", "stats", db], capture_output=True, text=True,
                           timeout=300)
    assert stats.returncode == 0 and stats.stdout.splitlines()[1].split()[3] == "8"  # attempted
    exp = subprocess.run([sys.executable, "-m", "prover.cli", "db", "export", db, "--jsonl"],
                         capture_output=True, text=True, timeout=300)
    rows = [json.loads(line) for line in exp.stdout.splitlines()]
    assert {r["problem"] for r in rows} >= {"add_zero", "real_lin", "lin0", "lin3"}
    assert all(r["steps"] and r["steps"][0]["goals"] for r in rows)
    proofs = subprocess.run([sys.executable, "-m", "prover.cli", "db", "proofs", db, "--problem", "lin2"],
                            capture_output=True, text=True, timeout=300).stdout
    f = tmp_path / "lin2.v"
    f.write_text(proofs)
    chk = subprocess.run([sys.executable, "-m", "prover.cli", "check", str(f), "--problem",
                          str(problem_dir / "lin2.v")], capture_output=True, text=True, timeout=300)
    assert chk.stdout.strip() == "accepted", (proofs, chk.stdout, chk.stderr)
    aid = after[0][1]
    tree = subprocess.run([sys.executable, "-m", "prover.cli", "db", "tree", db, str(aid)],
                          capture_output=True, text=True, timeout=300)
    assert tree.returncode == 0 and "root" in tree.stdout


def test_search_cli_corrupt_db_is_one_line(tmp_path, problem_dir):
    bad = tmp_path / "bad.db"
    bad.write_bytes(os.urandom(4096))
    r = _cli("search", "--problems", str(problem_dir), "--db", str(bad))
    out, err = r.communicate(timeout=120)
    assert r.returncode == 2 and len(err.strip().splitlines()) == 1 and "bad.db" in err


def _gate_problem(directory, name, gate):
    """A problem whose loading waits at ``gate`` (a FIFO at ``gate``.out, which Coq's
    ``Redirect`` opens for writing: it blocks until a reader opens it). ``{gate}_{name}.out``
    appears when its loading reached the gate."""
    return write(directory / f"{name}.v", f"""
        Redirect "{gate}_{name}" Check 1.
        Redirect "{gate}" Check 1.
        Theorem {name} : forall n : nat, n = 0.
        Proof.
        Admitted.
        """)


def test_workers_exit_when_their_parent_is_killed(tmp_path, coq_available):
    """A killed `prover search` leaves no worker or coqtop behind. Killed mid-run by
    construction: each of the two workers loads a problem that waits at a gate, so the run
    cannot end before the kill; the gate opens after it (a Coq busy with a load or a tactic
    reads its closed input once it answers, and then must exit)."""
    from prover.process import _descendants
    gate = tmp_path / "gate"
    os.mkfifo(f"{gate}.out")
    for name in ("gate_a", "gate_b"):
        _gate_problem(tmp_path / "gates", name, gate)
    proc = _cli("search", "--problems", str(tmp_path / "gates"), "--db", str(tmp_path / "run" / "proofs.db"),
                "--workers", "2", "--expansions", "50", "--timeout", "2", start_new_session=False)
    gate_open, family = None, []
    try:
        deadline = time.monotonic() + 600  # only against a hang: the loop waits for an event
        while not all(os.path.exists(f"{gate}_{name}.out") for name in ("gate_a", "gate_b")):
            assert proc.poll() is None and time.monotonic() < deadline, proc.poll()
            time.sleep(0.1)
        family = _descendants(proc.pid)  # two workers with a coqtop each (and multiprocessing's tracker)
        assert sorted(_command(p) for p in family if _command(p) != "python") == ["coqtop", "coqtop"]
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=60) == -signal.SIGKILL  # (its pipes: still open in the workers)
        gate_open = os.open(f"{gate}.out", os.O_RDONLY | os.O_NONBLOCK)
        deadline = time.monotonic() + 120  # seconds at most: a worker looks for its parent every second
        while _alive_pids(family) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert family and not _alive_pids(family)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=60)
        for pid in _alive_pids(family):  # a failure leaves nothing of this test running
            os.kill(pid, signal.SIGKILL)
        if gate_open is not None:
            os.close(gate_open)


def _alive_pids(pids):
    from prover.process import _zombie
    return [p for p in pids if os.path.exists(f"/proc/{p}") and not _zombie(p)]


def _command(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            name = f.read().strip()
    except OSError:
        return "gone"
    return "python" if name.startswith("python") else name


class PagedSource:
    """A candidate source with pages (like retrieval and macros): ``first`` at every state,
    ``pages[p]`` when a widening search asks for page p. Records what it was asked."""
    name, tag, static = "paged", "paged", False

    def __init__(self, first, pages):
        self.first, self.pages, self.asked = list(first), dict(pages), []

    def candidates(self, state):
        return list(self.first)

    def more(self, state, page):
        self.asked.append((state.text(), page))
        return list(self.pages.get(page, []))


def test_widening_revives_a_dead_tree_and_proves_on_real_coq(env, deep_problem):
    """Every first candidate fails (``lia`` on a real-number goal): without widening the tree dies
    after one expansion. With it the search expands the dead root again with the source's next
    page (``split``), which revives the root; the child dies too and is widened in its turn
    (``lra`` closes its real goal), and ``lia`` closes the rest. The proof passes the checker."""
    from prover.policy.fixed import FixedPolicy
    pages = {1: ["split."], 2: ["lra."]}
    off = BestFirstSearch(env, FixedPolicy([PagedSource(["lia."], pages)]),
                          SearchConfig(max_expansions=10, tactic_timeout=60)).run(deep_problem)
    assert off.outcome == "failed" and off.expansions == 1 and off.widened == 0
    src = PagedSource(["lia."], pages)
    res = BestFirstSearch(env, FixedPolicy([src]),
                          SearchConfig(max_expansions=10, tactic_timeout=60, widen=4)).run(deep_problem)
    assert res.outcome == "proved" and res.widened == 4
    assert res.proof[0] == "split." and check_proof(deep_problem, res.proof).accepted
    assert res.nodes[res.root].status is Status.PROVED
    root_tactics = [e.tactic for e in res.edges if e.src == res.root]
    assert len(root_tactics) == len(set(root_tactics))  # a widened node never retries a tactic
    assert src.asked[0] == (res.nodes[res.root].goals, 1)  # the root first, page 1 before page 2
    # the budget holds: widenings are expansions
    tight = BestFirstSearch(env, FixedPolicy([PagedSource(["lia."], pages)]),
                            SearchConfig(max_expansions=2, tactic_timeout=60, widen=4)).run(deep_problem)
    assert tight.outcome == "budget" and tight.expansions == 2 and tight.widened == 1


def test_widening_stops_when_no_source_has_more(env, tmp_path):
    p = parse_file(write(tmp_path / "q" / "false_goal.v", """
        Theorem false_goal : forall n : nat, n = 0.
        Proof.
        Admitted.
        """))
    cfg = SearchConfig(max_expansions=50, widen=4, widen_times=3)
    res = BestFirstSearch(env, MenuPolicy("coq", ["intros", "lia"]), cfg).run(p)
    # root and child expanded; the menu has no next page, so widening has nothing to try and
    # spends nothing: failed after 2 expansions, as without widening
    assert res.outcome == "failed" and res.expansions == 2 and res.widened == 0
    assert all(n.status is Status.FAILED for n in res.nodes.values())


def test_a_bad_widening_setting_is_one_line(tmp_path, problem_dir):
    with pytest.raises(ValueError, match="widen must be 0"):
        SearchConfig(widen=-1)
    with pytest.raises(ValueError, match="widen_times 1 or more"):
        SearchConfig(widen=4, widen_times=0)
    r = _cli("search", "--problems", str(problem_dir), "--db", str(tmp_path / "w.db"), "--widen", "-2")
    out, err = r.communicate(timeout=120)
    assert r.returncode != 0 and "widen must be 0" in err and len(err.strip().splitlines()) == 1
