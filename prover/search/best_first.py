"""Best-first proof search over any backend of the environment protocol.

The frontier is a priority queue of open nodes ordered by the cumulative log-probability
of the path that first reached them (GPT-f, ReProver), or that sum divided by the path
length (``length_norm``: deep nodes are not starved), plus ``value_weight`` times the value a
node scorer gives the node (``prover.search.scorers``; default none: the log-probability
alone). Expanding a node asks the policy for k candidate tactics and applies each. Identical
goal states are one node (``State.id`` is a content hash), so the tree is a DAG. A state
equal to a node's up to a renaming of local names (``prover.env.renaming_key``;
``dedupe_renamed``) is no new node: its edge is a DUP without a destination, a dead end no
proof runs through (the tactics below the twin name the twin's hypotheses), which leaves its
source's fate open rather than failed. A node whose every child failed is FAILED, and so
on up; the search stops as soon as the root is PROVED and returns the shortest proof in
the tree. Budgets: expansions, wall-clock seconds, seconds per tactic.

Widening (``widen`` > 0, a policy with ``widen(state, page, tried)``): a tree whose every
candidate failed stops with budget left (a quarter of miniF2F test at 8 expansions), because
expanding a node asks once. Once no open node is left, the search spends what remains
expanding expanded nodes again: each once, best first, before any twice (``widen_times``),
each time with at most ``widen`` candidates it has not tried there (the model's fresh
samples; the retrieval and macro sources' next page). A widening counts as an expansion; a
node with nothing new to try is not widened again, and costs nothing. A
FAILED node that gets a live child is OPEN again, and so are the FAILED ancestors it keeps
alive. Until the tree dies the search is the same with or without widening. With a budget of
``tries`` per expansion, widening first applies the candidates the node's first expansion
offered and the budget left untried, in the policy's order (the ranker's), ``tries`` at a time,
then the sources' next page; a policy without ``widen`` gets this part alone.

Batched proposals (``batch_states`` > 1, for a policy that generates on a GPU): expanding a
node whose candidates are not cached yet asks the policy, in the same call, for the best
``batch_states - 1`` open, unexpanded frontier nodes without cached candidates too; their
candidates are kept per node until that node is expanded. Only when the policy is asked
changes: for a policy whose candidates for a state do not depend on the other states of the
call (beam decoding, the fixed sources) the search is the same whatever ``batch_states``.
Candidates of nodes never expanded (the proof found first, the budget spent) are wasted work.
"""
from __future__ import annotations

import heapq
import itertools
import time
from collections import deque
from dataclasses import asdict, dataclass

from prover.env import (EnvError, Environment, NewState, ProofFinished, State, TacticError, TacticTimeout,
                        renaming_key)
from prover.policy.base import Candidate
from prover.search.cost import CostModel, configured_timeout, cost_model
from prover.search.failure_cache import CACHED, Failure, FailureCache, failure_context, failure_key, failure_row
from prover.search.tree import Edge, EdgeOutcome, Node, SearchResult, Status

_DEAD = (EdgeOutcome.ERROR, EdgeOutcome.TIMEOUT, EdgeOutcome.REFUSED)
# The one default of the expansion budget: ``prover search``, ``prover eval``, the loop's
# evaluation (``eval_expansions``) and its first pool budget (``budget.base``) all read it.
EXPANSIONS = 8
RENAMED = "renamed copy of "  # the message of a DUP edge to a renamed copy of node ... (no dst)


@dataclass
class SearchConfig:
    max_expansions: int = EXPANSIONS  # nodes expanded per problem
    max_seconds: float = 300.0    # wall-clock per problem
    tactic_timeout: float = 5.0   # seconds per tactic
    length_norm: bool = False     # order by mean instead of total log-probability
    max_depth: int = 32
    node_scorer: str | None = None  # a node scorer of prover.search.scorers (None: none)
    value_weight: float = 1.0     # priority = path log-probability + value_weight * value
    scorer_options: dict | None = None  # the node scorer's options (value: {"path": model file})
    failure_cache: bool = True    # skip (goal, tactic) pairs that failed before (prover.search.failure_cache)
    cost_order: bool = True       # cheap tactics first, expensive ones where they pay (prover.search.cost)
    expensive_rank: int = 8       # ... an expensive candidate is tried when the policy ranks it this high
    expensive_depth: int = 1      # ... or at a node this shallow
    timeout_factor: float = 3.0   # a tactic's limit: this times its slowest measured success (0: off)
    tactic_timeouts: dict | None = None  # word -> seconds for tactics naming it (e.g. {"hammer": 5})
    prune_after: int = 100        # a tactic never successful in this many training tries at a depth class is dropped there (0: off)
    dedupe_renamed: bool = True   # a state equal to a node's up to local names is not a new node (prover.env.renaming_key)
    widen: int = 0                # once nothing is open, expand expanded nodes again with this many new candidates (0: off)
    widen_times: int = 2          # ... at most this many times per node
    tries: int = 0                # prover calls per expansion: the policy's top N untried candidates (0: all)
    menu_tries: int = 0           # ... of which this many are kept for the menu's best candidates (0: none kept)
    # states per policy call: when a node is expanded, the policy is also asked for up to
    # batch_states-1 of the best open, not-yet-expanded frontier nodes (those without cached
    # proposals), in one call, and those proposals are cached per node id until that node is
    # expanded (1: one state per call, as before)
    batch_states: int = 1

    def __post_init__(self):
        if self.node_scorer is not None:
            from prover.search.scorers import SCORERS
            if self.node_scorer not in SCORERS:
                raise ValueError(f"unknown node scorer {self.node_scorer!r} "
                                 f"(expected one of {', '.join(sorted(SCORERS))})")
        if self.tries < 0:
            raise ValueError(f"tries must be 0 (every candidate) or more (got {self.tries})")
        if self.menu_tries < 0 or self.menu_tries > max(self.tries, 0) and self.menu_tries:
            raise ValueError(f"menu_tries must be between 0 and tries ({self.tries}), not {self.menu_tries}")
        if self.batch_states < 1:
            raise ValueError(f"batch_states must be 1 (one state per policy call) or more (got {self.batch_states})")
        if self.widen < 0 or self.widen_times < 1:
            raise ValueError(f"widen must be 0 (off) or more and widen_times 1 or more "
                             f"(got widen {self.widen}, widen_times {self.widen_times})")

    def as_dict(self) -> dict:
        return asdict(self)


class BestFirstSearch:
    """``scorer`` (a node scorer, ``prover.search.scorers``) overrides ``config.node_scorer``;
    ``failures`` (a :class:`FailureCache`, shared by the searches of one worker) answers the
    (goal, tactic) pairs that failed before, when ``config.failure_cache`` is on (default: a
    cache of this search alone); ``costs`` (a :class:`CostModel` with the run's measured
    tactic times) orders and times each expansion's candidates when ``config.cost_order`` is
    on (default: the backend's list of expensive tactics, no measurements)."""

    def __init__(self, env: Environment, policy, config: SearchConfig | None = None, scorer=None,
                 failures: FailureCache | None = None, costs: CostModel | None = None):
        self.env, self.policy = env, policy
        self.cfg = config or SearchConfig()
        self.failures = (failures if failures is not None else FailureCache()) if self.cfg.failure_cache else None
        self.costs = costs
        if scorer is None and self.cfg.node_scorer:
            from prover.search.scorers import make_scorer
            scorer = make_scorer(self.cfg.node_scorer, **(getattr(self.cfg, "scorer_options", None) or {}))
        self.scorer = scorer

    def priority(self, node: Node) -> float:
        base = node.score / node.depth if self.cfg.length_norm and node.depth > 0 else node.score
        if node.value is not None:
            base += self.cfg.value_weight * node.value
        return base

    def _push_children(self, heap, tie, res, children: list[str], states) -> None:
        """Value the new children in one batch (when there is a node scorer), then queue them."""
        if self.scorer is not None and children:
            for sid, v in zip(children, self.scorer.values([states[sid] for sid in children])):
                res.nodes[sid].value = float(v)
        for sid in children:
            heapq.heappush(heap, (-self.priority(res.nodes[sid]), next(tie), sid))

    def run(self, problem) -> SearchResult:
        t0 = time.perf_counter()
        try:
            root = self.env.open(problem)
        except EnvError as e:
            return SearchResult(problem.key, "error", None, 0, time.perf_counter() - t0, error=str(e))
        res = SearchResult(problem.key, "failed", None, 0, 0.0, root=root.id)
        states: dict[str, State] = {root.id: root}
        res.nodes[root.id] = Node(root.id, root.text(), 0, 0.0)
        out_edges: dict[str, list[Edge]] = {root.id: []}
        renamed: dict[str, str] = {renaming_key(root.goals): root.id} if self.cfg.dedupe_renamed else {}
        parents: dict[str, set[str]] = {root.id: set()}
        tie = itertools.count()
        heap = [(-0.0, next(tie), root.id)]
        deadline = t0 + self.cfg.max_seconds
        context = failure_context(problem, self.env)
        costs = self.costs
        if costs is None and self.cfg.cost_order:
            costs = self.costs = cost_model(getattr(problem, "backend", None), self.cfg)

        ranks_by_depth = getattr(self.policy, "ranks_by_depth", False)  # a ranker reads the node's depth
        begin = getattr(self.policy, "begin", None)
        if begin is not None:  # sources that depend on the problem (its header's library lemmas)
            begin(problem)
        widen = getattr(self.policy, "widen", None) if self.cfg.widen else None
        if widen is None and self.cfg.widen and self.cfg.tries:
            widen = lambda state, page, tried: []  # noqa: E731  (the node's untried candidates suffice)
        later: list = []  # widening tickets (times widened, -priority, tie, node id), once nothing is open
        offered: dict[str, list[Candidate]] = {}  # with tries: each expanded node's candidates, in order

        def attempt(nid: str, cands: list[Candidate]) -> None:
            """Apply ``cands`` at node ``nid``: record each edge, add the new children, stop at a proof."""
            node, children = res.nodes[nid], []
            if self.cfg.tries:
                cands = budgeted(nid, node, cands)
            if self.cfg.cost_order:
                plan = costs.plan(cands, node.depth, self.cfg.tactic_timeout)
            else:  # the policy's order; the configured per-tactic limits still hold
                plan = [(c, configured_timeout(c.tactic, self.cfg.tactic_timeouts) or self.cfg.tactic_timeout)
                        for c in cands]
            for cand, limit in plan:
                if time.perf_counter() >= deadline:
                    break
                key = None
                if self.failures is not None:
                    key = failure_key(context, node.goals, cand.tactic)
                    if answered(nid, cand, key, limit):  # failed before on this very goal: not paid for again
                        continue
                t1 = time.perf_counter()
                res.tries += 1
                out = self.env.apply(states[nid], cand.tactic, limit)
                edge = Edge(nid, cand.tactic, cand.logprob, EdgeOutcome.ERROR, seconds=time.perf_counter() - t1,
                            source=cand.source)
                if isinstance(out, (NewState, ProofFinished)) and out.tactic:
                    edge.tactic = out.tactic  # stored as the backend rewrote it (hammer: its reconstruction)
                if isinstance(out, ProofFinished):
                    edge.outcome = EdgeOutcome.PROVED
                elif isinstance(out, NewState):
                    sid = out.state.id
                    edge.dst = sid
                    rkey = renaming_key(out.state.goals) if self.cfg.dedupe_renamed else None
                    twin = renamed.get(rkey) if rkey is not None else None
                    if sid in res.nodes:
                        edge.outcome = EdgeOutcome.DUP
                    elif twin is not None:  # a renamed copy: a dead end, never a node (no proof runs through it)
                        edge.outcome, edge.dst = EdgeOutcome.DUP, None
                        edge.message = f"{RENAMED}{twin}"
                    else:
                        edge.outcome = EdgeOutcome.NEW
                        states[sid] = out.state
                        child = Node(sid, out.state.text(), node.depth + 1, node.score + cand.logprob,
                                     parent=nid, tactic=edge.tactic)
                        res.nodes[sid] = child
                        if rkey is not None:
                            renamed[rkey] = sid
                        out_edges[sid], parents[sid] = [], set()
                        if child.depth < self.cfg.max_depth:
                            children.append(sid)
                        else:
                            child.expanded, child.status = True, Status.FAILED
                    if edge.dst is not None:  # a node of the tree (not a renamed copy)
                        if sid != nid:
                            parents[sid].add(nid)
                        if res.nodes[sid].status is Status.PROVED:  # reached a proved state again
                            res.edges.append(edge)
                            out_edges[nid].append(edge)
                            self._mark_proved(nid, res, parents, out_edges)
                            break
                elif isinstance(out, TacticTimeout):
                    edge.outcome = EdgeOutcome.TIMEOUT
                    self._remember(res, key, Failure("timeout", limit, "", edge.seconds))
                elif isinstance(out, TacticError):
                    edge.outcome = EdgeOutcome.REFUSED if out.refused else EdgeOutcome.ERROR
                    edge.message = out.message
                    if not (out.refused or out.transient):
                        self._remember(res, key, Failure("error", limit, out.message, edge.seconds))
                res.edges.append(edge)
                out_edges[nid].append(edge)
                if edge.outcome is EdgeOutcome.PROVED:
                    self._mark_proved(nid, res, parents, out_edges)
                    break
            self._push_children(heap, tie, res, children, states)
            if node.status is Status.FAILED:  # a widened dead node may have live children again
                self._revive(nid, res, parents, out_edges)
            if node.status is Status.OPEN:
                self._maybe_fail(nid, res, parents, out_edges)

        def answered(nid: str, cand: Candidate, key: str, limit: float) -> bool:
            """Whether the failure cache answers ``cand`` at node ``nid`` (then its edge is recorded)."""
            hit = self.failures.lookup(key, limit)
            if hit is None:
                return False
            kind = EdgeOutcome.ERROR if hit.kind == "error" else EdgeOutcome.TIMEOUT
            edge = Edge(nid, cand.tactic, cand.logprob, kind, message=CACHED + hit.message, source=cand.source)
            res.cache_hits += 1
            res.edges.append(edge)
            out_edges[nid].append(edge)
            return True

        def budgeted(nid: str, node: Node, cands: list[Candidate]) -> list[Candidate]:
            """The policy's first ``tries`` candidates that will reach the prover: a pruned tactic
            or one the failure cache answers costs no try (the cached ones are recorded here).
            With ``menu_tries`` M, the menu's best M candidates are among them (they take the
            places of the last of the others): a learned order may rank the cheap, general menu
            tactics below N instantiated ones."""
            chosen: list[Candidate] = []
            n, reserve, more_menu = self.cfg.tries, self.cfg.menu_tries, []
            for cand in cands:
                if len(chosen) >= n:
                    if len(more_menu) + sum(c.source == "menu" for c in chosen) >= reserve:
                        break
                    if cand.source != "menu":
                        continue
                if costs is not None and costs.dead and (cand.tactic, node.depth > 0) in costs.dead:
                    costs.pruned += 1
                    continue
                limit = costs.timeout(cand.tactic, self.cfg.tactic_timeout) if costs is not None \
                    else self.cfg.tactic_timeout
                if self.failures is not None and answered(nid, cand, failure_key(context, node.goals, cand.tactic),
                                                          limit):
                    continue
                (more_menu if len(chosen) >= n else chosen).append(cand)
            if more_menu:  # they replace the lowest-ranked candidates that are not the menu's
                drop = {id(c) for c in [c for c in chosen if c.source != "menu"][-len(more_menu):]}
                chosen = [c for c in chosen if id(c) not in drop] + more_menu
            return chosen

        cached: dict[str, list[Candidate]] = {}  # node id -> the policy's candidates, asked ahead (batch_states)

        def frontier_batch(nid: str) -> list[str]:
            """``nid`` and the best open, unexpanded heap nodes whose candidates are not cached, up
            to ``batch_states`` in all, best first."""
            batch, want = [nid], self.cfg.batch_states
            if want <= 1 or not heap:
                return batch
            seen = {nid}
            n = min(len(heap), 2 * want)
            while True:
                for _, _, sid in heapq.nsmallest(n, heap):
                    if sid in seen:
                        continue
                    seen.add(sid)
                    other = res.nodes[sid]
                    if other.status is Status.OPEN and not other.expanded and sid not in cached:
                        batch.append(sid)
                        if len(batch) >= want:
                            return batch
                if n >= len(heap):
                    return batch
                # too many entries of the window were skipped: look again, further (rarely needed)
                batch, seen, n = [nid], {nid}, min(len(heap), 2 * n)

        def propose_batch(nid: str) -> list[Candidate]:
            """One policy call on ``nid`` and the frontier's next best states; the others' candidates
            are cached for their own expansion. Returns ``nid``'s."""
            batch = frontier_batch(nid)
            k = getattr(self.policy, "default_k", None)
            asked = [states[sid] for sid in batch]
            proposed = (self.policy.propose(asked, k, depths=[res.nodes[sid].depth for sid in batch])
                        if ranks_by_depth else self.policy.propose(asked, k))
            for sid, cands in zip(batch[1:], proposed[1:]):
                cached[sid] = cands
            return proposed[0]

        def distinct(proposed, tried=frozenset()) -> list[Candidate]:
            cands, seen = [], set(tried)
            for c in proposed:
                t = self.env.normalise(c.tactic)
                if t not in seen:  # "lia" and "lia." are one candidate
                    seen.add(t)
                    cands.append(Candidate(t, c.logprob, c.source))
            return cands

        while res.nodes[root.id].status is not Status.PROVED:
            from_heap = bool(heap) and res.nodes[root.id].status is Status.OPEN
            if not from_heap and not later:
                break
            if res.expansions >= self.cfg.max_expansions:
                res.outcome = "budget"
                break
            if time.perf_counter() >= deadline:
                res.outcome = "timeout"
                break
            if from_heap:
                _, _, nid = heapq.heappop(heap)
                node = res.nodes[nid]
                if node.status is not Status.OPEN or node.expanded:
                    continue
                node.expanded = True
                res.expansions += 1
                proposed = cached.pop(nid, None)
                if proposed is None:
                    proposed = propose_batch(nid)
                cands = distinct(proposed)
                if self.cfg.tries and widen is not None:
                    offered[nid] = cands
                attempt(nid, cands)
                if widen is not None and node.status is not Status.PROVED:
                    heapq.heappush(later, (1, -self.priority(node), next(tie), nid))
                continue
            # nothing is open, budget is left: expand an expanded node again with new candidates
            page, _, _, nid = heapq.heappop(later)
            node = res.nodes[nid]
            if node.status is Status.PROVED:
                continue
            tried = {e.tactic for e in out_edges[nid]} | {self.env.normalise(e.tactic) for e in out_edges[nid]}
            # with tries: the candidates of the first expansion that the budget left untried come
            # first, in the policy's order, then the sources' next page
            rest = [c for c in offered.get(nid, ()) if c.tactic not in tried]
            cands = distinct(rest + list(widen(states[nid], page, tried)), tried)
            if not self.cfg.tries:  # with tries, the budget picks (a cached failure costs no try)
                cands = cands[:self.cfg.widen]
            if not cands:  # nothing new to try here (the sources' pages ran out): no expansion spent
                continue
            res.expansions += 1
            res.widened += 1
            attempt(nid, cands)
            if page < self.cfg.widen_times and node.status is not Status.PROVED:
                heapq.heappush(later, (page + 1, -self.priority(node), next(tie), nid))
        if res.nodes[root.id].status is not Status.PROVED and res.outcome not in ("budget", "timeout"):
            res.outcome = "failed"
        if res.nodes[root.id].status is Status.PROVED:
            res.outcome = "proved"
            res.proof = shortest_proof(res, out_edges)
            res.steps = proof_steps(res, out_edges, res.proof)
        res.seconds = time.perf_counter() - t0
        return res

    def _remember(self, res: SearchResult, key: str | None, failure: Failure) -> None:
        if key is not None:
            self.failures.add(key, failure)
            res.failures.append(failure_row(key, failure))

    # -- status propagation ---------------------------------------------------------
    def _mark_proved(self, nid, res, parents, out_edges):
        todo = [nid]
        while todo:
            n = todo.pop()
            node = res.nodes[n]
            if node.status is Status.PROVED:
                continue
            node.status = Status.PROVED
            todo.extend(parents[n])

    def _revive(self, nid, res, parents, out_edges):
        """A FAILED node that got a live child (widening) is OPEN again, and so is every FAILED
        ancestor it keeps alive: FAILED holds only while no edge leads anywhere open."""
        todo = [nid]
        while todo:
            n = todo.pop()
            node = res.nodes[n]
            if node.status is not Status.FAILED:
                continue
            if self._alive(n, res, out_edges):
                node.status = Status.OPEN
                todo.extend(parents[n])

    def _maybe_fail(self, nid, res, parents, out_edges):
        todo = [nid]
        while todo:
            n = todo.pop()
            node = res.nodes[n]
            if node.status is not Status.OPEN or not node.expanded:
                continue
            if not self._alive(n, res, out_edges):
                node.status = Status.FAILED
                todo.extend(parents[n])

    @staticmethod
    def _alive(n, res, out_edges) -> bool:
        """Whether an edge of node ``n`` leads anywhere open: not dead, not back to ``n``, not to
        a FAILED node (a renamed copy, dst None, counts as alive: its twin may be provable)."""
        return any(e.outcome not in _DEAD and e.dst != n
                   and (e.dst is None or res.nodes[e.dst].status is not Status.FAILED) for e in out_edges[n])


def shortest_proof(res: SearchResult, out_edges: dict[str, list[Edge]]) -> list[str] | None:
    """Fewest tactics from the root to a closing edge, over the whole DAG (BFS)."""
    prev: dict[str, tuple[str, str] | None] = {res.root: None}
    q = deque([res.root])
    while q:
        n = q.popleft()
        for e in out_edges.get(n, []):
            if e.outcome is EdgeOutcome.PROVED:
                path = [e.tactic]
                while prev[n] is not None:
                    n, t = prev[n]
                    path.append(t)
                return path[::-1]
        for e in out_edges.get(n, []):
            if e.dst is not None and e.dst not in prev and res.nodes[e.dst].status is Status.PROVED:
                prev[e.dst] = (n, e.tactic)
                q.append(e.dst)
    return None


def proof_steps(res: SearchResult, out_edges, proof: list[str] | None) -> list[tuple[str, str]]:
    """(goals before, tactic) along ``proof``, as the search saw them: training data."""
    steps, n = [], res.root
    for t in proof or []:
        steps.append((res.nodes[n].goals, t))
        nxt = next((e.dst for e in out_edges.get(n, []) if e.tactic == t and e.dst), None)
        if nxt is None:
            break
        n = nxt
    return steps
