"""Batched proposals across the open frontier (``SearchConfig.batch_states``): an expansion also
asks the policy for the best unexpanded frontier nodes, in one call, and keeps their candidates
until they are expanded. On real Coq: the same search (outcome, proof, every node's edges) as one
state per call, fewer and wider policy calls, never wider than ``batch_states``, no state asked
twice; and the tactic model's beam gives each state the same candidates in a batch as alone."""
from __future__ import annotations

import pytest

from coq_env.problems import parse_file
from prover.policy import MenuPolicy
from prover.policy.ranker import RankedPolicy
from prover.search import BestFirstSearch, SearchConfig
from tests.conftest import write
from tests.test_model import data, tiny_cfg, trained  # noqa: F401  (fixtures: the tiny trained model)

MENU = ["intro", "intros", "rewrite Nat.add_0_r", "rewrite Rplus_0_r", "split", "lia", "lra"]


@pytest.fixture(scope="module")
def coq(coq_available):
    from coq_env.env import CoqEnv
    e = CoqEnv(timeout=10)
    yield e
    e.close()


@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    # many menu tactics succeed at many states (intro/intros, either rewrite, split): a wide
    # frontier; the proof needs intros, split, lra for the real goal and lia for the nat one
    return parse_file(write(tmp_path_factory.mktemp("p") / "wide.v", """
        Require Import Reals Arith.
        Open Scope R_scope.
        Theorem wide : forall (x : R) (n : nat), x + 0 = x /\\ (n + 0 = n)%nat.
        Proof.
        Admitted.
        """))


class Recording:
    """Forwards to ``inner`` and records each call's states (ids) and depths. With ``by_depth``
    it asks the search for the nodes' depths (``ranks_by_depth``), as the learned ranker does."""

    def __init__(self, inner, by_depth: bool = False):
        self.inner, self.ranks_by_depth = inner, by_depth
        self.name, self.default_k = inner.name, inner.default_k
        self.calls: list[list[str]] = []
        self.depths: list[tuple[str, int]] = []

    def propose(self, states, k=None, **kw):
        assert bool(kw) == self.ranks_by_depth
        if self.ranks_by_depth:
            assert set(kw) == {"depths"} and len(kw["depths"]) == len(states)
            self.depths.extend(zip((s.id for s in states), kw["depths"]))
        self.calls.append([s.id for s in states])
        return self.inner.propose(states, k)


def policy(by_depth=False):
    # the random ranking: a deterministic, state-dependent order and scores (a hash of the state
    # and the tactic), so a node given another node's candidates would show in its edges
    return Recording(RankedPolicy(MenuPolicy("coq", MENU), "random", seed=0), by_depth)


def search(coq, problem, batch_states, by_depth=False):
    pol = policy(by_depth)
    cfg = SearchConfig(max_expansions=30, tactic_timeout=60, batch_states=batch_states)
    return BestFirstSearch(coq, pol, cfg).run(problem), pol


def edges_by_node(res):
    out: dict[str, list] = {}
    for e in res.edges:
        out.setdefault(e.src, []).append((e.tactic, e.logprob, e.outcome, e.dst, e.message))
    return out


@pytest.mark.parametrize("by_depth", [False, True], ids=["plain", "depths"])
@pytest.mark.parametrize("batch", [2, 4])
def test_a_batched_search_is_the_same_search_in_fewer_wider_calls(coq, wide, batch, by_depth):
    one, pol1 = search(coq, wide, 1, by_depth)
    many, poln = search(coq, wide, batch, by_depth)
    assert one.outcome == "proved" and one.expansions >= 4  # several expansions: a frontier to batch
    # the same search: outcome, proof, the tree, and at every node the same edges in the same order
    assert (many.outcome, many.proof, many.steps, many.expansions) == (one.outcome, one.proof, one.steps,
                                                                       one.expansions)
    assert [(n.id, n.depth, n.score, n.status, n.expanded) for n in many.nodes.values()] == \
        [(n.id, n.depth, n.score, n.status, n.expanded) for n in one.nodes.values()]
    assert edges_by_node(many) == edges_by_node(one)
    assert [(e.src, e.tactic) for e in many.edges] == [(e.src, e.tactic) for e in one.edges]
    # in wider calls: at least one of several states, none over batch_states, fewer calls
    widths = [len(c) for c in poln.calls]
    assert max(widths) > 1 and max(widths) <= batch, widths
    assert len(poln.calls) < len(pol1.calls) == one.expansions
    # each state asked once: the node's own first, its candidates cached until it is expanded
    asked = [sid for c in poln.calls for sid in c]
    assert len(asked) == len(set(asked)), poln.calls
    assert set(edges_by_node(many)) <= set(asked)  # every expanded node's candidates came from a call
    assert all(c[0] not in {s for prev in poln.calls[:i] for s in prev} for i, c in enumerate(poln.calls))
    if by_depth:  # every state asked with its own node's depth
        assert poln.depths and all(many.nodes[sid].depth == d for sid, d in poln.depths)
        if batch == 2:  # (not vacuous: a call of nodes of different depths)
            assert any(len({many.nodes[sid].depth for sid in c}) > 1 for c in poln.calls)
        assert sorted(poln.depths) == sorted({(sid, many.nodes[sid].depth) for sid in asked})


def test_one_state_per_call_by_default(coq, wide):
    assert SearchConfig().batch_states == 1
    res, pol = search(coq, wide, 1)
    assert res.outcome == "proved" and len(pol.calls) == res.expansions > 1
    assert all(len(c) == 1 for c in pol.calls), pol.calls
    default = BestFirstSearch(coq, policy(), SearchConfig(max_expansions=30, tactic_timeout=60))
    res2 = default.run(wide)
    assert all(len(c) == 1 for c in default.policy.calls) and res2.proof == res.proof


def test_batch_states_below_one_is_one_line_naming_it():
    for bad in (0, -3):
        with pytest.raises(ValueError, match="batch_states") as e:
            SearchConfig(batch_states=bad)
        assert len(str(e.value).splitlines()) == 1 and str(bad) in str(e.value)


# ---- the tactic model: a batch of states gives each the candidates it gets alone --------------


def test_model_beam_gives_each_state_the_same_candidates_batched_as_alone(trained):
    """Beam decoding of 4 states of different prompt lengths in one call (left padding) gives every
    state the tactics of a call on it alone, in the same order, with log-probabilities within 1e-3:
    what makes ``batch_states`` leave a model-guided search unchanged."""
    from prover.env import Goal, Hyp, State
    from prover.policy.model import load_policy
    out, _ = trained
    pol = load_policy(out, k=4, mode="beam", max_new_tokens=12)
    states = [State((Goal((Hyp(("n",), "nat"),), "n + 0 = n"),)),
              State((Goal((), "forall x : nat, x + 3 = 3 + x"),)),
              State((Goal((Hyp(("P", "Q"), "Prop"), Hyp(("Hx",), "P"), Hyp(("Hy", "Hz"), "Q -> P /\\ Q")),
                          "P \\/ Q"),)),
              State((Goal((Hyp(("a", "b", "c"), "nat"), Hyp(("h",), "a = b + c")), "a - c = b"),
                     Goal((), "True")))]
    assert len({len(pol.tm.encode_prompt(s.text(), 1000)) for s in states}) == 4  # four widths: padding
    batched = pol.propose(states, 4)
    alone = [pol.propose([s], 4)[0] for s in states]
    assert all(len(a) == 4 for a in alone)  # k candidates each: nothing vacuous to compare
    for b, a in zip(batched, alone):
        assert [c.tactic for c in b] == [c.tactic for c in a]
        assert [c.logprob for c in b] == pytest.approx([c.logprob for c in a], abs=1e-3)


def test_a_sampling_model_policy_gives_the_same_search_batched(coq, wide, trained):
    """Sampling is per state (prover.policy.sampling), so with the tiny model sampling next to the
    menu a batched search expands the same nodes with the same edges as one state per call."""
    from prover.policy.menu import MenuSource
    from prover import backends
    from prover.policy.model import load_policy
    out, _ = trained
    runs = []
    for batch in (1, 4):
        pol = Recording(load_policy(out, k=3, mode="sample", max_new_tokens=10, seed=11,
                                    sources=[MenuSource(backends.get("coq"), MENU)]))
        res = BestFirstSearch(coq, pol, SearchConfig(max_expansions=12, tactic_timeout=60,
                                                     batch_states=batch)).run(wide)
        runs.append((res, pol))
    (one, _), (many, poln) = runs
    assert max(len(c) for c in poln.calls) > 1
    assert (many.outcome, many.proof, many.expansions) == (one.outcome, one.proof, one.expansions)
    a, b = edges_by_node(one), edges_by_node(many)
    assert a.keys() == b.keys()
    for sid in a:  # the same tactics in the same order; scores up to the padding's rounding
        assert [e[0] for e in a[sid]] == [e[0] for e in b[sid]]
        assert [e[1] for e in a[sid]] == pytest.approx([e[1] for e in b[sid]], abs=1e-3)
        assert [e[2:] for e in a[sid]] == [e[2:] for e in b[sid]]
