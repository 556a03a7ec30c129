"""Tracing real Coq files into (goals, tactic) pairs: exact pairs, failures counted and
skipped, bullets and braces replayed without pairs, resumable runs, the split by file."""
from __future__ import annotations

import argparse
import json

import pytest

from coq_env import trace as T
from coq_env.sentences import split_sentences
from coq_env.trace import split_of, trace_corpus, trace_file
from prover.corpus import load_pairs

from tests.conftest import write

SMALL = """
Require Import Arith.

Lemma add_0_r_ex : forall n : nat, n + 0 = n.
Proof.
  intros n.
  induction n as [|n IH].
  - simpl. reflexivity.
  - simpl. { rewrite IH. (* a comment *) reflexivity. }
Qed.

Lemma broken : 1 + 1 = 3.
Proof.
  simpl.
  reflexivity.
  reflexivity.
Qed.

Lemma bad_statement : undefined_thing = 0.
Proof.
  reflexivity.
Qed.

Lemma admitted_one : forall n : nat, n = n.
Proof.
  intros n.
Admitted.

Lemma uses_broken : 1 + 1 = 3.
Proof. exact broken. Qed.

Lemma with_command : True.
Proof.
  Check I.
  idtac "hello".
  exact I.
Defined.

Definition two := 2.
Lemma self_qualified : small.two = 2.
Proof with auto.
  unfold small.two...
Qed.

Lemma after_ellipsis : two = 2.
Proof. reflexivity. Qed.
"""

IH = "n : nat\nIH : n + 0 = n\n"
EXPECTED = [  # (theorem, step, goals, tactic, under_bullet)
    ("add_0_r_ex", 0, "⊢ forall n : nat, n + 0 = n", "intros n.", False),
    ("add_0_r_ex", 1, "n : nat\n⊢ n + 0 = n", "induction n as [|n IH].", False),
    ("add_0_r_ex", 2, "⊢ 0 + 0 = 0", "simpl.", True),
    ("add_0_r_ex", 3, "⊢ 0 = 0", "reflexivity.", True),
    ("add_0_r_ex", 4, IH + "⊢ S n + 0 = S n", "simpl.", True),
    ("add_0_r_ex", 5, IH + "⊢ S (n + 0) = S n", "rewrite IH.", True),
    ("add_0_r_ex", 6, IH + "⊢ S n = S n", "reflexivity.", True),
    # broken's Admitted (by the tracer) keeps the lemma usable
    ("uses_broken", 0, "⊢ 1 + 1 = 3", "exact broken.", False),
    # step 0 is the refused `Check I.`, step 1 the refused `idtac "hello".`
    ("with_command", 2, "⊢ True", "exact I.", False),
    # `unfold small.two...` is sent (the file's own module name resolves) but gives no pair
    ("after_ellipsis", 0, "⊢ two = 2", "reflexivity.", False),
]


@pytest.fixture
def small(tmp_path):
    return write(tmp_path / "src" / "small.v", SMALL)


def test_trace_file_exact_pairs(coq_available, small):
    pairs, st = trace_file(small)
    got = [(p["theorem"], p["step"], p["goals"], p["tactic"], p["under_bullet"]) for p in pairs]
    assert got == EXPECTED
    assert {p["file"] for p in pairs} == {"small.v"}
    assert {p["split"] for p in pairs} == {split_of("small.v")}
    assert st.status == "traced" and st.pairs == len(EXPECTED)
    assert (st.proofs_replayed, st.proofs_failed, st.proofs_admitted) == (5, 2, 1)
    assert st.dropped == {"proof failed": 1, "proof admitted": 1}
    assert st.rejected == {"'Check' is not allowed in a tactic": 1,
                           "string literals are not allowed in tactics": 1,
                           "`tac...` runs the `Proof with` tactic: not a tactic alone": 1}
    assert sum(st.failures.values()) == 2
    assert any("not found" in r for r in st.failures)
    assert st.coqtop_starts == 1


def test_resplit_as_coq_does():
    text = ('Proof with auto.\n apply H...\n - exact x...\n Notation "a ... b" := a.\n'
            '+apply H.\n**simpl.\n- reflexivity.\n')
    parts = [p.text for s in split_sentences(text) for p in T.resplit(s)]
    assert parts == ["Proof with auto.", "apply H...", "-", "exact x...", 'Notation "a ... b" := a.',
                     "+", "apply H.", "**", "simpl.", "-", "reflexivity."]


def test_hang_restarts_coqtop_and_goes_on(coq_available, tmp_path):
    f = write(tmp_path / "hang.v", """
        Lemma slow : True.
        Proof.
          do 100000000 idtac.
          exact I.
        Qed.

        Definition stuck : True := ltac:(do 100000000 idtac; exact I).

        Lemma after : True /\\ True.
        Proof. split; exact I. Qed.
        """)
    pairs, st = trace_file(f, timeout=1, command_timeout=1, grace=1)
    assert [(p["theorem"], p["tactic"]) for p in pairs] == [("after", "split; exact I.")]
    assert st.proofs_failed == 1 and st.proofs_replayed == 1
    assert "Timeout!" in st.failures
    assert st.coqtop_starts == 2  # the top-level hang killed coqtop; the log was replayed


def test_corpus_resumes_and_splits_by_file(coq_available, tmp_path, monkeypatch):
    src = tmp_path / "lib"
    names: dict[str, str] = {}  # split -> a file name that falls into it
    i = 0
    while len(names) < 2:
        names.setdefault(split_of(f"lib/f{i}.v"), f"f{i}.v")
        i += 1
    for name in names.values():
        write(src / name, "Lemma t : 2 + 2 = 4.\nProof.\n  simpl.\n  reflexivity.\nQed.\n")
    starts = []
    real = T.Coqtop

    def counting(*a, **k):
        starts.append(1)
        return real(*a, **k)

    monkeypatch.setattr(T, "Coqtop", counting)
    out = tmp_path / "corpus"
    s1 = trace_corpus(out, files=[str(src)], workers=1, progress=False)
    assert s1["this_run"]["traced"] == 2 and len(starts) == 2
    assert s1["pairs"] == {**s1["pairs"], "train": 2, "heldout": 2}
    for split, name in names.items():
        rows = [json.loads(line) for line in (out / f"{split}.jsonl").read_text().splitlines()]
        assert [(r["file"], r["step"], r["tactic"], r["split"]) for r in rows] == [
            (f"lib/{name}", 0, "simpl.", split), (f"lib/{name}", 1, "reflexivity.", split)]
        assert rows[1]["goals"] == "⊢ 4 = 4"
        assert load_pairs(out, split) == rows
    assert len(load_pairs(out, "all")) == 4
    s2 = trace_corpus(out, files=[str(src)], workers=1, progress=False)
    assert len(starts) == 2  # no coqtop: both files were done
    assert s2["this_run"]["traced"] == 0 and s2["this_run"]["resumed"] == 2
    assert s2["pairs"]["train"] == 2 and s2["pairs"]["heldout"] == 2
    summary = json.loads((out / "summary.json").read_text())
    assert summary["files"]["done"] == 2 and summary["proofs"]["replayed"] == 2


def test_cli_lean_needs_leandojo(capsys, tmp_path):
    from prover.cli.trace import register
    ap = argparse.ArgumentParser()
    register(ap.add_subparsers(dest="cmd"))
    args = ap.parse_args(["trace", "--backend", "lean", "--out", str(tmp_path)])
    assert args.func(args) == 2
    assert "tracing Lean needs LeanDojo" in capsys.readouterr().err


def test_discover_finds_the_stdlib(coq_available):
    files = T.discover()
    rels = {f.rel for f in files}
    assert "theories/Arith/PeanoNat.v" in rels
    init = next(f for f in files if f.rel == "theories/Init/Logic.v")
    assert "-noinit" in init.args
    assert T.select(files, ["theories/Bool/Bool.v"])[0].rel == "theories/Bool/Bool.v"
