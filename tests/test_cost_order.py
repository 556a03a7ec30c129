"""Cost-aware order within an expansion (issue #14): cheap tactics before expensive decision
procedures, expensive ones only where the policy ranks them high or the node is shallow, and
time limits from the run's measured tactic times. Real Coq, real SQLite."""
from __future__ import annotations

from coq_env.problems import parse_file
from prover import backends
from prover.db import ProofDB
from prover.policy import Candidate, MenuPolicy, PolicySpec
from prover.search import BestFirstSearch, SearchConfig
from prover.search.cost import CostModel, TacticStats
from prover.search.runner import load_costs, run_search
from tests.conftest import write

COQ = backends.get("coq").expensive


def cands(*tactics):
    return [Candidate(t, -float(i)) for i, t in enumerate(tactics)]


def test_cheap_tactic_goes_before_nra():
    plan = CostModel(COQ).plan(cands("intros; nra", "nra", "lia", "psatz R 3", "ring"), depth=0, limit=1.0)
    assert [c.tactic for c, _ in plan] == ["lia", "ring", "intros; nra", "nra", "psatz R 3"]


def test_expensive_only_when_ranked_high_or_shallow():
    model = CostModel(COQ, expensive_rank=2, expensive_depth=1)
    tactics = ("nra", "lia", "auto", "nia", "compute; reflexivity")
    assert len(model.plan(cands(*tactics), depth=1, limit=1.0)) == 5         # a shallow node tries all
    deep = [c.tactic for c, _ in model.plan(cands(*tactics), depth=3, limit=1.0)]
    assert deep == ["lia", "auto", "nra"] and model.skipped == 2               # ranked 4th and 5th: skipped


def test_measured_times_set_order_and_limits():
    stats = {"slow_tac": TacticStats(tries=20, ok=2, timeouts=15, seconds=16.0, max_ok=0.9),
             "lia": TacticStats(tries=50, ok=30, timeouts=0, seconds=2.5, max_ok=0.05)}
    model = CostModel(COQ, stats)
    assert model.expensive("slow_tac") and not model.expensive("lia")         # measured, not named
    assert model.timeout("lia", 1.0) == 0.25                                  # 3 x 0.05 s, floored at 0.25 s
    assert model.timeout("nra", 1.0) == 1.0                                   # unmeasured: the search's limit
    assert [c.tactic for c, _ in model.plan(cands("slow_tac", "lia"), 0, 1.0)] == ["lia", "slow_tac"]


def test_search_tries_lia_before_nra_on_real_coq(env, tmp_path):
    p = parse_file(write(tmp_path / "p" / "both.v", """
        Theorem both (n : nat) : n + 0 = n.
        Proof.
        Admitted.
        """))
    policy = MenuPolicy("coq", ["nra", "lia"])  # the policy ranks nra first
    res = BestFirstSearch(env, policy, SearchConfig(max_expansions=2, tactic_timeout=5)).run(p)
    assert res.proof == ["lia."] and [e.tactic for e in res.edges] == ["lia."]  # nra never ran
    off = BestFirstSearch(env, policy, SearchConfig(max_expansions=2, tactic_timeout=5, cost_order=False)).run(p)
    assert off.edges[0].tactic == "nra."


def test_tactic_stats_come_from_the_database(coq_available, tmp_path):
    p = parse_file(write(tmp_path / "p" / "two.v", """
        Theorem two (n : nat) : n * 1 = n /\\ n + 0 = n.
        Proof.
        Admitted.
        """))
    db = ProofDB(tmp_path / "proofs.db")
    cfg = SearchConfig(max_expansions=3, tactic_timeout=5)
    run_search([p], db, backend="coq", spec=PolicySpec(sources=("menu",)), cfg=cfg, workers=1, progress=False)
    rows = {r["tactic"]: r for r in db.tactic_stats()}
    # the menu's first candidates at the root: reflexivity fails, lia closes both goals
    assert {t: (r["tries"], r["ok"], r["timeouts"]) for t, r in rows.items()} == {"lia.": (1, 1, 0),
                                                                               "reflexivity.": (1, 0, 0)}
    model = load_costs(str(db.path), "coq", cfg)
    assert model.stats.keys() == rows.keys() and model.words == frozenset(COQ)
    db.close()


def test_tactics_that_never_succeed_at_a_depth_class_are_pruned_there():
    rows = [{"tactic": "nra", "deep": 1, "tries": 300, "ok": 0},     # never below the root
            {"tactic": "nra", "deep": 0, "tries": 300, "ok": 4},     # sometimes at the root
            {"tactic": "auto", "deep": 0, "tries": 20, "ok": 0}]     # too few tries to judge
    model = CostModel(COQ, depth_rows=rows, prune_after=100)
    assert [c.tactic for c, _ in model.plan(cands("nra", "auto"), depth=0, limit=1.0)] == ["auto", "nra"]
    assert [c.tactic for c, _ in model.plan(cands("nra", "auto"), depth=2, limit=1.0)] == ["auto"]
    assert model.pruned == 1
    off = CostModel(COQ, depth_rows=rows, prune_after=0)
    assert len(off.plan(cands("nra", "auto"), depth=2, limit=1.0)) == 2


def test_pruning_learns_from_training_trees_only_on_real_coq(coq_available, tmp_path):
    p = parse_file(write(tmp_path / "p" / "z.v", """
        Theorem z (n : nat) : n + 0 = n.
        Proof.
        Admitted.
        """))
    db = ProofDB(tmp_path / "proofs.db")
    cfg = SearchConfig(max_expansions=2, tactic_timeout=5, prune_after=1, failure_cache=False)
    spec = PolicySpec(sources=("menu",), options={"menu": {"tactics": ["discriminate", "lia"]}})
    for label in ("eval", "menu-baseline", "eval:menu:menu"):  # the loop's evaluations and `prover eval`'s
        run_search([p], db, backend="coq", spec=spec, cfg=cfg, workers=1, progress=False, label=label)
    assert not db.tactic_depth_stats()                         # an evaluation search teaches nothing
    assert not db.tactic_stats()                               # nor sets a time limit or the order
    run_search([p], db, backend="coq", spec=spec, cfg=cfg, workers=1, progress=False, label="menu")
    rows = {(r["tactic"], r["deep"]): r for r in db.tactic_depth_stats()}
    assert rows[("discriminate.", 0)]["ok"] == 0 and rows[("lia.", 0)]["ok"] == 1
    model = load_costs(str(db.path), "coq", cfg)
    assert ("discriminate.", False) in model.dead and ("lia.", False) not in model.dead
    res = run_search([p], db, backend="coq", spec=spec, cfg=cfg, workers=1, progress=False, label="menu", round=1)
    last = db.attempts_of(["menu"], round=1)[-1]
    _, _, edges = db.tree_rows(last["id"])
    assert res.proved == 1 and [e["tactic"] for e in edges] == ["lia."]   # discriminate was not tried again
    db.close()


def test_search_switches_on_the_command_line():
    import argparse

    from prover.cli import search as cli_search
    from prover.cli.search import spec_and_config
    parser = argparse.ArgumentParser()
    cli_search.register(parser.add_subparsers(dest="command"))
    base = ["search", "--db", "x.db", "--policy", "menu"]
    _, cfg = spec_and_config(parser.parse_args(base))
    assert cfg.prune_after == 100 and cfg.cost_order and cfg.failure_cache
    _, cfg = spec_and_config(parser.parse_args(base + ["--prune-after", "0", "--no-cost-order", "--no-failure-cache"]))
    assert cfg.prune_after == 0 and not cfg.cost_order and not cfg.failure_cache
