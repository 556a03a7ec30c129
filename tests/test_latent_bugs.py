"""Regression tests for latent bugs found by reading the code (issue #38): edge values of the
training mix, a search key iterate never read, and a broken database that was silently taken
for "no data". Each fails on the code before its fix."""
from __future__ import annotations

import json

import pytest

from prover.db import DBError, ProofDB
from prover.loop.config import ConfigError, IterateConfig
from prover.loop.training import mix
from prover.policy.retrieval import db_proofs
from prover.search.runner import load_costs, load_failures
from prover.search import SearchConfig

PROOFS = [{"goals": f"g{i}", "tactic": "auto"} for i in range(5)]
CORPUS = [{"goals": f"c{i}", "tactic": "lia"} for i in range(50)]


def test_a_zero_corpus_fraction_is_the_proofs_alone():
    # was ZeroDivisionError whenever min_corpus made the corpus sample non-empty
    out = mix(PROOFS, CORPUS, 0.0, seed=1, min_corpus=10)
    assert sorted(p["goals"] for p in out) == sorted(p["goals"] for p in PROOFS)


def test_fraction_one_is_the_whole_corpus_once_with_the_proofs():
    out = mix(PROOFS, CORPUS, 1.0, seed=1)
    assert len(out) == len(PROOFS) + len(CORPUS)


def _config(tmp_path, **keys):
    p = tmp_path / "c.json"
    p.write_text(json.dumps({"name": "x", **keys}))
    return p


def test_edge_fractions_load_and_out_of_range_ones_are_one_line(tmp_path):
    assert IterateConfig.load(_config(tmp_path, corpus_fraction=0.0)).corpus_fraction == 0.0
    assert IterateConfig.load(_config(tmp_path, initial_proof_share=1.0)).initial_proof_share == 1.0
    with pytest.raises(ConfigError, match=r"c.json: corpus_fraction must be between 0 and 1, not 1.5"):
        IterateConfig.load(_config(tmp_path, corpus_fraction=1.5))
    with pytest.raises(ConfigError, match=r"initial_proof_share must be between 0 and 1"):
        IterateConfig.load(_config(tmp_path, initial_proof_share=-0.1))


def test_search_max_expansions_is_refused_not_ignored(tmp_path):
    with pytest.raises(ConfigError, match=r"c.json: search.max_expansions is not read by iterate.*budget.base"):
        IterateConfig.load(_config(tmp_path, search={"max_expansions": 64}))


def _corrupt(tmp_path):
    bad = tmp_path / "bad.db"
    with ProofDB(bad) as db:
        db.add_failures([]) if hasattr(db, "add_failures") else None
    bad.write_bytes(b"SQLite format 3\x00" + b"\x13" * 4000)  # a header, then garbage
    return bad


def test_a_corrupt_database_is_said_not_taken_for_an_empty_cache(tmp_path, capsys):
    bad = _corrupt(tmp_path)
    assert len(load_failures(str(bad))) == 0
    assert "warning: failure cache not read:" in capsys.readouterr().err
    load_costs(str(bad), "coq", SearchConfig())
    assert "warning: tactic times not read:" in capsys.readouterr().err
    # a database not made yet is no data, and nothing to warn about
    assert len(load_failures(str(tmp_path / "none.db"))) == 0
    load_costs(str(tmp_path / "none.db"), "coq", SearchConfig())
    assert capsys.readouterr().err == ""


def test_retrieval_reads_a_database_without_self_play_and_fails_loudly_on_a_broken_one(tmp_path):
    with ProofDB(tmp_path / "p.db") as db:
        db.db.execute("drop table if exists hindsight")
        proofs, after = db_proofs(db, deny=set())
        assert proofs == [] and after == (0, 0)
        db.db.execute("create table hindsight (problem text, steps text)")  # a table without `accepted`
        with pytest.raises(DBError, match="p.db"):
            db_proofs(db, deny=set())


def test_per_tactic_timeouts_hold_without_the_cost_order(env, problem_dir):
    """``tactic_timeouts`` were applied only by the cost order: with it off, every tactic ran
    under the global limit. A spy around the real Coq environment records the limits."""
    from coq_env.problems import parse_file
    from prover.policy import MenuPolicy
    from prover.search import BestFirstSearch

    limits = {}
    real_apply = env.apply

    def spy(state, tactic, timeout=None):
        limits[tactic] = timeout
        return real_apply(state, tactic, timeout)

    env.apply = spy
    p = parse_file(problem_dir / "two_goals.v")
    for cost_order in (False, True):
        limits.clear()
        cfg = SearchConfig(max_expansions=1, tactic_timeout=7.0, cost_order=cost_order, failure_cache=False,
                           tactic_timeouts={"simpl": 3.0})
        BestFirstSearch(env, MenuPolicy("coq", ["simpl", "intros"]), cfg).run(p)
        assert limits["simpl."] == 3.0 and limits["intros."] == 7.0, (cost_order, limits)


def test_one_default_per_search_setting():
    """The expansion budget had six defaults (64, 32, 8, 8...), max_seconds four (300, 300, 120,
    60): the commands, the loop's config and the search now read SearchConfig's."""
    from dataclasses import fields

    from prover.cli import build_parser
    from prover.loop.selection import BudgetPolicy
    from prover.search.best_first import EXPANSIONS
    defaults = {f.name: f.default for f in fields(SearchConfig)}
    assert defaults["max_expansions"] == EXPANSIONS == BudgetPolicy().base == IterateConfig().eval_expansions
    assert IterateConfig().search == {}
    for cmd in (["search", "--db", "x.db"], ["eval"]):
        args = build_parser().parse_args(cmd)
        assert args.expansions == EXPANSIONS, cmd
        for key in ("max_seconds", "value_weight", "prune_after", "widen", "widen_times", "tries"):
            assert getattr(args, key) == defaults[key], (cmd, key)
        assert args.timeout == defaults["tactic_timeout"], cmd
