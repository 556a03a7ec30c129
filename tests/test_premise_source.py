"""The premise source: library lemmas, listed by real Coq for the problem's header, applied or
rewritten by name where the menu's automation cannot go."""
from __future__ import annotations

from pathlib import Path

import pytest

from coq_env import premises
from coq_env.cheat import check_tactic
from prover.env import Goal, Hyp, ProofFinished, State
from prover.policy.sources import make_source
from tests.conftest import write

REALS = "Require Import Reals.\nOpen Scope R_scope."
ARITH = "Require Import Arith."


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One disk cache for the module; the memory cache starts and ends empty."""
    premises.forget()
    yield tmp_path_factory.mktemp("premise-cache")
    premises.forget()
    premises._CURRENT.clear()


def _problem(d: Path, name: str, text: str):
    from coq_env.problems import parse_file
    return parse_file(write(d / f"{name}.v", text))


def _menu_fails(env, root) -> None:
    from prover import backends
    for t in backends.get("coq").menu:
        assert not isinstance(env.apply(root, t, timeout=3), ProofFinished), t


@pytest.mark.parametrize("name,text,lemma", [
    ("sqrt_sq", """
        Require Import Reals.
        Open Scope R_scope.
        Theorem sqrt_sq (x : R) (h : 0 <= x) : sqrt x * sqrt x = x.
        Proof.
        Admitted.
        """, "sqrt_sqrt"),
    ("gcd_sym", """
        Require Import Arith.
        Theorem gcd_sym (a b : nat) : Nat.gcd a b = Nat.gcd b a.
        Proof.
        Admitted.
        """, "Nat.gcd_comm"),
])
def test_a_library_lemma_proves_what_the_menu_cannot(env, tmp_path, cache, name, text, lemma):
    from prover.check import check_proof
    p = _problem(tmp_path, name, text)
    root = env.open(p)
    _menu_fails(env, root)
    premises.note_header(p.header)  # what the environment's open records (see coq_env.premises)
    source = make_source("premises", "coq", cache_dir=str(cache))
    cands = source.candidates(root)
    assert any(t.startswith(f"apply {lemma}") for t in cands[:6]), cands[:6]
    proof = next(out.proof for t in cands[:8] if isinstance(out := env.apply(root, t), ProofFinished))
    used = proof[0].split()[1].rstrip(".;")
    assert used in premises.library(p.header, cache_dir=cache).names()  # a lemma Coq listed
    v = check_proof(p, list(proof))
    assert v.accepted, v.reason


def test_the_lemma_list_comes_from_coq_and_is_cached(tmp_path, coq_available):
    cache = tmp_path / "cache"
    premises.forget()
    before = premises.DUMPS
    lib = premises.library(REALS, cache_dir=cache)
    assert premises.DUMPS == before + 1 and lib is not None and len(lib) > 3000
    names = set(lib.names())
    known = {"Rabs_pos", "exp_ln", "Rsqr_sqrt", "Rabs_triang", "sqrt_pos", "Z.gcd_comm", "Nat.mod_small"}
    assert known <= names
    source = (Path(premises.__file__)).read_text()
    assert not any(n in source for n in known)  # nothing hand-written: Coq listed them
    # the same header again: memory, then (a fresh process's view) the disk; Coq is not started
    assert premises.library(REALS, cache_dir=cache) is lib
    premises.forget()
    again = premises.library(REALS, cache_dir=cache)
    assert premises.DUMPS == before + 1 and again.names() == lib.names()
    assert len(list(Path(cache).glob("*.json"))) == 1
    # another header, another list: Arith has no square roots
    arith = premises.library(ARITH, cache_dir=cache)
    assert premises.DUMPS == before + 2
    assert "Nat.gcd_comm" in arith.names() and "sqrt_sqrt" not in arith.names()


def test_a_header_whose_search_fails_offers_nothing_with_one_line(cache, capsys, coq_available):
    goal = Goal((Hyp(("x",), "R"),), "sqrt x * sqrt x = x")
    bad = "Require Import NoSuchLibraryAnywhere."
    before = premises.DUMPS
    assert premises.candidates(goal, header=bad, cache_dir=cache) == []
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "premises" in err[0] and "NoSuchLibraryAnywhere" in err[0]
    assert premises.candidates(goal, header=bad, cache_dir=cache) == []  # remembered: no retry
    assert capsys.readouterr().err == "" and premises.DUMPS == before + 1
    assert not list(Path(cache).glob("*.json")) or all(
        "NoSuchLibrary" not in f.read_text() for f in Path(cache).glob("*.json"))


GOAL = Goal((Hyp(("x", "y"), "R"), Hyp(("h",), "0 < x"), Hyp(("h1",), "Rabs (x - y) <= 1")),
            "exp (ln x) + sqrt (x * x) <= x + Rabs y + 1")


def test_candidates_are_deterministic_capped_unique_and_pass_the_cheat_filter(cache, coq_available):
    full = premises.candidates(GOAL, header=REALS, cache_dir=cache)
    assert 8 <= len(full) <= 64 and len(full) == len(set(full))
    assert premises.candidates(GOAL, header=REALS, cache_dir=cache) == full
    assert all(check_tactic(t) == t for t in full)
    assert premises.candidates(GOAL, header=REALS, cache_dir=cache, limit=5) == full[:5]
    # the rewrite that unlocks the goal is there, and arguments are instantiated from the goal
    assert "rewrite exp_ln." in full
    assert "rewrite Rabs_minus_sym in h1." in full
    assert any(t.startswith("pose proof (Rabs_pos y)") for t in full)


def test_the_source_reads_the_recorded_header_and_takes_extra_lemmas(cache, coq_available):
    state = State((Goal((Hyp(("y",), "R"),), "twice_id (y + 1) = y + 1"),))
    src = make_source("premises", "coq", cache_dir=str(cache), limit=3)
    premises._CURRENT.clear()
    assert src.candidates(state) == []  # no problem opened, no header: nothing
    premises.note_header(REALS)
    assert len(src.candidates(State((GOAL,)))) == 3
    assert src.candidates(None) == [] and src.candidates(State(())) == []
    mine = make_source("premises", "coq", cache_dir=str(cache),
                       extra_lemmas=[("twice_id_spec", "forall x : R, twice_id x = x")])
    assert mine.candidates(state)[:2] == ["apply twice_id_spec.", "rewrite twice_id_spec."]
    assert src.tag == "prem" and not src.static


GAUSS = """
    Require Import Arith Lia.
    Fixpoint sumto (n : nat) : nat := match n with 0 => 0 | S k => n + sumto k end.
    """


@pytest.mark.parametrize("kind", ["hindsight", "conjecture"])
def test_a_lemma_the_run_proved_is_used_by_name_and_proved_in_place(env, tmp_path, cache, kind):
    """A lemma the loop checked (three steps: induction), as a hindsight lemma or as a
    conjecture its search proved, closes another problem in one step: the ``lemmas`` source reads
    it from the run's database and the tactic proves it in place, so the proof passes `prover
    check` in a file that has no such lemma."""
    from prover import backends
    from prover.check import check_proof
    from prover.db import ProofDB
    from prover.policy.spec import PolicySpec
    from prover.problems import Problem
    from prover.search.best_first import SearchConfig
    from prover.search.runner import run_search
    from prover.selfplay import hindsight as H
    coq = backends.get("coq")
    pool = _problem(tmp_path, "pool_gauss", GAUSS + """
        Theorem pool_gauss (n : nat) : 2 * sumto n = n * (n + 1).
        Proof.
        Admitted.
        """)
    target = _problem(tmp_path, "target_sq", GAUSS + """
        Theorem target_sq (n : nat) : 2 * sumto (n * n) = n * n * (n * n + 1).
        Proof.
        Admitted.
        """)
    tactics = ["induction n.", "reflexivity.", "simpl; nia."]
    db_path = tmp_path / "run.db"
    root = env.open(pool)
    with ProofDB(db_path) as db:
        db.add_problems([pool])
        if kind == "hindsight":  # the steps as a search saw them, checked in a fresh process as self-play does
            steps, state = [], root
            for t in tactics:
                steps.append((state.text(), t))
                out = env.apply(state, t)
                state = out.state if hasattr(out, "state") else out
            assert isinstance(state, ProofFinished), state
            key = H.lemma_key(root.goals[0].text())
            cand = H.Candidate(key, pool.key, 0, "0", root.goals[0].text(), tactics, steps)
            assert H.verify(db, [cand], {pool.key: pool}, coq, 0, workers=1, progress=False)["accepted"] == 1
        else:  # a conjecture of the pool problem, proved by a real search and checked
            key = "cj_gauss"
            conj = Problem(name=key, split="conj", backend="coq", header=pool.header,
                           statement=coq.statement(root.goals[0], key))
            db.record_conjectures([{"key": conj.key, "parent": pool.key, "operator": "stuck", "round": 0,
                                    "goal": root.goals[0].text(), "statement": conj.statement,
                                    "status": "open", "reason": ""}])
            spec = PolicySpec(sources=("menu",), options={"menu": {"tactics": [t[:-1] for t in tactics]}})
            s = run_search([conj], db, backend="coq", spec=spec, cfg=SearchConfig(max_expansions=6, tactic_timeout=10),
                           workers=1, progress=False)
            assert s.proved == 1 and db.proofs(conj.key)[0]["accepted"]
    # the target: the menu cannot, the run's own lemma can, in one step
    troot = env.open(target)
    _menu_fails(env, troot)
    premises.note_header(target.header)
    src = make_source("lemmas", "coq", db=str(db_path), deny=[])
    src.begin(target)  # the search does this for each problem: its header picks the lemmas
    cands = src.candidates(troot)
    assert src.tag == "lem" and 1 <= len(cands) <= 8
    own = [t for t in cands if t.startswith(f"assert ({key} : forall (n : nat), 2 * sumto n = n * (n + 1)) "
                                            f"by (clear; intros n; induction n; [ reflexivity | simpl; nia ]); ")]
    assert own and all(check_tactic(t) == t for t in own), cands
    proof = next(out.proof for t in own if isinstance(out := env.apply(troot, t), ProofFinished))
    assert len(proof) == 1 and proof[0].endswith(f"apply {key}.")
    assert key not in target.header and key not in target.statement
    v = check_proof(target, list(proof))
    assert v.accepted, v.reason
    # once a step has stated the lemma, it is used by name, not stated again
    stated = env.apply(troot, own[0].split("); ")[0] + ").")
    again = src.candidates(stated.state)
    assert f"apply {key}." in again and not any(t.startswith("assert") for t in again)
    assert isinstance(env.apply(stated.state, f"apply {key}."), ProofFinished)
    # a problem under another header gets none of them (they may not even elaborate there)
    other = _problem(tmp_path, "other_sq", "Require Import Arith Lia.\n" + GAUSS + """
        Theorem other_sq (n : nat) : 2 * sumto (n * n) = n * n * (n * n + 1).
        Proof.
        Admitted.
        """)
    src.begin(other)
    assert src.candidates(env.open(other)) == []
    # a lemma of a denied problem (the evaluation split), or a conjecture of one, is never offered
    assert make_source("lemmas", "coq", db=str(db_path), deny=[pool.key]).candidates(troot) == []
    # the library's premise source does not read the database; without one, no lemmas
    assert not any(key in t for t in make_source("premises", "coq", cache_dir=str(cache)).candidates(troot))
    assert make_source("lemmas", "coq").candidates(troot) == []
    # a malformed statement is skipped, not raised
    assert premises.own_lemma("Lemma broken (x : R : x = x.", "lra") is None
    assert premises.own_lemma("Lemma fine : 1 = 1.", "") is None
