"""The miniF2F-lean4 loader on all 488 files, and on malformed files."""
from __future__ import annotations

import pytest

import prover.paths
from lean_env.problems import default_directory, load_dir, parse_text
from prover.problems import ProblemError
from prover.backends import load_problems

DATA = default_directory()
needs_data = pytest.mark.skipif(not (DATA / "MiniF2F").is_dir(), reason=f"{DATA} not found")


@needs_data
def test_all_files_per_split():
    probs = load_dir()
    assert len(probs) == 488
    assert sum(p.split == "valid" for p in probs) == 244
    assert sum(p.split == "test" for p in probs) == 244
    assert len({p.key for p in probs}) == 488
    for p in probs:
        assert p.backend == "lean" and p.path.endswith(f"/{p.name}.lean")
        assert p.header.startswith("import Mathlib") and "open BigOperators Real Nat Topology Rat" in p.header
        assert "set_option maxHeartbeats 0" in p.header
        assert p.statement.startswith(f"theorem {p.name}")
        assert ":=" not in p.statement and "sorry" not in p.statement
        assert not p.statement.rstrip().endswith((":", "by")), p.name


@needs_data
def test_splits_limit_and_dispatch():
    assert len(load_dir(split="VALID")) == 244 and len(load_dir(split="Test")) == 244
    assert [p.name for p in load_dir(split="test", limit=3)] == ["aime_1983_p1", "aime_1983_p2", "aime_1983_p3"]
    assert len(load_problems("lean", split="valid", limit=5)) == 5
    with pytest.raises(ValueError):
        load_dir(split="train")


@needs_data
def test_known_statement_and_comment():
    [p] = [p for p in load_dir(split="test") if p.name == "aime_1983_p2"]
    assert p.statement.endswith("(h₂ : f x = abs (x - p) + abs (x - 15) + abs (x - p - 15)) :\n  15 ≤ f x")
    [q] = [p for p in load_dir(split="valid") if p.name == "amc12b_2002_p3"]
    assert "-- note" in q.statement and q.statement.endswith("S.card = 1")


@needs_data
def test_env_var(monkeypatch, tmp_path):
    monkeypatch.setenv("PROVER_DATA_DIR", str(DATA.parent))
    assert default_directory() == DATA
    monkeypatch.setenv("PROVER_DATA_DIR", str(tmp_path))
    assert default_directory() == tmp_path / "minif2f-lean4"


def test_default_directory_without_shared_data(monkeypatch, tmp_path):
    """Without ``$PROVER_DATA_DIR`` and ``../shared/data`` the loader looks where ``make data``
    downloads (``data/external``), as every backend does (``prover.paths``)."""
    monkeypatch.delenv("PROVER_DATA_DIR", raising=False)
    repo = tmp_path / "repo"
    repo.mkdir()
    assert not (repo.parent / "shared" / "data").exists()
    monkeypatch.setattr(prover.paths, "REPO", repo)
    assert default_directory() == repo / "data" / "external" / "minif2f-lean4"


GOOD = "import Mathlib\n\nopen Real\n\ntheorem t (x : ℝ) (h : x = (fun y => y) 2) : x = 2 := by\n  simp [h]\n"
BAD = {
    "none.lean": "import Mathlib\n\n-- theorem hidden : True := trivial\n",
    "two.lean": "import Mathlib\ntheorem a : True := trivial\ntheorem b : True := trivial\n",
    "noproof.lean": "import Mathlib\ntheorem c : True\n",
    "open.lean": "import Mathlib\ntheorem d : True := by /- unterminated\n",
    "noimport.lean": "theorem e : True := trivial\n",
}


@needs_data
def test_malformed_files(tmp_path):
    p = parse_text(GOOD, "good.lean")
    assert p.statement == "theorem t (x : ℝ) (h : x = (fun y => y) 2) : x = 2" and p.header == "import Mathlib\n\nopen Real"
    tail = parse_text("import Mathlib\ntheorem f (x : ℕ) -- why\n  := by simp\n", "f.lean")
    assert "--" not in tail.statement and tail.statement.endswith("(x : ℕ)")
    for name, text in BAD.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "good.lean").write_text(GOOD)
    errors = []
    probs = load_dir(tmp_path, on_error=lambda path, msg: errors.append((path, msg)))
    assert [p.name for p in probs] == ["t"] and probs[0].split == ""
    assert sorted(e[0].rsplit("/", 1)[1] for e in errors) == sorted(BAD)
    for path, msg in errors:
        assert path in msg and "\n" not in msg
    with pytest.raises(ProblemError, match="two.lean|none.lean|noimport.lean|noproof.lean|open.lean"):
        load_dir(tmp_path)
