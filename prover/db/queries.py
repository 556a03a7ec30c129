"""Read-only queries that reports, learners and the pages ask of a proof database.

Why: SQL lives in ``prover/db`` only (a test greps for it), so a change of the schema touches
this package and nothing else. ``store.py`` keeps the writes and the queries the loop itself
runs on; this module holds the rest: the browse pages' summaries, the cost order's tactic
statistics, the retrieval index's and the value's reads, the run comparison's. Each function
takes an open :class:`~prover.db.ProofDB` and returns rows as dicts; a sqlite error is the
store's one-line :class:`~prover.db.DBError`.
"""
from __future__ import annotations

from prover.labels import eval_label_sql

# The cost order's statistics (prover.search.cost): per normalised tactic, over every edge the
# prover itself answered in a training search (evaluation trees never set a limit or an order).
STATS_SQL = f"""
SELECT e.tactic AS tactic, count(*) AS tries,
       sum(e.outcome IN ('new', 'dup', 'proved')) AS ok,
       sum(e.outcome = 'timeout') AS timeouts,
       sum(e.seconds) AS seconds,
       max(CASE WHEN e.outcome IN ('new', 'dup', 'proved') THEN e.seconds ELSE 0 END) AS max_ok
FROM edges e
JOIN attempts a ON a.id = e.attempt_id
WHERE e.outcome != 'refused' AND coalesce(e.message, '') NOT LIKE '[cached]%'
  AND NOT {eval_label_sql("a.policy")}
GROUP BY e.tactic
"""

# The learned pruning's counts: per tactic and depth class (the root, or below it).
DEPTH_STATS_SQL = f"""
SELECT e.tactic AS tactic, n.depth > 0 AS deep, count(*) AS tries,
       sum(e.outcome IN ('new', 'proved')) AS ok
FROM edges e
JOIN nodes n ON n.attempt_id = e.attempt_id AND n.id = e.src
JOIN attempts a ON a.id = e.attempt_id
WHERE e.outcome != 'refused' AND coalesce(e.message, '') NOT LIKE '[cached]%'
  AND NOT {eval_label_sql("a.policy")}
GROUP BY e.tactic, deep
"""


def _has(db, table: str) -> bool:
    return table in db.db.table_names()


# ---- the browse pages (prover.datasette_plugins.pages) -------------------------------------
def problem_summaries(db) -> list[dict]:
    """Per problem: split, attempts, accepted proofs, expansions and seconds spent."""
    return db.query("select p.key, p.split, count(a.id) as attempts, "
                    "(select count(*) from proofs pr where pr.problem = p.key and pr.accepted = 1) as proofs, "
                    "coalesce(sum(a.expansions), 0) as expansions, round(coalesce(sum(a.seconds), 0), 1) as seconds "
                    "from problems p left join attempts a on a.problem = p.key group by p.key order by p.key")


def conjecture_counts(db) -> list[dict]:
    """Conjectures per status (none in a database made before self-play)."""
    if not _has(db, "conjectures"):
        return []
    return db.query("select status, count(*) as n from conjectures group by status")


def problem_attempts(db, key: str) -> list[dict]:
    """The attempts of one problem, oldest first, with their sizes."""
    return db.query("select id, round, policy, budget, outcome, expansions, round(seconds, 1) as seconds, "
                    "nodes, edges from attempts where problem = ? order by id", [key])


def state_occurrences(db, node_id: str) -> list[dict]:
    """Every tree that reached the state ``node_id``: its goals and status there, the attempt,
    and whether that attempt has an accepted proof."""
    return db.query("select n.goals, n.status, a.id as attempt, a.problem, a.round, a.policy, "
                    "(select count(*) from proofs pr where pr.attempt_id = a.id and pr.accepted = 1) as accepted "
                    "from nodes n join attempts a on a.id = n.attempt_id where n.id = ? order by a.id", [node_id])


# ---- retrieval (prover.policy.retrieval) -----------------------------------------------------
def accepted_proofs_after(db, proof_id: int) -> list[dict]:
    """Accepted proofs newer than ``proof_id``: id, problem, steps and the attempt's label."""
    return db.query("select pr.id, pr.problem, pr.steps, a.policy from proofs pr join attempts a "
                    "on a.id = pr.attempt_id where pr.accepted = 1 and pr.id > ? order by pr.id", [proof_id])


def accepted_hindsight_after(db, rowid: int) -> list[dict]:
    """Accepted hindsight lemmas newer than ``rowid`` (none before self-play existed)."""
    if not _has(db, "hindsight"):
        return []
    return db.query("select rowid as rid, problem, steps from hindsight where accepted = 1 and rowid > ? "
                    "order by rowid", [rowid])


# ---- the run's own lemmas (prover.policy.lemmas) ---------------------------------------------
def own_lemmas_after(db, hs_after: int, proof_after: int) -> tuple[list[dict], list[dict]]:
    """Accepted hindsight lemmas newer than rowid ``hs_after`` (key, problem, statement, steps,
    header) and accepted proofs of conjectures newer than proof id ``proof_after`` (id, key,
    parent, statement, steps, header), oldest first; none in a database from before self-play.
    ``header``: the header the lemma was checked in (its problem's)."""
    hs = (db.query("select h.rowid as rid, h.key, h.problem, h.statement, h.steps, p.header from hindsight h "
                   "left join problems p on p.key = h.problem where h.accepted = 1 and h.rowid > ? "
                   "order by h.rowid", [hs_after])
          if _has(db, "hindsight") else [])
    conj = (db.query("select pr.id, c.key, c.parent, c.statement, pr.steps, p.header from proofs pr "
                     "join conjectures c on c.key = pr.problem left join problems p on p.key = c.key "
                     "where pr.accepted = 1 and pr.id > ? order by pr.id", [proof_after])
            if _has(db, "conjectures") else [])
    return hs, conj


# ---- the value (prover.search.value) ---------------------------------------------------------
def node_labels(db, attempt_id: int, open_too: bool = False) -> list[dict]:
    """Goals and status of an attempt's labelled nodes (``open_too``: its open ones as well)."""
    which = "1" if open_too else "status != 'open'"
    return db.query(f"select goals, status from nodes where attempt_id = ? and {which}", [attempt_id])


# ---- the run comparison (prover.loop.compare) --------------------------------------------------
def evaluated_problems(db) -> set[str]:
    """Keys of the problems any evaluation searched."""
    return {r["problem"] for r in db.query(
        f"select distinct problem from attempts where {eval_label_sql('policy')}")}


def conjecture_keys(db) -> set[str]:
    return {r["key"] for r in db.query("select key from conjectures")} if _has(db, "conjectures") else set()


def training_proofs_by_round(db) -> list[dict]:
    """Accepted proofs of training searches: round, attempt id, problem, steps."""
    return db.query("select a.round as round, a.id as id, pr.problem as problem, pr.steps as steps "
                    "from proofs pr join attempts a on a.id = pr.attempt_id "
                    f"where pr.accepted = 1 and not {eval_label_sql('a.policy')}")
