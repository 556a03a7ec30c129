"""The Coq world's automation (issue #14): CoqHammer's reconstruction tactics and `hammer`
(eprover, z3, cvc5), Interval's `interval`. A hammer-found proof is stored as the
reconstruction CoqHammer reports and accepted by `prover check`; a proof that still calls
`hammer` is refused; Interval's proofs pass the allow-list. Real Coq, real external provers."""
from __future__ import annotations

import shutil

import pytest

from coq_env import automation
from coq_env.check import render_proof
from coq_env.problems import parse_file
from prover import backends
from prover.check import check_proof
from prover.db import ProofDB
from prover.env import ProofFinished
from prover.policy import MenuPolicy, PolicySpec
from prover.search import BestFirstSearch, SearchConfig
from prover.search.runner import run_search
from tests.conftest import write

need_hammer = pytest.mark.skipif("Hammer" not in automation.installed(),
                                 reason="CoqHammer is not installed (Debian libcoq-hammer eprover z3 cvc5: make setup)")
need_csdp = pytest.mark.skipif(shutil.which("csdp") is None,
                               reason="csdp is not installed (Debian coinor-csdp: make setup)")
need_interval = pytest.mark.skipif("Interval" not in automation.installed(),
                                   reason="Interval is not installed (Debian libcoq-interval: make setup)")


@pytest.fixture
def odd_even(tmp_path):
    # miniF2F's mathd_algebra_76, which the menu's best-first search at 4 expansions misses
    return parse_file(write(tmp_path / "p" / "odd_even.v", """
        Require Import ZArith.
        Open Scope Z_scope.
        Theorem odd_even :
          forall f : Z -> Z,
          (forall n, Z.odd n = true -> f n = n * n) ->
          (forall n, Z.even n = true -> f n = n * n - 4 * n - 1) ->
          f 4 = -1.
        Proof.
        Admitted.
        """))


def test_reconstruct_rewrites_only_an_unambiguous_report():
    out = "Replace the hammer tactic with: hauto lq: on \n"
    assert automation.reconstruct("intros; hammer", out) == "intros; (hauto lq: on)"
    assert automation.reconstruct("intros; hammer", "no report") is None
    two = out + "Replace the hammer tactic with: sauto\n"
    assert automation.reconstruct("split; hammer", two) is None
    assert automation.reconstruct("hammer; hammer", out) is None


def test_check_imports_only_what_the_proof_uses():
    assert automation.check_imports(["lia."]) == []
    assert automation.check_imports(["intros; (hauto lq: on)."]) == ["From Hammer Require Import Tactics."]
    assert automation.check_imports(["interval."]) == ["From Interval Require Import Tactic."]


@need_hammer
def test_hammer_proof_is_stored_as_its_reconstruction(coq_available, tmp_path, odd_even):
    db = ProofDB(tmp_path / "proofs.db")
    spec = PolicySpec(sources=("menu",), options={"menu": {"tactics": ["intros; hammer"]}})
    cfg = SearchConfig(max_expansions=2, tactic_timeout=10, max_seconds=120)
    s = run_search([odd_even], db, backend="coq", spec=spec, cfg=cfg, workers=1, progress=False)
    assert s.proved == 1
    proof = db.proofs(odd_even.key)[0]
    assert "hammer" not in proof["proof"] and proof["accepted"] == 1
    assert proof["proof"].startswith("intros; (") and any(w in proof["proof"] for w in automation.HAMMER_TACTICS)
    text = render_proof(odd_even, proof["proof"].splitlines())
    assert "From Hammer Require Import Tactics." in text and "Require Import Hammer." not in text
    # the stored edge carries the reconstruction too (what training reads)
    edges = db.query("select tactic from edges where outcome = 'proved'")
    assert edges and all("hammer" not in e["tactic"] for e in edges)
    db.close()


@need_hammer
def test_a_proof_that_still_calls_hammer_is_refused(coq_available, odd_even):
    v = check_proof(odd_even, ["intros; hammer."])
    assert not v.accepted and "hammer" in v.reason and "reconstruction" in v.reason


@need_hammer
def test_sauto_in_a_search_on_real_coq(env, odd_even):
    policy = MenuPolicy("coq", ["lia", "intros; sauto"])
    res = BestFirstSearch(env, policy, SearchConfig(max_expansions=1, tactic_timeout=5)).run(odd_even)
    assert res.proof == ["intros; sauto."]
    v = check_proof(odd_even, res.proof)
    assert v.accepted, v.reason


@need_csdp
def test_psatz_proves_a_sum_of_squares_that_nra_misses(env, tmp_path):
    """With csdp (the SDP solver micromega's `psatz` calls), the menu's `psatz` proves a
    one-variable sum-of-squares inequality: `nra` has no hypothesis to multiply and fails
    (miniF2F's algebra_binomnegdiscrineq_10alt28asqp1), and the checker accepts the proof."""
    p = parse_file(write(tmp_path / "p" / "sos.v", """
        Require Import Reals.
        Open Scope R_scope.
        Theorem sos : forall a : R, 10 * a <= 28 * a^2 + 1.
        Proof.
        Admitted.
        """))
    assert "csdp" in env.solvers
    psatz = next(t for t in backends.get("coq").menu if "psatz" in t)
    res = BestFirstSearch(env, MenuPolicy("coq", ["intros; nra", psatz]),
                          SearchConfig(max_expansions=1, tactic_timeout=10)).run(p)
    assert res.proof == [psatz + "."]
    assert [e.outcome.value for e in res.edges][0] != "proved"  # nra first, and it fails
    v = check_proof(p, res.proof)
    assert v.accepted, v.reason


@need_interval
def test_interval_proof_passes_the_allow_list(coq_available, tmp_path, monkeypatch):
    from coq_env.env import CoqEnv
    monkeypatch.setenv(automation.ENV_VAR, "Hammer,Interval")
    p = parse_file(write(tmp_path / "q" / "sqrt_two.v", """
        Require Import Reals.
        Open Scope R_scope.
        Theorem sqrt_two : sqrt 2 < 1.42.
        Proof.
        Admitted.
        """))
    with CoqEnv() as env:
        assert "Interval" in env.prelude
        assert isinstance(env.apply(env.open(p), "interval"), ProofFinished)
    v = check_proof(p, ["interval."])
    assert v.accepted, v.reason
    assert any(a.startswith(("FloatAxioms.", "Uint63.", "PrimFloat.", "PrimInt63.")) for a in v.axioms)


@need_interval
def test_an_axiom_named_like_a_primitive_spec_is_still_refused(coq_available, tmp_path):
    from coq_env.check import check_file
    f = write(tmp_path / "cheat.v", """
        Module Uint63.
        Axiom sub_spec : False.
        End Uint63.
        Theorem cheat : 1 = 2.
        Proof. destruct Uint63.sub_spec. Qed.
        """)
    v = check_file(f, "cheat")
    assert not v.accepted and "outside the allow-list" in v.reason


def test_automation_is_offered_only_when_installed_and_enabled(monkeypatch):
    coq = backends.get("coq")
    assert ("intros; sauto" in coq.menu) == ("Hammer" in automation.installed())
    assert "intros; hammer" not in coq.menu  # Coq's Timeout cannot stop its external provers
    assert "intros; interval" not in coq.menu  # opt-in (see automation.enabled)
    monkeypatch.setenv(automation.ENV_VAR, "Hammer,Interval")
    assert ("intros; interval" in coq.menu) == ("Interval" in automation.installed())
    monkeypatch.setenv(automation.ENV_VAR, "")
    assert automation.enabled() == () and "intros; sauto" not in coq.menu
    monkeypatch.setenv(automation.ENV_VAR, "Vampire")
    with pytest.raises(ValueError, match="unknown automation Vampire"):
        automation.enabled()
