"""The retrieval candidate source: tactics of similar states, names mapped, growing online from
the proof database, never from the evaluation split; on real Coq it proves what the menu and
the templates cannot."""
from __future__ import annotations

import json

import pytest

from prover import backends
from prover.check import Verdict
from prover.db import ProofDB
from prover.env import State, parse_goals_text
from prover.policy.fixed import FixedPolicy
from prover.policy.menu import MenuSource
from prover.policy.retrieval import RetrievalIndex, RetrievalSource, rename
from prover.policy.templates import TemplateSource
from prover.problems import Problem
from prover.search import BestFirstSearch, SearchConfig
from prover.search.tree import SearchResult
from tests.conftest import write

COQ = backends.get("coq")
COMM = "x, y : nat\nh : nat -> nat\n⊢ h (x + y) = h (y + x)"


def state(text: str) -> State:
    return State(parse_goals_text(text))


def corpus(tmp_path, pairs):
    d = tmp_path / "corpus"
    d.mkdir()
    (d / "train.jsonl").write_text("".join(json.dumps({"goals": g, "tactic": t, "split": "train"}) + "\n"
                                           for g, t in pairs))
    (d / "heldout.jsonl").write_text("")
    return d


def test_a_state_equal_to_a_corpus_state_gets_its_tactic_with_names_mapped(tmp_path):
    src = RetrievalSource(COQ, corpus=str(corpus(tmp_path, [
        ("x, y : R\nh0 : x + y = 10\nh1 : x - y = 2\n⊢ x = 6", "rewrite h0 in h1"),
        ("n : nat\n⊢ n + 0 = n", "induction n"),
        (COMM, "rewrite Nat.add_comm")])))
    [first, *_] = src.candidates(state("a, b : R\nH : a + b = 10\nH2 : a - b = 2\n⊢ a = 6"))
    assert first == "rewrite H in H2."
    got = src.candidates(state("p, q : nat\ng : nat -> nat\n⊢ g (p + q) = g (q + p)"))
    assert got[0] == "rewrite Nat.add_comm."
    assert "induction p." in got or "induction q." in got  # n : nat maps to a variable of its type
    assert len(got) == len(set(got))


def test_rename_maps_by_type_then_position_and_refuses_what_has_no_counterpart():
    src = parse_goals_text("n : nat\nH : n > 0\n⊢ n <> 0")[0]
    assert rename("destruct n; lia.", src, parse_goals_text("k : nat\nHk : k > 0\n⊢ k <> 0")[0]) == "destruct k; lia."
    assert rename("apply H.", src, parse_goals_text("k : nat\nHk : k > 0\n⊢ k <> 0")[0]) == "apply Hk."
    assert rename("induction n.", src, parse_goals_text("r : R\n⊢ r = r")[0]) is None
    assert rename("apply Nat.lt_0_succ.", src, parse_goals_text("⊢ True")[0]) == "apply Nat.lt_0_succ."


def _record(db, key, split, steps, label):
    p = Problem(key.split("/")[1], split, "coq", "", f"Theorem {key.split('/')[1]} : True.")
    db.add_problems([p])
    run = db.start_run({})
    res = SearchResult(p.key, "proved", [t for _, t in steps], 1, 0.1, steps=steps)
    db.record_attempt(res, run, 0, label, {}, Verdict(True))


def test_the_index_grows_online_from_the_database_and_never_holds_the_evaluation_split(tmp_path):
    db_path = tmp_path / "proofs.db"
    writer = ProofDB(db_path)
    src = RetrievalSource(COQ, db=str(db_path), deny=["test/held"])
    target = state("p, q : nat\ng : nat -> nat\n⊢ g (p + q) = g (q + p)")
    assert src.candidates(target) == []
    _record(writer, "test/held", "test", [(COMM, "rewrite Nat.add_comm.")], "eval")    # denied key
    _record(writer, "valid/other", "valid", [(COMM, "rewrite Nat.add_comm.")], "eval")  # evaluation label
    _record(writer, "valid/other2", "valid", [(COMM, "rewrite Nat.add_comm.")], "eval:menu:menu")  # prover eval's
    assert src.candidates(target) == []
    _record(writer, "valid/pool", "valid", [(COMM, "rewrite Nat.add_comm.")], "model")  # accepted in this round
    assert src.candidates(target) == ["rewrite Nat.add_comm."]
    # a fresh source (a resumed run, another worker) rebuilds the same index from the database
    again = RetrievalSource(COQ, db=str(db_path), deny=["test/held"])
    assert again.candidates(target) == ["rewrite Nat.add_comm."] and len(again.index) == 1
    writer.close()


def test_retrieval_proves_what_menu_and_templates_cannot_on_real_coq(tmp_path, env):
    from coq_env.problems import parse_file
    from prover.check import check_proof
    problem = parse_file(write(tmp_path / "p" / "comm.v", """
        Require Import Arith.
        Theorem comm (a b : nat) (f : nat -> nat) : f (a + b) = f (b + a).
        Proof.
        Admitted.
        """))
    cfg = SearchConfig(max_expansions=4, tactic_timeout=5)
    from coq_env.backend import MENU  # the menu without CoqHammer, which proves this by itself
    plain = FixedPolicy([MenuSource(COQ, MENU), TemplateSource(COQ)])
    assert BestFirstSearch(env, plain, cfg).run(problem).outcome != "proved"
    src = RetrievalSource(COQ, corpus=str(corpus(tmp_path, [(COMM, "rewrite Nat.add_comm; reflexivity")])))
    res = BestFirstSearch(env, FixedPolicy([MenuSource(COQ, MENU), TemplateSource(COQ), src]), cfg).run(problem)
    assert res.outcome == "proved" and res.proof == ["rewrite Nat.add_comm; reflexivity."]
    assert check_proof(problem, res.proof).accepted


def test_an_empty_index_offers_nothing():
    assert RetrievalIndex().query(parse_goals_text("⊢ True")[0], 4) == []
    assert RetrievalSource(COQ).candidates(state("⊢ True")) == []
    assert RetrievalSource(COQ).candidates(None) == []


@pytest.mark.parametrize("text", ["⊢ 1 = 1", "x : R\n⊢ x = x"])
def test_unknown_words_do_not_break_a_query(tmp_path, text):
    src = RetrievalSource(COQ, corpus=str(corpus(tmp_path, [("n : nat\n⊢ n + 0 = n", "induction n")])))
    assert isinstance(src.candidates(state(text)), list)


def test_retrieval_switch_on_the_command_line_and_in_a_spec(tmp_path, coq_available):
    from prover.cli import main
    from prover.policy import PolicySpec, build_policy
    c = corpus(tmp_path, [(COMM, "rewrite Nat.add_comm; reflexivity")])
    spec = PolicySpec(sources=("menu", "retrieval")).with_options("retrieval", corpus=str(c))
    assert spec.label == "menu+retr"
    pol = build_policy(spec, "coq")
    assert "rewrite Nat.add_comm; reflexivity." in [x.tactic for x in pol.propose(
        [state("p, q : nat\ng : nat -> nat\n⊢ g (p + q) = g (q + p)")])[0]]
    with pytest.raises(ValueError, match="not among the sources"):
        PolicySpec(sources=("menu",), options={"retrieval": {}})
    def proved_by(name: str, statement: str, db, *flags: str) -> dict:
        """The one proof a 2-expansion search of ``statement`` stores in ``db``, with retrieval on."""
        write(tmp_path / name / f"{name}.v", f"""
            Require Import Arith.
            Theorem {name} {statement}.
            Proof.
            Admitted.
            """)
        assert main(["search", "--problems", str(tmp_path / name), "--db", str(db), "--workers", "1",
                     "--expansions", "2", "--with-retrieval", *flags]) == 0
        with ProofDB(db, create=False) as d:
            [proof] = d.proofs()
            return proof

    db = tmp_path / "s.db"
    proof = proved_by("comm", "(a b : nat) (f : nat -> nat) : f (a + b) = f (b + a)", db, "--retrieval-corpus", str(c))
    assert proof["proof"] == "rewrite Nat.add_comm; reflexivity." and proof["policy"] == "menu+retr"
    # --retrieval-db: a fresh search indexes another run's database (its accepted proofs) instead of its own
    proof = proved_by("comm2", "(x y : nat) (g : nat -> nat) : g (x + y) = g (y + x)", tmp_path / "fresh.db",
                      "--retrieval-db", str(db))
    assert proof["proof"] == "rewrite Nat.add_comm; reflexivity."


def test_the_next_page_gives_the_tactics_after_the_first_limit(tmp_path):
    """``more(state, 1)``: what a widening search asks for: the next ``limit`` distinct tactics,
    none of the first page's, names mapped the same way."""
    pairs = [(COMM, "rewrite Nat.add_comm"), (COMM, "f_equal; lia"), (COMM, "rewrite (Nat.add_comm x y)"),
             ("n : nat\n⊢ n + 0 = n", "induction n")]
    src = RetrievalSource(COQ, corpus=str(corpus(tmp_path, pairs)), limit=2)
    s = state("p, q : nat\ng : nat -> nat\n⊢ g (p + q) = g (q + p)")
    first, second = src.candidates(s), src.more(s, 1)
    assert len(first) == 2 and second and not set(first) & set(second)
    (tmp_path / "all").mkdir()
    assert set(first + second) <= set(RetrievalSource(COQ, corpus=str(corpus(tmp_path / "all", pairs)),
                                                      limit=8).candidates(s))
    assert "rewrite (Nat.add_comm p q)." in first + second
    assert src.limit == 2 and src.more(s, 5) == []  # the limit is restored; past the end: nothing
