"""The candidate budget (tries per expansion) and the learned ranker, on real Coq and a real
proof database: the ranker learns from every tried edge, never from an evaluation tree."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from coq_env.problems import parse_file
from prover.db import ProofDB
from prover.env import Goal, Hyp, State
from prover.policy import MenuPolicy, PolicySpec, build_policy
from prover.policy.ranker import (RankedPolicy, Ranker, RankerError, examples, label, load_ranked, recall_at,
                                  train)
from prover.search import BestFirstSearch, SearchConfig
from tests.conftest import write

MENU = ["reflexivity", "intros; lia", "intros; lra", "intros; nra", "intros", "ring", "auto"]
# the training searches try the wrong decision procedure first, so the trees show both outcomes
FIRST = {"real": MENU, "nat": ["reflexivity", "intros; lra", "intros; lia", "intros; nra", "intros", "ring", "auto"]}

REAL = """Require Import Reals.
Open Scope R_scope.
Theorem {name} (x y : R) : x + y = {s} -> x - y = {d} -> x = {x}.
Proof.
Admitted.
"""
NAT = """Require Import Arith.
Theorem {name} (a b : nat) : a + b = {s} -> a = b + {d} -> a = {x}.
Proof.
Admitted.
"""


def _problems(tmp_path, kind: str, n: int, split: str):
    out = []
    for i in range(n):
        s, d = 10 + 2 * i, 2 + 2 * (i % 3)
        name = f"{kind}_{split}_{i}"
        text = (REAL if kind == "real" else NAT).format(name=name, s=s, d=d, x=(s + d) // 2)
        out.append(parse_file(write(tmp_path / split / f"{name}.v", text)))
    return out


@pytest.fixture(scope="module")
def trained_db(tmp_path_factory, coq_available):
    """A real database: the menu's trees on 5 real and 5 nat problems (training), and the same
    search on 2 'test' problems under the evaluation label."""
    from coq_env.env import CoqEnv
    tmp = tmp_path_factory.mktemp("ranker")
    train_ps = _problems(tmp, "real", 5, "train") + _problems(tmp, "nat", 5, "train")
    test_ps = _problems(tmp, "real", 2, "test")
    db = ProofDB(tmp / "proofs.db")
    db.add_problems(train_ps + test_ps)
    run = db.start_run({"test": True})
    env = CoqEnv(timeout=5)
    try:
        for p in train_ps:
            menu = FIRST["real" if p.name.startswith("real") else "nat"]
            res = BestFirstSearch(env, MenuPolicy("coq", menu), SearchConfig(max_expansions=2, tactic_timeout=5,
                                                                             failure_cache=False)).run(p)
            db.record_attempt(res, run, 0, "menu", {"expansions": 2}, None)
        for p in test_ps:
            res = BestFirstSearch(env, MenuPolicy("coq", MENU), SearchConfig(max_expansions=2, tactic_timeout=5,
                                                                             failure_cache=False)).run(p)
            db.record_attempt(res, run, 0, "eval", {"expansions": 2}, None)
        # a training-labelled tree of an evaluation problem: the loop denies these by key
        res = BestFirstSearch(env, MenuPolicy("coq", MENU), SearchConfig(max_expansions=1, tactic_timeout=5,
                                                                         failure_cache=False)).run(test_ps[0])
        db.record_attempt(res, run, 0, "model", {"expansions": 1}, None)
    finally:
        env.close()
    return db, {p.key for p in test_ps}, tmp


def test_labels_grade_the_outcomes():
    assert label("proved", None) == 3 and label("new", "proved") == 2 and label("new", "open") == 1
    assert label("error", None) == label("timeout", None) == label("dup", "proved") == 0


def test_the_firewall_keeps_evaluation_trees_out(trained_db):
    db, test_keys, _ = trained_db
    groups = examples(db, deny=test_keys)
    assert groups and {g["problem"] for g in groups}.isdisjoint(test_keys)
    # without the deny list the training-labelled tree of a test problem would come in; the
    # eval-labelled ones never do
    leaky = examples(db, deny=())
    assert {g["problem"] for g in leaky} & test_keys
    eval_attempts = {a["id"] for a in db.attempts_of(["eval"])}
    assert all(g["key"][0] not in eval_attempts for g in db.ranker_edges(()))
    # every example is something the prover answered (no cached, no refused edge)
    tried = sum(len(g["items"]) for g in groups)
    assert tried == sum(len(g["edges"]) for g in db.ranker_edges(test_keys)
                        if any(o in ("proved", "new") for _, _, o, _ in g["edges"]))


def test_the_ranker_learns_what_closes_a_goal(trained_db, tmp_path):
    db, test_keys, _ = trained_db
    groups = examples(db, deny=test_keys)
    ranker = train(groups, rounds=60, heldout=0.0, min_leaf=3)
    real = State((Goal((Hyp(("x", "y"), "R"),), "x + y = 30 -> x - y = 4 -> x = 17"),))
    nat = State((Goal((Hyp(("a", "b"), "nat"),), "a + b = 30 -> a = b + 4 -> a = 17"),))
    tactics = [t + "." for t in MENU]
    for state, good, bad in ((real, "intros; lra.", ("intros; lia.", "reflexivity.", "ring.")),
                             (nat, "intros; lia.", ("intros; lra.", "reflexivity.", "ring."))):
        scores = dict(zip(tactics, ranker.scores(state.goals, 0, tactics, ["menu"] * len(tactics))))
        assert all(scores[good] > scores[b] for b in bad), scores
    # saved and loaded, it scores the same
    path = ranker.save(tmp_path / "ranker.json")
    again = Ranker.load(path)
    assert again.scores(real.goals, 0, tactics, ["menu"] * 7) == ranker.scores(real.goals, 0, tactics, ["menu"] * 7)
    # its recall of the proof-path candidate beats the sources' order on its own training nodes
    assert recall_at(groups, ranker.group_scores)["recall@1"] >= 0.9


def test_a_ranked_policy_orders_candidates_and_keeps_their_sources(trained_db, tmp_path):
    db, test_keys, _ = trained_db
    path = train(examples(db, deny=test_keys), rounds=60, heldout=0.0, min_leaf=3).save(tmp_path / "r.json")
    spec = PolicySpec(sources=("menu", "templates"), ranker=str(path))
    policy = build_policy(spec, "coq")
    assert isinstance(policy, RankedPolicy) and policy.mode == "learned"
    state = State((Goal((Hyp(("x", "y"), "R"), Hyp(("H",), "x + y = 4")), "x = 4 - y"),))
    [cands] = policy.propose([state])
    fixed = build_policy(PolicySpec(sources=("menu", "templates")), "coq").propose([state])[0]
    assert sorted(c.tactic for c in cands) == sorted(c.tactic for c in fixed)
    assert [c.tactic for c in cands] != [c.tactic for c in fixed]
    assert {c.source for c in cands} == {"menu", "templates"}
    assert [c.logprob for c in cands] == sorted((c.logprob for c in cands), reverse=True)
    # random: seeded, so the same order every time, and another order than the fixed one
    rnd = build_policy(PolicySpec(sources=("menu", "templates"), ranker="random"), "coq")
    assert [c.tactic for c in rnd.propose([state])[0]] == [c.tactic for c in rnd.propose([state])[0]]
    assert [c.tactic for c in rnd.propose([state])[0]] != [c.tactic for c in fixed]


@pytest.mark.parametrize("content", [None, "not json", json.dumps({"version": 0, "model": ""})])
def test_a_missing_or_stale_ranker_is_one_line_and_the_fixed_order(tmp_path, capsys, content):
    path = tmp_path / "ranker.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(RankerError):
        Ranker.load(path)
    inner = MenuPolicy("coq", MENU)
    policy = load_ranked(inner, str(path))
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(path) in err[0] and "fixed order" in err[0]
    state = State((Goal((Hyp(("x",), "R"),), "x = x"),))
    assert policy.propose([state]) == inner.propose([state])


def test_tries_cap_the_prover_calls_per_expansion(env, tmp_path):
    p = parse_file(write(tmp_path / "t" / "deep.v", """
        Require Import Reals.
        Open Scope R_scope.
        Theorem deep (x : R) (n : nat) : x + 0 = x /\\ (n + 0 = n)%nat.
        Proof.
        Admitted.
        """))
    policy = MenuPolicy("coq", ["reflexivity", "ring", "auto", "lia", "split", "lra", "intros"])
    res = BestFirstSearch(env, policy, SearchConfig(max_expansions=6, tactic_timeout=5, tries=2,
                                                    cost_order=False)).run(p)
    per_node: dict[str, int] = {}
    for e in res.edges:
        per_node[e.src] = per_node.get(e.src, 0) + (not e.message.startswith("[cached]"))
    assert per_node and max(per_node.values()) <= 2
    assert res.tries == sum(per_node.values()) <= 2 * res.expansions
    root = [e.tactic for e in res.edges if e.src == res.root]
    assert root == ["reflexivity.", "ring."]  # the policy's first two, nothing else
    # with every candidate, the root tries all seven
    full = BestFirstSearch(env, policy, SearchConfig(max_expansions=1, tactic_timeout=5, cost_order=False)).run(p)
    assert len([e for e in full.edges if e.src == full.root]) == 7 and full.tries == 7


def test_widening_with_tries_applies_what_the_budget_left_untried(env, tmp_path):
    """A root whose first N candidates all fail is a dead tree with budget left; with ``widen``
    the search expands it again with the next N of its own candidates, in the policy's order."""
    p = parse_file(write(tmp_path / "w" / "w.v", """
        Require Import Arith.
        Theorem w (n : nat) : n + 0 = n.
        Proof.
        Admitted.
        """))
    policy = MenuPolicy("coq", ["lra", "field", "nra", "fail", "idtac 1; fail", "lia"])
    cfg = dict(max_expansions=4, tactic_timeout=5, tries=2, cost_order=False)
    dead = BestFirstSearch(env, policy, SearchConfig(**cfg)).run(p)
    assert dead.outcome == "failed" and dead.expansions == 1 and dead.tries == 2
    res = BestFirstSearch(env, policy, SearchConfig(**cfg, widen=16, widen_times=3)).run(p)
    assert res.outcome == "proved" and res.proof == ["lia."]
    assert res.widened == 2 and res.expansions == 3 and res.tries == 6  # 2 + 2 + 2: never more than N at once
    assert [e.tactic for e in res.edges] == ["lra.", "field.", "nra.", "fail.", "idtac 1; fail.", "lia."]
    # widen_times bounds it: one re-expansion is not enough to reach lia
    short = BestFirstSearch(env, policy, SearchConfig(**cfg, widen=16, widen_times=1)).run(p)
    assert short.outcome == "failed" and short.tries == 4


def test_a_failure_answered_by_the_cache_costs_no_try(env, tmp_path):
    from prover.search.failure_cache import FailureCache
    p = parse_file(write(tmp_path / "c" / "c.v", """
        Require Import Arith.
        Theorem c (n : nat) : n + 0 = n.
        Proof.
        Admitted.
        """))
    policy = MenuPolicy("coq", ["reflexivity", "ring", "lia"])
    cache = FailureCache()
    first = BestFirstSearch(env, policy, SearchConfig(max_expansions=1, tactic_timeout=5, tries=1,
                                                      cost_order=False), failures=cache).run(p)
    assert first.tries == 1 and first.outcome != "proved"  # reflexivity fails, nothing else tried
    again = BestFirstSearch(env, policy, SearchConfig(max_expansions=1, tactic_timeout=5, tries=1,
                                                      cost_order=False), failures=cache).run(p)
    assert again.cache_hits == 1 and again.tries == 1
    assert [e.tactic for e in again.edges] == ["reflexivity.", "ring."]


def test_rank_cli_trains_and_search_uses_it(trained_db, tmp_path):
    db, _, _ = trained_db
    out = tmp_path / "r.json"
    r = subprocess.run([sys.executable, "-m", "prover", "rank", "train", "--db", str(db.path), "--out", str(out),
                        "--rounds", "20", "--deny-split", "test"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert out.exists() and "ranker trained on" in r.stdout
    bad = subprocess.run([sys.executable, "-m", "prover", "rank", "train", "--db", str(tmp_path / "none.db"),
                          "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_search_cli_with_sources_tries_and_a_random_order(problem_dir, tmp_path, coq_available):
    db = tmp_path / "s.db"
    r = subprocess.run([sys.executable, "-m", "prover", "search", "--problems", str(problem_dir), "--db", str(db),
                        "--policy", "menu+hyps", "--with", "hints", "--with", "witnesses", "--tries", "4",
                        "--ranker", "random", "--expansions", "3", "--timeout", "60", "--workers", "1"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    with ProofDB(db, create=False) as d:
        attempts = d.attempts_of()
        assert attempts and all(a["tries"] <= 4 * a["expansions"] for a in attempts)
        # one expansion each, 4 tries at most: the third candidate (random order, seeded) closes two
        assert sorted((a["problem"], a["expansions"], a["tries"]) for a in attempts) == \
            [("add_zero", 1, 3), ("real_lin", 1, 1), ("two_goals", 1, 3)]
        sources = {row["source"] for row in d.query("select distinct source from edges")}
    assert sources <= {"menu", "templates", "hints", "witnesses"} and "menu" in sources
    bad = subprocess.run([sys.executable, "-m", "prover", "search", "--problems", str(problem_dir), "--db", str(db),
                          "--with", "nonsense"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "nonsense" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_a_ranker_of_another_feature_version_is_stale(trained_db, tmp_path, capsys):
    from prover.policy.ranker import VERSION
    db, test_keys, _ = trained_db
    path = train(examples(db, deny=test_keys), rounds=5, heldout=0.0, min_leaf=3).save(tmp_path / "r.json")
    Ranker.load(path)  # loads as saved
    d = json.loads(path.read_text())
    d["version"] = VERSION + 1
    path.write_text(json.dumps(d))
    with pytest.raises(RankerError, match="stale"):
        Ranker.load(path)
    policy = load_ranked(MenuPolicy("coq", MENU), str(path))
    assert policy.mode == "fixed" and "stale" in capsys.readouterr().err


def test_menu_tries_keep_a_share_of_the_budget_for_the_menu(env, tmp_path):
    """With ``menu_tries`` M of ``tries`` N, the menu's best M candidates are applied even when
    the policy ranks N others above them; they take the places of the lowest-ranked others."""
    from prover.policy.base import Candidate
    p = parse_file(write(tmp_path / "m" / "m.v", """
        Require Import Arith.
        Theorem m (n : nat) : n + 0 = n.
        Proof.
        Admitted.
        """))

    class Ordered:  # the order a learned ranker might give: four instantiated tactics, then the menu
        name, default_k = "ordered", None

        def propose(self, states, k=None):
            tactics = [("idtac 1; fail", "hints"), ("idtac 2; fail", "cases"), ("idtac 3; fail", "hints"),
                       ("idtac 4; fail", "witnesses"), ("reflexivity", "menu"), ("lia", "menu"), ("auto", "menu")]
            return [[Candidate(t + ".", -i, s) for i, (t, s) in enumerate(tactics)] for _ in states]

    cfg = dict(max_expansions=1, tactic_timeout=5, tries=3, cost_order=False)
    plain = BestFirstSearch(env, Ordered(), SearchConfig(**cfg)).run(p)
    assert plain.outcome == "failed" and [e.tactic for e in plain.edges] == \
        ["idtac 1; fail.", "idtac 2; fail.", "idtac 3; fail."]
    kept = BestFirstSearch(env, Ordered(), SearchConfig(**cfg, menu_tries=2)).run(p)
    assert [e.tactic for e in kept.edges] == ["idtac 1; fail.", "reflexivity.", "lia."] and kept.tries == 3
    assert kept.outcome == "proved" and kept.proof == ["lia."]
    with pytest.raises(ValueError, match="menu_tries must be between 0 and tries"):
        SearchConfig(tries=2, menu_tries=3)


def test_a_source_the_ranker_never_saw_gets_a_try_near_the_top(trained_db, tmp_path):
    """The ranker was trained on the menu's trees only: a templates candidate is ranked blind,
    so the best one of that source is tried third, with the third place's score."""
    db, test_keys, _ = trained_db
    ranker = train(examples(db, deny=test_keys), rounds=60, heldout=0.0, min_leaf=3)
    assert set(ranker.meta["sources"]) == {"menu"}
    path = ranker.save(tmp_path / "r.json")
    state = State((Goal((Hyp(("x", "y"), "R"), Hyp(("H",), "x + y = 4")), "x = 4 - y"),))
    policy = build_policy(PolicySpec(sources=("menu", "templates"), ranker=str(path)), "coq")
    [cands] = policy.propose([state])
    fixed = build_policy(PolicySpec(sources=("menu", "templates")), "coq").propose([state])[0]
    first_template = next(c.tactic for c in fixed if c.source == "templates")
    assert cands[2].tactic == first_template and cands[2].source == "templates"
    assert [c.logprob for c in cands] == sorted((c.logprob for c in cands), reverse=True)
    # a ranker that has seen both sources ranks them all by its own scores
    ranker.meta["sources"] = {"menu": 1, "templates": 1}
    both = RankedPolicy(policy.inner, "learned", ranker).propose([state])[0]
    scores = ranker.scores(state.goals, 0, [c.tactic for c in fixed], [c.source for c in fixed])
    by_score = [t for _, _, t in sorted(zip(scores, range(len(fixed)), [c.tactic for c in fixed]),
                                       key=lambda x: (-x[0], x[1]))]
    assert [c.tactic for c in both] == by_score
    assert by_score.index(first_template) != 2  # so the exploration above moved it
