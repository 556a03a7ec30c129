"""The proof database on real SQLite files: schema, writes, reads, CLI and datasette.

Search results are built by hand here (no prover needed): the database only sees the
SearchResult data structure.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import sqlite3
import time
import urllib.error
import urllib.request

import pytest

from prover.browse import serve
from prover.check import Verdict
from prover.db import TABLES, DBError, ProofDB
from prover.db.render import tree_text
from prover.cli.db import register as add_db_parser
from prover.problems import Problem
from prover.search.tree import Edge, EdgeOutcome, Node, SearchResult, Status

PROBLEMS = [
    Problem("add_zero", "valid", "coq", "Require Import Arith.",
            "Theorem add_zero : forall n : nat, n + 0 = n."),
    Problem("mul_one", "valid", "coq", "Require Import Arith.",
            "Theorem mul_one : forall n : nat, n * 1 = n."),
    Problem("hard", "test", "lean", "import Mathlib",
            "theorem hard (a b : ℕ) : a + b = b + a"),
]


def proved_result(problem: str, tactics: list[str], extra_errors: int = 1,
                  expansions: int = 3, seconds: float = 1.0) -> SearchResult:
    """A tree whose proof path is ``tactics`` plus ``extra_errors`` failing edges at the root."""
    nodes = {"n0": Node("n0", f"n : nat\n⊢ goal of {problem}", 0, 0.0, Status.PROVED, True)}
    edges = [Edge("n0", f"bad_tactic_{i}.", -2.0 - i, EdgeOutcome.ERROR,
                  message="Error: The reference bad_tactic was not found\nin the current environment")
             for i in range(extra_errors)]
    steps = []
    for i, tactic in enumerate(tactics):
        src, dst = f"n{i}", f"n{i + 1}"
        steps.append((nodes[src].goals, tactic))
        if i == len(tactics) - 1:
            edges.append(Edge(src, tactic, -0.1, EdgeOutcome.PROVED, seconds=0.01))
        else:
            nodes[dst] = Node(dst, f"⊢ subgoal {i + 1}", i + 1, -0.1 * (i + 1), Status.PROVED,
                              True, parent=src, tactic=tactic)
            edges.append(Edge(src, tactic, -0.1, EdgeOutcome.NEW, dst=dst, seconds=0.01))
    return SearchResult(problem, "proved", list(tactics), expansions, seconds, "n0",
                        nodes, edges, steps=steps)


def failed_result(problem: str, n_nodes: int = 4, expansions: int = 10,
                  seconds: float = 3.0) -> SearchResult:
    nodes = {"r": Node("r", "⊢ hard goal", 0, 0.0, Status.FAILED, True)}
    edges = []
    for i in range(1, n_nodes):
        nodes[f"c{i}"] = Node(f"c{i}", f"⊢ child {i}", 1, -1.0, Status.FAILED, True, "r", f"t{i}")
        edges.append(Edge("r", f"t{i}", -1.0, EdgeOutcome.NEW, dst=f"c{i}"))
        edges.append(Edge(f"c{i}", "omega", -0.5, EdgeOutcome.TIMEOUT, seconds=5.0))
    edges.append(Edge("r", "sorry", -0.2, EdgeOutcome.REFUSED, message="refused: sorry"))
    return SearchResult(problem, "budget", None, expansions, seconds, "r", nodes, edges)


@pytest.fixture
def filled(tmp_path):
    """A database with two rounds of attempts; returns (path, db, attempt ids by label)."""
    path = tmp_path / "exp" / "proofs.db"
    db = ProofDB(path)
    db.add_problems(PROBLEMS)
    run = db.start_run({"backend": "coq", "budget": 100})
    ids = {
        "add0": db.record_attempt(proved_result("valid/add_zero", ["intros n.", "lia."]),
                                  run, 0, "model", {"expansions": 100}, Verdict(True)),
        "mul0": db.record_attempt(failed_result("valid/mul_one"), run, 0, "model",
                                  {"expansions": 100}, None),
        "hard0": db.record_attempt(failed_result("test/hard"), run, 0, "model",
                                   {"expansions": 100}, None),
        "add1": db.record_attempt(proved_result("valid/add_zero", ["lia."], expansions=1),
                                  run, 1, "model", {"expansions": 100}, Verdict(True)),
        "mul1": db.record_attempt(proved_result("valid/mul_one", ["intros.", "simpl.", "lia."],
                                                expansions=5), run, 1, "model",
                                  {"expansions": 100}, Verdict(True)),
        "hard1": db.record_attempt(proved_result("test/hard", ["exact Nat.add_comm a b"],
                                                 expansions=7), run, 1, "model",
                                   {"expansions": 100},
                                   Verdict(False, reason="uses axiom sorryAx")),
    }
    db.record_round(run, 1, {"valid_proved": 2, "test_proved": 0, "loss": 0.5})
    db.finish_run(run)
    yield path, db, ids
    db.close()


# ---- schema ------------------------------------------------------------------------------

def test_tables_and_wal(filled):
    path, db, _ = filled
    con = sqlite3.connect(path)
    names = {r[0] for r in con.execute("select name from sqlite_master where type = 'table'")}
    assert set(TABLES) <= names
    assert con.execute("pragma journal_mode").fetchone()[0] == "wal"
    indexes = {r[0] for r in con.execute("select name from sqlite_master where type = 'index'")}
    assert "idx_attempts_problem_round_policy" in indexes
    con.close()


def test_reopen_existing(filled):
    path, db, _ = filled
    again = ProofDB(path, create=False)
    assert len(again.proofs()) == 3
    again.close()


def test_run_rows(filled):
    _, db, _ = filled
    run = db.db.query("select * from runs").__next__()
    assert json.loads(run["config"]) == {"backend": "coq", "budget": 100}
    assert run["version"] and run["started"] and run["finished"]
    rounds = db.rounds()
    assert rounds[0]["valid_proved"] == 2 and rounds[0]["metrics"]["loss"] == 0.5


# ---- writing -------------------------------------------------------------------------------

def test_record_attempt_stores_tree_and_proof(filled):
    _, db, ids = filled
    aid = ids["mul1"]
    attempt = db.attempt(aid)
    assert attempt["outcome"] == "proved" and attempt["expansions"] == 5
    assert attempt["budget"] == {"expansions": 100}
    nodes = list(db.db.query("select * from nodes where attempt_id = ? order by depth", [aid]))
    assert [n["id"] for n in nodes] == ["n0", "n1", "n2"]
    assert nodes[1]["parent"] == "n0" and nodes[1]["tactic"] == "intros."
    assert nodes[0]["status"] == "proved"
    edges = list(db.db.query("select * from edges where attempt_id = ? order by id", [aid]))
    assert [e["outcome"] for e in edges] == ["error", "new", "new", "proved"]
    assert edges[0]["message"].startswith("Error: The reference")
    proofs = db.proofs(problem="valid/mul_one")
    assert len(proofs) == 1
    proof = proofs[0]
    assert proof["proof"] == "intros.\nsimpl.\nlia." and proof["length"] == 3
    assert proof["accepted"] is True and proof["verdict"] == "accepted"
    assert proof["steps"][0] == ["n : nat\n⊢ goal of valid/mul_one", "intros."]


def test_rejected_proof_and_unchecked_attempt(filled):
    _, db, ids = filled
    assert db.proofs(problem="hard") == []
    rejected = db.proofs(problem="hard", accepted_only=False)
    assert rejected[0]["verdict"] == "rejected: uses axiom sorryAx"
    assert rejected[0]["accepted"] is False
    unchecked = db.db.query("select count(*) as n from proofs where attempt_id = ?", [ids["mul0"]])
    assert next(unchecked)["n"] == 0


def test_steps_recovered_from_tree_when_search_gives_none(tmp_path):
    db = ProofDB(tmp_path / "p.db")
    result = proved_result("valid/add_zero", ["intros n.", "lia."])
    result.steps = []
    db.record_attempt(result, db.start_run({}), 0, "model", {}, Verdict(True))
    assert db.proofs()[0]["steps"] == [["n : nat\n⊢ goal of valid/add_zero", "intros n."],
                                       ["⊢ subgoal 1", "lia."]]
    db.close()


def test_record_attempt_is_one_transaction(tmp_path):
    db = ProofDB(tmp_path / "p.db")
    result = proved_result("valid/add_zero", ["lia."])
    result.nodes["dup"] = result.nodes["n0"]  # same node id twice: primary key violation
    with pytest.raises(DBError):
        db.record_attempt(result, db.start_run({}), 0, "model", {}, Verdict(True))
    counts = {t: db.db[t].count for t in ("attempts", "nodes", "edges", "proofs")}
    assert counts == {"attempts": 0, "nodes": 0, "edges": 0, "proofs": 0}
    db.close()


def test_finished_attempt_for_resume(filled):
    _, db, ids = filled
    done = db.finished_attempt("valid/mul_one", 0, "model")
    assert done["id"] == ids["mul0"] and done["outcome"] == "budget"
    assert db.finished_attempt("valid/mul_one", 2, "model") is None
    assert db.finished_attempt("valid/mul_one", 0, "baseline") is None


def test_add_problems_upserts(filled):
    _, db, _ = filled
    changed = Problem("add_zero", "valid", "coq", "Require Import Lia.", "Theorem add_zero : True.")
    db.add_problems([changed])
    assert db.db["problems"].count == 3
    assert db.problem("valid/add_zero")["header"] == "Require Import Lia."


# ---- reading ------------------------------------------------------------------------------

def test_stats(filled):
    _, db, _ = filled
    rows = {(r["split"], r["round"]): r for r in db.stats()}
    assert set(rows) == {("valid", 0), ("test", 0), ("valid", 1), ("test", 1)}
    assert rows["valid", 0]["attempted"] == 2 and rows["valid", 0]["proved"] == 1
    assert rows["valid", 0]["mean_expansions"] == pytest.approx((3 + 10) / 2)
    assert rows["valid", 0]["mean_seconds"] == pytest.approx((1.0 + 3.0) / 2)
    assert rows["valid", 1]["proved"] == 2
    assert rows["test", 1]["proved"] == 0  # rejected by the checker: does not count
    assert rows["test", 1]["search_proved"] == 1


def test_best_proofs_picks_shortest(filled):
    _, db, ids = filled
    best = db.best_proofs()
    assert set(best) == {"valid/add_zero", "valid/mul_one"}
    assert best["valid/add_zero"]["proof"] == "lia."
    assert best["valid/add_zero"]["attempt_id"] == ids["add1"]


def test_tree_text(filled):
    _, db, ids = filled
    text = tree_text(db, ids["mul1"])
    lines = text.splitlines()
    assert "valid/mul_one" in lines[0] and "proved" in lines[0]
    by_tactic = {t: next(line for line in lines if t in line)
                 for t in ("bad_tactic_0.", "intros.", "simpl.", "lia.")}
    assert "error" in by_tactic["bad_tactic_0."] and "not found" in by_tactic["bad_tactic_0."]
    assert "\n" not in by_tactic["bad_tactic_0."]
    assert "[-0.100]" in by_tactic["intros."] and "new" in by_tactic["intros."]

    def indent(line):
        return len(line) - len(line.lstrip(" *"))
    assert indent(by_tactic["intros."]) < indent(by_tactic["simpl."]) < indent(by_tactic["lia."])
    assert indent(by_tactic["bad_tactic_0."]) == indent(by_tactic["intros."])
    # the proved path is marked, the failed edge is not
    for tactic in ("intros.", "simpl.", "lia."):
        assert by_tactic[tactic].lstrip().startswith("* ")
    assert not by_tactic["bad_tactic_0."].lstrip().startswith("*")

    failed = tree_text(db, ids["hard0"])
    assert "timeout" in failed and "refused" in failed and "* " not in failed


def test_tree_text_truncates_long_messages(tmp_path):
    db = ProofDB(tmp_path / "p.db")
    result = failed_result("valid/x")
    result.edges.append(Edge("r", "long", -1.0, EdgeOutcome.ERROR, message="x" * 500))
    aid = db.record_attempt(result, db.start_run({}), 0, "model", {}, None)
    line = next(line for line in tree_text(db, aid).splitlines() if "long" in line)
    assert len(line) < 150 and line.endswith("…")
    db.close()


def test_unknown_attempt(filled):
    _, db, _ = filled
    with pytest.raises(DBError, match="no attempt with id 999"):
        tree_text(db, 999)


def test_export_jsonl(filled):
    _, db, _ = filled
    out = io.StringIO()
    assert db.export_jsonl(out) == 3
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 3
    assert {(d["problem"], tuple(d["proof"])) for d in lines} == {
        ("valid/add_zero", ("intros n.", "lia.")), ("valid/add_zero", ("lia.",)),
        ("valid/mul_one", ("intros.", "simpl.", "lia."))}
    first = lines[0]
    assert first["split"] == "valid" and first["statement"].startswith("Theorem add_zero")
    assert first["header"] == "Require Import Arith."
    assert first["steps"][0] == {"goals": "n : nat\n⊢ goal of valid/add_zero",
                                 "tactic": "intros n."}


# ---- bad files -------------------------------------------------------------------------

def _one_line_error_naming(excinfo, path):
    message = str(excinfo.value)
    assert str(path) in message and "\n" not in message


def test_corrupt_file(tmp_path):
    path = tmp_path / "corrupt.db"
    path.write_bytes(os.urandom(8192))
    with pytest.raises(DBError) as excinfo:
        ProofDB(path)
    _one_line_error_naming(excinfo, path)


def test_text_file(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("these are not the tables you are looking for\n" * 100)
    with pytest.raises(DBError) as excinfo:
        ProofDB(path, create=False)
    _one_line_error_naming(excinfo, path)


def test_foreign_sqlite_file(tmp_path):
    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    con.execute("create table customers (id integer primary key, name text)")
    con.commit()
    con.close()
    with pytest.raises(DBError) as excinfo:
        ProofDB(path)
    _one_line_error_naming(excinfo, path)
    assert "not a proof database" in str(excinfo.value)
    con = sqlite3.connect(path)  # left untouched
    tables = [r[0] for r in con.execute("select name from sqlite_master where type = 'table'")]
    con.close()
    assert tables == ["customers"]


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere" / "proofs.db"
    with pytest.raises(DBError) as excinfo:
        ProofDB(path, create=False)
    _one_line_error_naming(excinfo, path)
    assert not path.exists()


# ---- CLI --------------------------------------------------------------------------------

def run_cli(*argv) -> int:
    parser = argparse.ArgumentParser(prog="prover")
    add_db_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(map(str, argv)))
    return args.func(args)


def test_cli_stats(filled, capsys):
    path, _, _ = filled
    assert run_cli("db", "stats", path) == 0
    out = capsys.readouterr().out
    header, *rows = out.splitlines()
    assert "attempted" in header and "proved" in header
    assert any(r.split()[:2] == ["valid", "1"] and "100.0%" in r for r in rows)
    assert any(r.split()[:2] == ["test", "1"] and "0.0%" in r for r in rows)


def test_cli_proofs_coq(filled, capsys):
    path, _, _ = filled
    assert run_cli("db", "proofs", path, "--problem", "mul_one") == 0
    out = capsys.readouterr().out
    # the same file `prover check` reads: header, tactic prelude, statement, proof
    assert "Require Import Arith.\nRequire Import Lia Lra Psatz ZifyNat.\n\n" \
           "Theorem mul_one : forall n : nat, n * 1 = n.\nProof.\n  intros.\n  simpl.\n  lia.\nQed.\n" in out


def test_cli_proofs_shortest_to_files(filled, capsys, tmp_path):
    """--shortest --out DIR: one file per problem, the shortest proof, the same text as printed
    (so `prover check DIR/NAME.v --problem ...` reads one theorem, not several)."""
    path, db, _ = filled
    assert run_cli("db", "proofs", path, "--problem", "mul_one") == 0
    printed = capsys.readouterr().out
    out = tmp_path / "files"
    assert run_cli("db", "proofs", path, "--shortest", "--out", out) == 0
    files = sorted(p.name for p in out.iterdir())
    accepted = {r["problem"].split("/")[-1] for r in db.proofs()}
    assert files == sorted(f"{n}.v" for n in accepted)
    text = (out / "mul_one.v").read_text()
    assert text.count("Theorem mul_one") == 1 and text in printed
    assert "proof files ->" in capsys.readouterr().err


def test_cli_proofs_lean(filled, capsys):
    path, _, _ = filled
    assert run_cli("db", "proofs", path, "--problem", "test/hard", "--all") == 0
    out = capsys.readouterr().out
    # the same file the Lean checker reads (lean_env.check.render_proof): this used to fall
    # back to a hand-made layout because prover.check imported a function that did not exist
    assert "import Mathlib\n\ntheorem hard (a b : ℕ) : a + b = b + a := by\n" \
           "  exact Nat.add_comm a b\n" in out
    assert "rejected: uses axiom sorryAx" in out
    assert out.startswith("-- test/hard attempt")


def test_cli_tree(filled, capsys):
    path, _, ids = filled
    assert run_cli("db", "tree", path, ids["add0"]) == 0
    out = capsys.readouterr().out
    assert "intros n." in out and "proved" in out


def test_cli_tree_unknown_attempt(filled, capsys):
    path, _, _ = filled
    assert run_cli("db", "tree", path, 12345) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "12345" in err


def test_cli_export(filled, capsys, tmp_path):
    path, _, _ = filled
    assert run_cli("db", "export", path, "--jsonl") == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and all("steps" in json.loads(line) for line in lines)
    out_file = tmp_path / "proofs.jsonl"
    assert run_cli("db", "export", path, "--jsonl", "--out", out_file) == 0
    assert len(out_file.read_text().splitlines()) == 3


def test_cli_corrupt_db(tmp_path, capsys):
    path = tmp_path / "corrupt.db"
    path.write_bytes(os.urandom(4096))
    for argv in (("stats", path), ("proofs", path), ("tree", path, 1),
                 ("export", path, "--jsonl")):
        assert run_cli("db", *argv) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.startswith("error: ") and captured.err.count("\n") == 1
        assert str(path) in captured.err and "Traceback" not in captured.err


def test_cli_missing_db_is_not_created(tmp_path, capsys):
    path = tmp_path / "missing.db"
    assert run_cli("db", "stats", path) == 2
    assert "error: " in capsys.readouterr().err and not path.exists()


# ---- datasette ------------------------------------------------------------------------

def _fetch(url: str, deadline: float) -> bytes:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read()
        except (urllib.error.URLError, ConnectionError, OSError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


@pytest.mark.parametrize("name", ["proofs", "exp-1"])
def test_datasette_serves_db(filled, tmp_path, name):
    source, db, _ = filled
    path = source  # served while the writer still has it open (WAL)
    if name != source.stem:  # the canned queries must follow the database name
        path = tmp_path / f"{name}.db"
        db.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        path.write_bytes(source.read_bytes())
    proc = serve(path, stdout=open(os.devnull, "w"), stderr=open(os.devnull, "w"))
    try:
        deadline = time.monotonic() + 30
        index = _fetch(proc.url, deadline).decode()
        assert name in index
        rows = json.loads(_fetch(f"{proc.url}{name}/proof_rate_per_round.json?_shape=array",
                                 deadline))
        by_key = {(r["round"], r["split"]): r for r in rows}
        assert by_key[1, "valid"]["proved"] == 2 and by_key[1, "test"]["proved"] == 0
        tactics = json.loads(_fetch(f"{proc.url}{name}/top_tactics.json?_shape=array",
                                    deadline))
        assert tactics[0] == {"tactic": "lia.", "uses": 3}
        hardest = json.loads(_fetch(f"{proc.url}{name}/hardest_solved.json?_shape=array",
                                    deadline))
        assert hardest[0]["problem"] == "valid/mul_one"
        table = _fetch(f"{proc.url}{name}/attempts", deadline).decode()
        assert "One search attempt on one problem" in table  # metadata description
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_full_disk_mid_run_is_one_error_and_loses_nothing(coq_available, tmp_path):
    """SQLite's page limit stands in for a full disk (the same SQLITE_FULL error): the run stops
    with one DBError line, the attempts written before are intact, and a resume completes."""
    from coq_env.problems import parse_file
    from prover.db import DBError, ProofDB
    from prover.policy import PolicySpec
    from prover.search import SearchConfig
    from prover.search.runner import run_search
    from tests.conftest import write
    # the first is proved at once; the others fail with trees of many error messages (big rows)
    probs = [parse_file(write(tmp_path / "p" / "z0.v", "Theorem z0 (n : nat) : n + 0 = n.\nProof.\nAdmitted.\n"))]
    probs += [parse_file(write(tmp_path / "p" / f"z{i}.v", f"Theorem z{i} (n : nat) : n * n = n + {i}.\n"
                                                          f"Proof.\nAdmitted.\n")) for i in range(1, 4)]
    spec, cfg = PolicySpec(sources=("menu",)), SearchConfig(max_expansions=2, tactic_timeout=5)
    db = ProofDB(tmp_path / "proofs.db")
    run_search(probs[:1], db, backend="coq", spec=spec, cfg=cfg, workers=1, progress=False)
    pages = db.db.execute("pragma page_count").fetchone()[0]
    db.db.execute(f"pragma max_page_count = {pages}")  # not one page more
    with pytest.raises(DBError) as e:
        run_search(probs, db, backend="coq", spec=spec, cfg=cfg, workers=1, progress=False)
    assert "full" in str(e.value) and "\n" not in str(e.value) and str(db.path) in str(e.value)
    db.close()
    again = ProofDB(tmp_path / "proofs.db")
    assert again.db.execute("pragma integrity_check").fetchone()[0] == "ok"
    # the attempt of the first run, nothing of the one the full disk stopped
    assert [r["problem"] for r in again.query("select problem from attempts")] == [probs[0].key]
    assert again.accepted_problems() == {probs[0].key}
    run_search(probs, again, backend="coq", spec=spec, cfg=cfg, workers=1, progress=False)  # resumed
    assert sorted(r["problem"] for r in again.query("select problem from attempts")) == sorted(p.key for p in probs)
    again.close()


def test_readers_work_while_a_run_writes(coq_available, tmp_path):
    """`prover db stats` and the browse pages read the database while `prover search` writes
    it (WAL): every read succeeds, the first ones while the writer is provably mid-run: its
    last problem's loading waits at a gate (a FIFO that Coq's `Redirect` blocks on) that opens
    only after those reads."""
    import subprocess
    import sys
    import urllib.request
    from pathlib import Path

    from prover.browse import serve
    from tests.conftest import write
    prover = str(Path(sys.executable).parent / "prover")
    db, gate = tmp_path / "live.db", tmp_path / "gate"
    for i in range(3):
        write(tmp_path / "p" / f"z{i}.v", f"Theorem z{i} (n : nat) : n + {i} = {i} + n.\nProof.\nAdmitted.\n")
    os.mkfifo(f"{gate}.out")
    write(tmp_path / "p" / "zz_gate.v", f'Redirect "{gate}_reached" Check 1.\nRedirect "{gate}" Check 1.\n'
                                        "Theorem zz_gate : False.\nProof.\nAdmitted.\n")

    def attempted():  # `prover db stats`: the attempts of the run's one (split, round, policy) row
        r = subprocess.run([prover, "db", "stats", str(db)], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        return int(r.stdout.splitlines()[1].split()[3])

    def page(deadline):
        while True:
            try:
                with urllib.request.urlopen(site.url.rstrip("/") + "/-/prover/run", timeout=60) as response:
                    return response.status
            except OSError:
                if time.monotonic() > deadline:  # only against a hang: datasette is starting
                    raise
                time.sleep(0.3)

    writer = subprocess.Popen([prover, "search", "--problems", str(tmp_path / "p"), "--expansions", "2",
                               "--workers", "1", "--timeout", "30", "--db", str(db)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    gate_open = None
    try:
        deadline = time.monotonic() + 600  # only against a hang: the loop waits for the gate
        while not os.path.exists(f"{gate}_reached.out"):
            assert writer.poll() is None and time.monotonic() < deadline, writer.poll()
            time.sleep(0.1)
        site = serve(db, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            assert attempted() == 3 and page(time.monotonic() + 120) == 200
            assert writer.poll() is None  # those reads happened during the run
            gate_open = os.open(f"{gate}.out", os.O_RDONLY | os.O_NONBLOCK)  # the gate opens
            assert writer.wait(timeout=600) == 0
            assert attempted() == 4 and page(time.monotonic() + 120) == 200
        finally:
            site.terminate()
            site.wait(timeout=60)
    finally:
        if gate_open is None:  # a failure: let the coqtop waiting at the gate go on and see its input closed
            gate_open = os.open(f"{gate}.out", os.O_RDONLY | os.O_NONBLOCK)
        if writer.poll() is None:
            writer.kill()
            writer.wait(timeout=60)
        os.close(gate_open)


def test_accepted_problems_as_of_a_round(filled):
    """Pool proved as of round r counts proofs of rounds <= r only (a resumed loop recomputes
    the rows of finished rounds from this)."""
    _, db, _ = filled
    assert db.accepted_problems(max_round=0) == {"valid/add_zero"}
    assert db.accepted_problems(max_round=1) == {"valid/add_zero", "valid/mul_one"}
    assert db.accepted_problems("model", round=1) == {"valid/add_zero", "valid/mul_one"}
    assert db.accepted_problems(max_round=-1) == set()
