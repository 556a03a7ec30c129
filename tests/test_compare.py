"""``prover db compare``: rounds of runs side by side with the new verified pairs per round,
on real SQLite files (search results built by hand, as in test_db.py)."""
from __future__ import annotations

import argparse

from prover.check import Verdict
from prover.cli.db import register as add_db_parser
from prover.db import ProofDB
from prover.loop import compare
from prover.problems import Problem
from prover.selfplay.hindsight import Candidate
from tests.test_db import proved_result

PROBLEMS = [Problem(n, split, "coq", "Require Import Arith.", f"Theorem {n} : forall n : nat, n + 0 = n.")
            for n, split in (("a", "valid"), ("b", "valid"), ("t", "test"))]


def make_run(path, selfplay: bool):
    db = ProofDB(path)
    db.add_problems(PROBLEMS)
    run = db.start_run({"name": path.parent.name})
    ok = Verdict(True)
    # round 0: the menu seed proves a (2 pairs); the test problem's proof never counts
    db.record_attempt(proved_result("valid/a", ["intros n.", "lia."]), run, 0, "menu", {}, ok)
    db.record_attempt(proved_result("test/t", ["intros.", "omega."]), run, 0, "eval", {}, ok)
    # round 1: b is proved with one new pair and one pair already seen in round 0
    db.record_attempt(proved_result("valid/b", ["intros n.", "auto."]), run, 1, "model", {}, ok)
    # a's round-0 proof found again: nothing new
    db.record_attempt(proved_result("valid/a", ["intros n.", "lia."]), run, 1, "model", {}, ok)
    # a rejected proof never counts
    db.record_attempt(proved_result("valid/b", ["admit."]), run, 1, "model", {}, Verdict(False, reason="x"))
    if selfplay:
        db.record_conjectures([{"key": "conj/cj_1", "parent": "valid/a", "operator": "drop_hyp", "round": 1,
                                "goal": "⊢ g", "statement": "Theorem conj_1 : True.", "status": "proved",
                                "reason": ""}])
        db.add_problems([Problem("cj_1", "conj", "coq", "", "Theorem conj_1 : True.")])
        db.record_attempt(proved_result("conj/cj_1", ["exact I."]), run, 1, "conj-1", {}, ok)
        db.record_hindsight(Candidate("hs_1", "valid/b", 1, "n1", "⊢ sub", ["ring."], [("⊢ sub", "ring.")]),
                            "Lemma hs_1 : True.", 1, ok)
        db.record_hindsight(Candidate("hs_2", "test/t", 2, "n1", "⊢ tsub", ["ring."], [("⊢ tsub", "ring.")]),
                            "Lemma hs_2 : True.", 1, ok)  # an evaluation tree: never counts
        # round 2 is under way: a proof, no round recorded yet
        db.add_problems([Problem("c", "valid", "coq", "", "Theorem c : True.")])
        db.record_attempt(proved_result("valid/c", ["exact I."]), run, 2, "model", {}, ok)
    for r, (pool, test) in enumerate(((1, 1), (2, 1))):
        db.record_round(run, r, {"round": r, "valid_proved": pool, "pool_size": 2, "test_proved": test,
                                 "test_size": 1, "menu_baseline_test": 1})
    return db


def test_new_pairs_count_first_appearance_by_source(tmp_path):
    db = make_run(tmp_path / "sp" / "proofs.db", selfplay=True)
    new = compare.new_pairs_by_round(db)
    assert new[0] == {"proof": 2, "hindsight": 0, "conjecture": 0}
    # round 1: b's two pairs; its rejected proof adds nothing
    assert new[1]["proof"] == 2
    assert new[1]["conjecture"] == 1
    assert new[1]["hindsight"] == 1  # the test tree's lemma is left out
    rows = compare.round_rows(db)
    assert [r["new_pairs"] for r in rows] == [2, 4, 1]
    assert rows[2]["in_progress"] and not rows[1].get("in_progress")
    db.close()


def test_cli_table_and_plot(tmp_path, capsys):
    make_run(tmp_path / "sp" / "proofs.db", selfplay=True).close()
    make_run(tmp_path / "nosp" / "proofs.db", selfplay=False).close()
    parser = argparse.ArgumentParser()
    add_db_parser(parser.add_subparsers(dest="command"))
    png = tmp_path / "cmp.png"
    args = parser.parse_args(["db", "compare", str(tmp_path / "sp"), str(tmp_path / "nosp" / "proofs.db"),
                              "--plot", str(png)])
    assert args.func(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert "sp: new pairs" in out[0] and "nosp: new pairs" in out[0]
    assert out[2].startswith("| 0 | 2 (2/0/0) | 1/2 | 1/1 | 2 (2/0/0) |")
    assert out[3].startswith("| 1 | 4 (2/1/1) | 2/2 | 1/1 | 2 (2/0/0) |")
    assert out[4].startswith("| 2 (under way) | 1 (1/0/0) | -/- | -/- | - |")
    assert png.stat().st_size > 1000


def test_cli_missing_run_is_one_line(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    add_db_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["db", "compare", str(tmp_path / "nope")])
    assert args.func(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nope" in err[0] and "no proof database" in err[0]
