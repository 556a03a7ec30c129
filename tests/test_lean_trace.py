"""The Lean corpus (LeanDojo tracing), tested without Lean on goal states Lean really printed.

LeanDojo's ``state_before`` is Lean's own goal display, the one the REPL answers with. The
stand-ins below carry, for every tactic request of the recorded REPL transcripts, the
recorded goals of the proof state it was sent to: real states, real tactics. What only a
live Lean can test (LeanDojo building and tracing a repository) is marked ``lean``.
"""
from __future__ import annotations

import json
import os
import sys
from collections import Counter
from types import SimpleNamespace

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import lean_transcripts as T  # noqa: E402
from lean_env.goals import parse_goals  # noqa: E402
from lean_env.paths import lake  # noqa: E402
from lean_env.trace import pairs_from_theorems, split_of  # noqa: E402
from prover.corpus import write_corpus  # noqa: E402
from prover.env import goals_text  # noqa: E402

pytestmark = pytest.mark.skipif(not T.TRANSCRIPTS.is_dir(), reason="transcripts not found")


def recorded_theorems() -> list:
    """One LeanDojo-shaped theorem per transcript: its tactic requests, each with the goals
    of the proof state it was applied to, as the REPL printed them."""
    thms = []
    for name in T.all_names():
        t = T.load(name)
        goals: dict[int, list[str]] = {}
        tactics = []
        for req, ans in t.paired:
            if "tactic" in req and req.get("proofState") in goals:
                tactics.append(SimpleNamespace(tactic=req["tactic"], state_before="\n\n".join(goals[req["proofState"]])))
            if "proofState" in ans and "goals" in ans:
                goals[ans["proofState"]] = ans["goals"]
            for s in ans.get("sorries") or []:
                if "proofState" in s:
                    goals[s["proofState"]] = [s["goal"]]
        thms.append(SimpleNamespace(theorem=SimpleNamespace(full_name=name, file_path=f"{name}.lean"),
                                    get_traced_tactics=lambda tactics=tactics: tactics))
    return thms


def test_recorded_states_become_corpus_pairs(tmp_path):
    thms = recorded_theorems()
    stats = Counter()
    pairs = pairs_from_theorems(thms, stats)
    assert len(pairs) > 30 and stats["pairs"] == len(pairs)
    by_name = {t.theorem.full_name: t for t in thms}
    for p in pairs:
        src = list(by_name[p["theorem"]].get_traced_tactics())[p["step"]]
        assert p["goals"] == goals_text(parse_goals(src.state_before))  # the search's own text form
        assert "⊢" in p["goals"] and p["tactic"] == p["tactic"].strip()
        assert p["split"] == split_of(p["file"]) and p["file"] == f"{p['theorem']}.lean"
    # cheats in the recordings (sorry, native_decide...) never become training targets
    assert not any(p["tactic"] in ("sorry", "admit") or "native_decide" in p["tactic"] for p in pairs)
    refused = sum(v for k, v in stats.items() if k.startswith("refused"))
    assert stats["pairs"] + refused + stats["skipped_no_goals"] + stats["skipped_unparsed_state"] == \
        sum(len(list(t.get_traced_tactics())) for t in thms)
    write_corpus(pairs, tmp_path, {"backend": "lean", "source": {"url": "recorded", "commit": "-"},
                                   "files": len({p["file"] for p in pairs}), "stats": dict(stats)})
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["backend"] == "lean"
    lines = [json.loads(x) for f in ("train", "heldout") for x in (tmp_path / f"{f}.jsonl").read_text().splitlines()]
    assert sorted(map(json.dumps, lines)) == sorted(map(json.dumps, pairs))
    from prover.corpus import load_pairs
    assert len(load_pairs(tmp_path, "all")) == len(pairs)


def test_case_tags_survive_into_the_prompt():
    thm = SimpleNamespace(theorem=SimpleNamespace(full_name="t", file_path="T.lean"), get_traced_tactics=lambda: [
        SimpleNamespace(tactic="  omega", state_before="case succ\nn : ℕ\nih : n + 0 = n\n⊢ n + 1 + 0 = n + 1"),
        SimpleNamespace(tactic="rfl", state_before="no goals"),
        SimpleNamespace(tactic="sorry", state_before="⊢ True")])
    stats = Counter()
    pairs = pairs_from_theorems([thm], stats)
    assert [(p["goals"], p["tactic"]) for p in pairs] == [
        ("case succ\nn : ℕ\nih : n + 0 = n\n⊢ n + 1 + 0 = n + 1", "omega")]
    assert stats["skipped_no_goals"] == 1 and sum(v for k, v in stats.items() if k.startswith("refused")) == 1


def test_trace_lean_without_lean_says_so_in_one_line(tmp_path):
    if lake() is not None:
        pytest.skip("a Lean toolchain is installed here")
    import subprocess
    exe = os.path.join(os.path.dirname(sys.executable), "prover")
    r = subprocess.run([exe, "trace", "--backend", "lean", "--out", str(tmp_path / "c")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "lean" in r.stderr.lower()


@pytest.mark.lean
@pytest.mark.skipif(lake() is None, reason="needs a live Lean toolchain and LeanDojo (make lean-setup)")
def test_leandojo_traces_a_small_repository(tmp_path):
    from lean_env.trace import trace_repo
    summary = trace_repo(tmp_path, url="https://github.com/yangky11/lean4-example",
                         commit="7b6ecb9ad4829e4e73600a3329baeb3b5df8d23f")
    assert summary["pairs"]["train"] + summary["pairs"]["heldout"] > 0
