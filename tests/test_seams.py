"""The extension points: policies as data (specs, sources, one k), the node-scorer slot, one
worker pool per run with the budget in each job item, and the database's own queries."""
from __future__ import annotations


import pytest

from prover.env import Goal, Hyp, State
from prover.policy import MenuPolicy, PolicySpec, build_policy, model_spec
from prover.policy.sources import SOURCES, make_source
from prover.search import BestFirstSearch, Node, SearchConfig
from tests.conftest import write

RICH = State((Goal((Hyp(("f",), "nat -> nat"), Hyp(("H",), "forall x : nat, f x = x")), "f 2 = 2"),))


def test_named_specs_and_labels():
    assert PolicySpec.named("menu").label == "menu"
    assert PolicySpec.named("menu+hyps").label == "menu+hyps"
    assert PolicySpec.named("model").label == "model"
    spec = model_spec("m", {"k": 3, "mode": "beam", "sources": ["menu", "templates"]})
    assert spec.label == "model+menu+hyps" and spec.k == 3 and spec.decode == {"mode": "beam"}
    # the shorthands of older presets mean the same sources
    assert model_spec("m", {"menu": True, "templates": True}).sources == ("menu", "templates")
    assert PolicySpec.from_dict(spec.as_dict()) == spec
    for bad in ({"sources": ("menu", "oracle")}, {"scorer": "vibes"}, {"generator": "gpt"},
                {"sources": (), "generator": None}, {"decode": {"beams": 3}}):
        with pytest.raises(ValueError):
            PolicySpec(**bad)
    with pytest.raises(ValueError, match="unknown policy"):
        PolicySpec.named("oracle")


def test_fixed_spec_builds_the_menu_policy_in_the_same_order():
    built = build_policy(PolicySpec.named("menu+hyps"), "coq")
    ref = MenuPolicy("coq", templates=True)
    assert built.name == "menu+hyps"
    assert [(c.tactic, c.logprob) for c in built.propose([RICH])[0]] == \
        [(c.tactic, c.logprob) for c in ref.propose([RICH])[0]]
    # k without a generator caps the candidates
    capped = build_policy(PolicySpec(sources=("menu", "templates"), k=5), "coq")
    assert len(capped.propose([RICH])[0]) == 5


def test_a_model_spec_without_a_model_is_one_line():
    from prover.model import ModelError
    with pytest.raises(ModelError, match="needs a model"):
        build_policy(PolicySpec.named("model"), "coq")


def test_a_new_candidate_source_is_one_class_and_one_registry_line(monkeypatch):
    class Echo:
        name, tag, static = "echo", "echo", False

        def __init__(self, backend):
            self.backend = backend

        def candidates(self, state):
            return [f"exact {h.names[0]}." for h in state.goals[0].hyps] if state else []

    import sys
    import types
    mod = types.ModuleType("echo_source")
    mod.Echo = Echo
    monkeypatch.setitem(sys.modules, "echo_source", mod)
    monkeypatch.setitem(SOURCES, "echo", "echo_source:Echo")
    spec = PolicySpec(sources=("menu", "echo"))
    assert spec.label == "menu+echo"
    tactics = [c.tactic for c in build_policy(spec, "coq").propose([RICH])[0]]
    assert tactics[-2:] == ["exact f.", "exact H."] and "lia." in tactics
    assert make_source("echo", "coq").backend.name == "coq"


def test_priority_adds_the_weighted_value():
    search = BestFirstSearch(None, None, SearchConfig(value_weight=0.5))
    assert search.priority(Node("a", "", 2, -3.0)) == -3.0          # no value: today's priority
    assert search.priority(Node("a", "", 2, -3.0, value=-4.0)) == -5.0
    normed = BestFirstSearch(None, None, SearchConfig(length_norm=True, value_weight=2.0))
    assert normed.priority(Node("a", "", 2, -3.0, value=1.0)) == pytest.approx(0.5)


def test_unknown_node_scorer_is_refused():
    from prover.search.scorers import make_scorer
    with pytest.raises(ValueError, match="unknown node scorer"):
        make_scorer("oracle")


def test_node_scorer_values_every_new_node_and_steers_the_order(env, tmp_path):
    """On a real coqtop: with the fewer-goals scorer every node gets its value; a scorer that
    prefers the opposite changes which child is expanded first."""
    from coq_env.problems import parse_file
    problem = parse_file(write(tmp_path / "p" / "two.v", """
        Theorem two (P Q : Prop) (p : P) (q : Q) : P /\\ Q.
        Proof.
        Admitted.
        """))
    policy = MenuPolicy("coq", ["split", "exact p", "exact q", "idtac"])
    res = BestFirstSearch(env, policy, SearchConfig(max_expansions=6, node_scorer="fewer_goals")).run(problem)
    assert res.outcome == "proved"
    for n in res.nodes.values():
        if n.id != res.root:
            assert n.value == -float(n.goals.count("\n\n") + 1 if n.goals != "no goals" else 0)

    # two children of the root: `split` (two goals, the menu's first choice) and `assert`
    # (one goal); with budget 2 the second expansion shows which one the frontier preferred
    two = MenuPolicy("coq", ["split", "assert (r : P) by exact p"])

    def second(cfg):
        res = BestFirstSearch(env, two, cfg).run(problem)
        [child] = [n for n in res.nodes.values() if n.id != res.root and n.expanded]
        return child.goals.count("\n\n") + 1

    assert second(SearchConfig(max_expansions=2)) == 2
    assert second(SearchConfig(max_expansions=2, node_scorer="fewer_goals", value_weight=10.0)) == 1


def test_one_pool_per_run_and_the_budget_travels_with_each_item(tmp_path, problem_dir, coq_available,
                                                                 monkeypatch):
    from prover import engines
    from prover.db import ProofDB
    from prover.backends import load_problems
    from prover.search.runner import run_search
    made = []
    real = engines.make_pool

    def counting(engine, workers, init, init_args=()):
        made.append(engine)
        return real(engine, workers, init, init_args)

    monkeypatch.setattr(engines, "make_pool", counting)
    problems = load_problems("coq", problem_dir)
    budgets = {p.key: i + 1 for i, p in enumerate(problems)}
    with ProofDB(tmp_path / "p.db") as db:
        s = run_search(problems, db, backend="coq", spec=PolicySpec.named("menu"), cfg=SearchConfig(tactic_timeout=5),
                       workers=1, budgets=budgets, progress=False)
        rows = db.query("select problem, budget, expansions from attempts")
    assert made == ["local"] and s.attempted == len(problems)
    for r in rows:
        assert r["budget"]["max_expansions"] == budgets[r["problem"]]
        assert r["expansions"] <= budgets[r["problem"]]


def test_database_owns_its_queries(tmp_path):
    from prover.check import Verdict
    from prover.db import ProofDB
    from prover.problems import Problem
    from prover.search.tree import SearchResult
    p = Problem("a", "valid", "coq", "", "Theorem a : True.")
    with ProofDB(tmp_path / "q.db") as db:
        db.add_problems([p])
        run = db.start_run({})
        long = SearchResult(p.key, "proved", ["intros.", "auto."], 2, 0.1, steps=[("g", "intros."), ("h", "auto.")])
        short = SearchResult(p.key, "proved", ["auto."], 1, 0.1, steps=[("g", "auto.")])
        db.record_attempt(long, run, 0, "menu", {"max_expansions": 2}, Verdict(True))
        db.record_attempt(short, run, 1, "model", {"max_expansions": 4}, Verdict(True))
        db.record_attempt(SearchResult(p.key, "failed", None, 1, 0.1), run, 1, "eval", {"max_expansions": 1}, None)
        assert db.accepted_problems() == {p.key}
        assert db.accepted_problems("model", 1) == {p.key} and db.accepted_problems("model", 0) == set()
        assert [r["length"] for r in db.training_proofs()] == [1, 2]
        assert [r["outcome"] for r in db.attempt_history(["menu", "eval"])] == ["proved", "failed"]
        assert db.shortest_lengths() == {p.key: 1}


def test_bad_scorer_or_search_key_in_a_config_is_one_line(tmp_path):
    import json

    from prover.loop.config import ConfigError, IterateConfig
    for search, why in (({"node_scorer": "oracle"}, "unknown node scorer"),
                        ({"k": 8}, "decode.k"), ({"bogus": 1}, "unknown search keys")):
        f = tmp_path / "c.json"
        f.write_text(json.dumps({"search": search}))
        with pytest.raises(ConfigError, match=why) as e:
            IterateConfig.load(f)
        assert "\n" not in str(e.value) and "c.json" in str(e.value)


def test_search_cli_refuses_an_unknown_node_scorer_in_one_line(problem_dir, tmp_path, capsys):
    from prover.cli import main
    assert main(["search", "--problems", str(problem_dir), "--db", str(tmp_path / "d.db"),
                 "--node-scorer", "oracle"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown node scorer") and err.count("\n") == 1


def test_value_trains_on_a_real_database_and_orders_proved_above_failed(tmp_path, problem_dir, coq_available):
    """Trees of real searches label states; the trained value scores a proved state above a
    failed one, and `--node-scorer value` runs a search with it."""
    from prover.cli import main
    from prover.db import ProofDB
    from prover.search.value import ValueModel, labelled_nodes, train_value
    db_path = tmp_path / "v.db"
    write(problem_dir / "wrong.v", """
        Require Import Arith.
        Theorem wrong (n : nat) (h : n = 1) : n = 2.
        Proof.
        Admitted.
        """)
    assert main(["search", "--problems", str(problem_dir), "--db", str(db_path), "--workers", "1",
                 "--expansions", "4", "--policy", "menu+hyps", "--timeout", "5"]) == 0
    with ProofDB(db_path, create=False) as db:
        texts, labels = labelled_nodes(db, set())
    assert 0 < sum(labels) < len(labels)
    with ProofDB(db_path, create=False) as db:
        wide, wide_labels = labelled_nodes(db, set(), open_unsolved=True)
    assert set(texts) <= set(wide) and sum(wide_labels) == sum(labels)  # open nodes of unsolved trees: failed
    assert len(wide) > len(texts)
    model = train_value(texts, labels)
    proved = [t for t, y in zip(texts, labels) if y][0]
    failed = [t for t, y in zip(texts, labels) if not y][0]
    lp = model.log_proved([proved, failed])
    assert lp[0] > lp[1] and all(x <= 0 for x in lp)
    out = tmp_path / "value.npz"
    assert main(["value", "--db", str(db_path), "--out", str(out), "--deny-split", "test"]) == 0
    assert ValueModel.load(out).meta["examples"] == len(texts)
    assert main(["search", "--problems", str(problem_dir), "--db", str(tmp_path / "w.db"), "--workers", "1",
                 "--expansions", "2", "--node-scorer", "value", "--value-model", str(out)]) == 0
    with ProofDB(tmp_path / "w.db", create=False) as db:
        valued = db.query("select count(*) as n from nodes where value is not null")[0]["n"]
        children = db.query("select count(*) as n from nodes where parent is not null")[0]["n"]
        assert valued == children == 1  # every node the search queued is valued (roots are not): one here
    assert main(["search", "--problems", str(problem_dir), "--db", str(tmp_path / "x.db"),
                 "--node-scorer", "value"]) == 2  # no model: one line
