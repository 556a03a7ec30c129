"""Best-first proof search and what runs it.

  tree.py        nodes, edges and the result of one attempt (explicit states, invariants)
  best_first.py  the search over one problem (SearchConfig, BestFirstSearch)
  scorers.py     node scorers: the frontier's value slot (registry)
  runner.py      many problems on a worker pool into a proof database (run_search)
"""
from prover.search.best_first import BestFirstSearch, SearchConfig, proof_steps, shortest_proof
from prover.search.tree import Edge, EdgeOutcome, Node, SearchResult, Status

__all__ = ["BestFirstSearch", "SearchConfig", "proof_steps", "shortest_proof",
           "Edge", "EdgeOutcome", "Node", "SearchResult", "Status"]
