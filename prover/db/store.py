"""The proof database: one SQLite file per experiment holding everything a run produced.

Search attempts (with their whole trees, failures included), the independently checked
proofs and per-round metrics all live here, so that training data, evaluation numbers and
the web browser (datasette) read one source. The pipeline's queries live here too (accepted
problems, training proofs, attempt history); rendering trees and proof files is
``prover.db.render``'s. Writes go through sqlite-utils; the file is
in WAL mode so that datasette or the ``db`` commands can read while a run writes.

Each :meth:`ProofDB.record_attempt` is one transaction, committed when it returns: a
killed run loses at most the attempts in flight, and :meth:`ProofDB.finished_attempt`
lets the next run skip what is already done.

Every ``sqlite3`` failure (a corrupt file, a file that is not SQLite, a SQLite file that
belongs to something else) surfaces as :class:`DBError` with a one-line message naming
the file, never as a traceback from the driver.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import enum
import functools
import json
import sqlite3
from pathlib import Path
from typing import Any, Iterable, TextIO

import sqlite_utils

from prover.check import Verdict
from prover.labels import eval_label_sql
from prover.problems import Problem
from prover.search.tree import Edge, Node, SearchResult

SCHEMA_VERSION = 1
TABLES = ("problems", "runs", "attempts", "nodes", "edges", "proofs", "rounds")
SELFPLAY_TABLES = ("hindsight", "conjectures", "failures")  # added to databases made before self-play
ROUND_COLUMNS = {"valid_proved": int, "test_proved": int, "new_proofs": int,
                 "training_pairs": int, "train_seconds": float, "search_seconds": float,
                 "expansions_per_second": float}  # named columns of ``rounds``; all metrics go to JSON too


class DBError(RuntimeError):
    """The proof database cannot be used; the message is one line and names the file."""


class UnknownAttempt(DBError, LookupError):
    """No attempt with the requested id."""


def _project_version() -> str:
    import prover
    return str(getattr(prover, "__version__", "0.1.0"))


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _plain(value: Any) -> Any:
    """Enum members (Status, EdgeOutcome) as their string value; everything else unchanged."""
    return value.value if isinstance(value, enum.Enum) else value


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _guarded(method):
    """Turn any sqlite3 error raised by ``method`` into a DBError naming the file."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as e:
            raise DBError(f"{self.path}: {_one_line(e) or type(e).__name__}") from None
    return wrapper


class ProofDB:
    """One experiment's proof database (see the module docstring).

    Rows come back as plain dicts; JSON columns (``config``, ``budget``, ``steps``,
    ``metrics``, ``axioms``) are decoded and ``accepted`` is a bool.
    """

    def __init__(self, path: str | Path, create: bool = True):
        self.path = Path(path)
        if self.path.is_dir():
            raise DBError(f"{self.path}: is a directory, not a proof database")
        if not self.path.exists():
            if not create:
                raise DBError(f"{self.path}: no such proof database")
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite_utils.Database(self.path)
        except sqlite3.Error as e:
            raise DBError(f"{self.path}: cannot open ({_one_line(e)})") from None
        try:
            self._open_schema(create)
        except sqlite3.Error as e:
            self.db.close()
            raise DBError(f"{self.path}: cannot open ({_one_line(e)})") from None
        except DBError:
            self.db.close()
            raise

    # ---- schema -------------------------------------------------------------------

    def _open_schema(self, create: bool) -> None:
        self.db.execute("PRAGMA busy_timeout = 30000")
        present = set(self.db.table_names())  # reads page 1: fails here on a non-SQLite file
        ours = set(TABLES)
        if present and not ours <= present:
            missing = ", ".join(sorted(ours - present))
            raise DBError(f"{self.path}: not a proof database (missing tables: {missing})")
        if not present:
            if not create:
                raise DBError(f"{self.path}: empty file, not a proof database")
            self.db.enable_wal()
            self._create_tables()
        elif self.db.journal_mode != "wal":
            self.db.enable_wal()
        if not set(SELFPLAY_TABLES) <= set(self.db.table_names()):
            try:
                self._create_selfplay_tables()
            except sqlite3.OperationalError:  # a read-only file: readers do without them
                pass

    def _create_tables(self) -> None:
        db = self.db
        with self._write():
            if db.table_names():  # another process created it since we looked
                return
            db.create_table("problems", {
                "key": str, "name": str, "split": str, "path": str,
                "header": str, "statement": str, "backend": str,
            }, pk="key")
            db.create_table("runs", {
                "id": int, "config": str, "version": str, "started": str, "finished": str,
            }, pk="id")
            db.create_table("attempts", {
                "id": int, "problem": str, "run_id": int, "round": int, "policy": str,
                "budget": str, "outcome": str, "expansions": int, "seconds": float,
                "error": str, "finished_at": str, "nodes": int, "edges": int, "tries": int,
            }, pk="id", foreign_keys=[("problem", "problems", "key"), ("run_id", "runs", "id")])
            db.create_table("nodes", {
                "attempt_id": int, "id": str, "goals": str, "depth": int, "score": float,
                "status": str, "expanded": int, "parent": str, "tactic": str, "value": float,
            }, pk=("attempt_id", "id"), foreign_keys=[("attempt_id", "attempts", "id")])
            db.create_table("edges", {
                "id": int, "attempt_id": int, "src": str, "tactic": str, "logprob": float,
                "outcome": str, "dst": str, "message": str, "seconds": float, "source": str,
            }, pk="id", foreign_keys=[("attempt_id", "attempts", "id")])
            db.create_table("proofs", {
                "id": int, "problem": str, "attempt_id": int, "proof": str, "length": int,
                "verdict": str, "accepted": int, "axioms": str, "steps": str,
            }, pk="id", foreign_keys=[("problem", "problems", "key"),
                                      ("attempt_id", "attempts", "id")])
            db.create_table("rounds", {
                "run_id": int, "round": int, "metrics": str,
                **ROUND_COLUMNS, "recorded_at": str,
            }, pk=("run_id", "round"), foreign_keys=[("run_id", "runs", "id")])
            db["attempts"].create_index(["problem", "round", "policy"])
            db["attempts"].create_index(["run_id"])
            db["attempts"].create_index(["round", "policy"])
            db["edges"].create_index(["attempt_id", "src"])
            db["proofs"].create_index(["problem", "accepted", "length"])
            db["proofs"].create_index(["attempt_id"])
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _create_selfplay_tables(self) -> None:
        db = self.db
        with self._write():
            if "hindsight" not in db.table_names():
                db.create_table("hindsight", {
                    "key": str, "problem": str, "attempt_id": int, "node": str, "round": int,
                    "goal": str, "statement": str, "proof": str, "length": int, "steps": str,
                    "verdict": str, "accepted": int,
                }, pk="key")
                db["hindsight"].create_index(["accepted"])
            if "failures" not in db.table_names():  # the failure cache (prover.search.failure_cache)
                db.create_table("failures", {
                    "key": str, "kind": str, "limit_s": float, "message": str, "seconds": float,
                }, pk="key")
            if "conjectures" not in db.table_names():
                db.create_table("conjectures", {
                    "key": str, "parent": str, "operator": str, "round": int, "goal": str,
                    "statement": str, "status": str, "reason": str, "solved_budget": int,
                    "created_at": str,
                }, pk="key")
                db["conjectures"].create_index(["status"])
                db["conjectures"].create_index(["round"])

    # ---- writing --------------------------------------------------------------------

    @_guarded
    def add_problems(self, problems: Iterable[Problem]) -> None:
        rows = [{"key": p.key, "name": p.name, "split": p.split, "path": str(p.path),
                 "header": p.header, "statement": p.statement, "backend": p.backend}
                for p in problems]
        with self._write():
            self.db["problems"].upsert_all(rows, pk="key")

    @_guarded
    def start_run(self, config: dict) -> int:
        table = self.db["runs"].insert({
            "config": json.dumps(config, sort_keys=True, default=str),
            "version": _project_version(), "started": _now(), "finished": None,
        })
        return int(table.last_rowid)

    @_guarded
    def finish_run(self, run_id: int) -> None:
        cursor = self.db.execute("update runs set finished = ? where id = ?", [_now(), run_id])
        if cursor.rowcount != 1:
            raise DBError(f"{self.path}: no run with id {run_id}")

    @_guarded
    def record_attempt(self, result: SearchResult, run_id: int, round: int, policy: str,
                       budget: dict, verdict: Verdict | None) -> int:
        """Store one finished attempt, its whole tree and (if checked) its proof; return its id."""
        db = self.db
        with self._write():
            attempt_id = int(db["attempts"].insert({
                "problem": result.problem, "run_id": run_id, "round": round, "policy": policy,
                "budget": json.dumps(budget, sort_keys=True, default=str),
                "outcome": result.outcome, "expansions": result.expansions,
                "seconds": result.seconds, "error": result.error, "finished_at": _now(),
                "nodes": len(result.nodes), "edges": len(result.edges),
                "tries": int(getattr(result, "tries", 0)),
            }, alter=True).last_rowid)  # alter: databases made before attempts had a tries column
            db["nodes"].insert_all(  # alter: databases made before nodes had a value column
                (_node_row(attempt_id, n) for n in result.nodes.values()), batch_size=500, alter=True)
            db["edges"].insert_all(  # alter: databases made before edges had a source column
                (_edge_row(attempt_id, e) for e in result.edges), batch_size=500, alter=True)
            if getattr(result, "failures", None):  # same transaction: an attempt never lacks its failures
                self._keep_stronger_failures(result.failures)
            if result.proof and verdict is not None:
                steps = _proof_steps(result)
                db["proofs"].insert({
                    "problem": result.problem, "attempt_id": attempt_id,
                    "proof": "\n".join(result.proof), "length": len(result.proof),
                    "verdict": verdict.line(), "accepted": int(bool(verdict.accepted)),
                    "axioms": json.dumps(list(verdict.axioms)),
                    "steps": json.dumps([list(s) for s in steps]),
                })
        return attempt_id

    @_guarded
    def record_hindsight(self, c, statement: str, round: int, verdict: Verdict) -> None:
        """One hindsight lemma (``prover.selfplay.hindsight.Candidate``) with its verdict."""
        with self._write():
            self.db["hindsight"].upsert({
                "key": c.key, "problem": c.problem, "attempt_id": c.attempt_id, "node": c.node,
                "round": round, "goal": c.goal, "statement": statement, "proof": "\n".join(c.tactics),
                "length": len(c.tactics), "steps": json.dumps([list(s) for s in c.steps]),
                "verdict": verdict.line(), "accepted": int(bool(verdict.accepted)),
            }, pk="key")

    @_guarded
    def record_conjectures(self, rows: list[dict]) -> int:
        """Insert conjectures (``key``, ``parent``, ``operator``, ``round``, ``goal``,
        ``statement``, ``status``, ``reason``); keys already present are left as they are.
        Returns how many were new."""
        with self._write():
            before = self.db["conjectures"].count
            self.db["conjectures"].insert_all(
                [{"solved_budget": None, "created_at": _now(), **r} for r in rows], pk="key", ignore=True)
            return self.db["conjectures"].count - before

    @_guarded
    def set_conjecture(self, key: str, **fields) -> None:
        with self._write():
            self.db["conjectures"].update(key, fields)

    @_guarded
    def record_round(self, run_id: int, round: int, metrics: dict) -> None:
        row = {"run_id": run_id, "round": round,
               "metrics": json.dumps(metrics, sort_keys=True, default=str),
               "recorded_at": _now()}
        row.update({c: metrics.get(c) for c in ROUND_COLUMNS})
        self.db["rounds"].upsert(row, pk=("run_id", "round"))

    # ---- reading --------------------------------------------------------------------

    @_guarded
    def finished_attempt(self, problem_key: str, round: int, policy: str) -> dict | None:
        """The latest recorded attempt on this problem in this round with this policy.

        Attempts are written only when finished, so any row means "done": a resumed run
        skips it whatever its outcome (``error`` included; look at ``outcome`` to retry).
        """
        rows = self._query(
            "select * from attempts where problem = ? and round = ? and policy = ? "
            "order by id desc limit 1", [problem_key, round, policy])
        return rows[0] if rows else None

    @_guarded
    def root_goals(self, keys: Iterable[str]) -> set[str]:
        """The root goal text of every searched problem among ``keys``."""
        keys = list(keys)
        out: set[str] = set()
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            rows = self._query("select distinct n.goals from nodes n join attempts a on a.id = n.attempt_id "
                               f"where n.depth = 0 and a.problem in ({', '.join('?' * len(chunk))})", chunk)
            out |= {r["goals"] for r in rows}
        return out

    @_guarded
    def failure_rows(self) -> list[dict]:
        """Every stored failure (the failure cache's rows); none in a database made before it."""
        if "failures" not in self.db.table_names():
            return []
        return self._query("select key, kind, limit_s, message, seconds from failures")

    def _keep_stronger_failures(self, rows: list[dict]) -> None:
        """Store failure rows, keeping per key the stronger failure (the rule is
        ``prover.search.failure_cache.stronger``, written once); inside a write transaction."""
        from prover.search.failure_cache import Failure, stronger
        keys = sorted({r["key"] for r in rows})
        kept: dict[str, dict] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            marks = ", ".join("?" * len(chunk))
            for r in self._query(f"select key, kind, limit_s, message, seconds from failures where key in ({marks})",
                                 chunk):
                kept[r["key"]] = r
        changed = {}
        for r in rows:
            old = kept.get(r["key"])
            if stronger(Failure.from_row(r), Failure.from_row(old) if old else None):
                kept[r["key"]] = changed[r["key"]] = r
        self.db.conn.executemany("INSERT OR REPLACE INTO failures (key, kind, limit_s, message, seconds) "
                                 "VALUES (:key, :kind, :limit_s, :message, :seconds)", list(changed.values()))

    @_guarded
    def tactic_stats(self) -> list[dict]:
        """Per normalised tactic: tries, successes, timeouts, total and slowest-success seconds,
        over every edge the prover itself answered (``prover.search.cost``)."""
        from prover.db.queries import STATS_SQL
        return self._query(STATS_SQL)

    @_guarded
    def tactic_depth_stats(self) -> list[dict]:
        """Per normalised tactic and depth class (root or below): tries and successes in the
        training searches' trees (``prover.search.cost``'s learned pruning)."""
        from prover.db.queries import DEPTH_STATS_SQL
        return self._query(DEPTH_STATS_SQL)

    @_guarded
    def query(self, sql: str, params: Iterable[Any] = ()) -> list[dict]:
        """A read-only SQL query for the pipeline's own reports (rows as dicts)."""
        return self._query(sql, params)

    @_guarded
    def attempt(self, attempt_id: int) -> dict:
        rows = self._query("select * from attempts where id = ?", [attempt_id])
        if not rows:
            raise UnknownAttempt(f"{self.path}: no attempt with id {attempt_id}")
        return rows[0]

    @_guarded
    def problem(self, key: str) -> dict | None:
        rows = self._query("select * from problems where key = ?", [key])
        return rows[0] if rows else None

    @_guarded
    def proofs(self, problem: str | None = None, accepted_only: bool = True) -> list[dict]:
        """Proof rows, oldest first; ``problem`` matches a problem key or a problem name."""
        where, params = [], []
        if problem is not None:
            where.append("(pr.problem = ? or p.name = ?)")
            params += [problem, problem]
        if accepted_only:
            where.append("pr.accepted = 1")
        sql = ("select pr.*, a.round, a.policy, a.run_id from proofs pr "
               "join attempts a on a.id = pr.attempt_id "
               "left join problems p on p.key = pr.problem")
        if where:
            sql += " where " + " and ".join(where)
        return self._query(sql + " order by pr.id", params)

    @_guarded
    def best_proofs(self) -> dict[str, dict]:
        """{problem key: its shortest accepted proof} (the earliest among equally short)."""
        best: dict[str, dict] = {}
        for row in self.proofs():
            current = best.get(row["problem"])
            if current is None or row["length"] < current["length"]:
                best[row["problem"]] = row
        return best

    @_guarded
    def stats(self) -> list[dict]:
        """One row per (split, round, policy): problems attempted and proved (accepted proofs
        only), search-proved count, mean expansions and seconds per attempt."""
        return self._query(f"""
            select {_SPLIT_SQL} as split, a.round, a.policy,
                   count(distinct a.problem) as attempted,
                   count(distinct case when pr.id is not null then a.problem end) as proved,
                   count(distinct case when a.outcome = 'proved' then a.problem end)
                       as search_proved,
                   count(*) as attempts,
                   avg(a.expansions) as mean_expansions,
                   avg(a.seconds) as mean_seconds
            from attempts a
            left join problems p on p.key = a.problem
            left join proofs pr on pr.attempt_id = a.id and pr.accepted = 1
            group by 1, a.round, a.policy
            order by a.round, 1, a.policy""")

    @_guarded
    def rounds(self, run_id: int | None = None) -> list[dict]:
        sql, params = "select * from rounds", []
        if run_id is not None:
            sql, params = sql + " where run_id = ?", [run_id]
        return self._query(sql + " order by run_id, round", params)

    @_guarded
    def accepted_problems(self, policy: str | None = None, round: int | None = None,
                          max_round: int | None = None) -> set[str]:
        """Keys of the problems with an accepted proof, found under ``policy`` (a label) in
        ``round`` when given, in rounds up to ``max_round`` when given."""
        sql = ("select distinct pr.problem from proofs pr join attempts a on a.id = pr.attempt_id "
               "where pr.accepted = 1")
        params: list = []
        if policy is not None:
            sql += " and a.policy = ?"
            params.append(policy)
        if round is not None:
            sql += " and a.round = ?"
            params.append(round)
        if max_round is not None:
            sql += " and a.round <= ?"
            params.append(max_round)
        return {r["problem"] for r in self._query(sql, params)}

    @_guarded
    def training_proofs(self) -> list[dict]:
        """Every accepted proof (problem, proof, length, steps), per problem shortest first:
        what training sets are built from."""
        return self._query("select problem, proof, length, steps from proofs where accepted = 1 "
                           "order by problem, length, id")

    @_guarded
    def attempt_history(self, policies: Iterable[str]) -> list[dict]:
        """(problem, budget, outcome) of every attempt under these labels, oldest first."""
        policies = list(policies)
        marks = ",".join("?" * len(policies))
        return self._query(f"select problem, budget, outcome from attempts where policy in ({marks}) "
                           "order by id", policies)

    @_guarded
    def shortest_lengths(self) -> dict[str, int]:
        """{problem key: length of its shortest accepted proof}."""
        return {r["problem"]: r["best"] for r in self._query(
            "select problem, min(length) as best from proofs where accepted = 1 group by problem")}

    @_guarded
    def hindsight_keys(self) -> set[str]:
        return {r["key"] for r in self._query("select key from hindsight")}

    @_guarded
    def hindsight_rows(self, accepted_only: bool = True) -> list[dict]:
        sql = "select * from hindsight" + (" where accepted = 1" if accepted_only else "")
        return self._query(sql + " order by round, key")

    @_guarded
    def conjectures(self, status: str | None = None, round: int | None = None) -> list[dict]:
        where, params = _where(status=status, round=round)
        return self._query(f"select * from conjectures {where} order by round, key", params)

    @_guarded
    def attempts_of(self, labels: Iterable[str] | None = None, round: int | None = None) -> list[dict]:
        """Attempt rows (oldest first), under these labels and in this round when given."""
        where, params = _where(policy=None if labels is None else list(labels), round=round)
        return self._query(f"select * from attempts {where} order by id", params)

    @_guarded
    def problem_keys(self) -> set[str]:
        return {r["key"] for r in self._query("select key from problems")}

    @_guarded
    def split_keys(self, split: str) -> set[str]:
        """The keys of the problems of ``split`` (e.g. ``test``: what a learner must never read)."""
        return {r["key"] for r in self._query("select key from problems where split = ?", [split])}

    @_guarded
    def ranker_edges(self, deny: Iterable[str] = ()) -> list[dict]:
        """The learned ranker's examples (``prover.policy.ranker``): per expanded node of every
        training attempt (not an evaluation label, not a ``deny`` problem), its goals, depth and
        the (tactic, source, outcome, status of the node it led to) the prover answered there,
        in the order tried. Cached and refused edges are left out."""
        deny = set(deny)
        has_source = "source" in self.db["edges"].columns_dict
        source = "coalesce(e.source, '')" if has_source else "''"
        sql = f"""
            select a.problem, e.attempt_id, e.src, n.goals, n.depth, e.tactic, {source} as source,
                   e.outcome, d.status as dst_status
            from edges e
            join attempts a on a.id = e.attempt_id
            join nodes n on n.attempt_id = e.attempt_id and n.id = e.src
            left join nodes d on d.attempt_id = e.attempt_id and d.id = e.dst
            where not {eval_label_sql("a.policy")} and e.outcome != 'refused'
              and coalesce(e.message, '') not like '[cached]%'
            order by e.attempt_id, e.src, e.id"""
        groups: list[dict] = []
        for row in self.db.query(sql):
            if row["problem"] in deny:
                continue
            key = (row["attempt_id"], row["src"])
            if not groups or groups[-1]["key"] != key:
                groups.append({"key": key, "problem": row["problem"], "goals": row["goals"],
                               "depth": row["depth"], "edges": []})
            groups[-1]["edges"].append((row["tactic"], row["source"], row["outcome"], row["dst_status"]))
        return groups

    @_guarded
    def tree_rows(self, attempt_id: int) -> tuple[dict, dict, list[dict]]:
        """(attempt, {node id: node row}, edge rows in order) of one attempt's search tree."""
        attempt = self.attempt(attempt_id)
        nodes = {n["id"]: n for n in self._query(
            "select * from nodes where attempt_id = ?", [attempt_id])}
        edges = self._query("select * from edges where attempt_id = ? order by id", [attempt_id])
        return attempt, nodes, edges

    @_guarded
    def export_jsonl(self, fp: TextIO) -> int:
        """Write one JSON line per accepted proof; return how many were written."""
        rows = self._query("""
            select pr.*, a.round, p.split, p.statement, p.header, p.backend
            from proofs pr join attempts a on a.id = pr.attempt_id
            left join problems p on p.key = pr.problem
            where pr.accepted = 1 order by pr.problem, pr.id""")
        for row in rows:
            steps = row["steps"] or []
            fp.write(json.dumps({
                "problem": row["problem"], "split": row["split"],
                "backend": row["backend"], "header": row["header"],
                "statement": row["statement"], "round": row["round"],
                "proof": [tactic for _, tactic in steps],
                "steps": [{"goals": goals, "tactic": tactic} for goals, tactic in steps],
            }, ensure_ascii=False) + "\n")
        return len(rows)

    # ---- plumbing -------------------------------------------------------------------

    @contextlib.contextmanager
    def _write(self):
        """One write transaction. IMMEDIATE takes the write lock up front, so a second
        process writing the same file waits (busy_timeout) instead of failing mid-way."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.rollback()
            raise
        self.db.commit()

    def _query(self, sql: str, params: Iterable[Any] = ()) -> list[dict]:
        return [_decode(row) for row in self.db.query(sql, list(params))]

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "ProofDB":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# The split of an attempt's problem, also for problems never added to the problems table.
_SPLIT_SQL = ("coalesce(p.split, case when instr(a.problem, '/') > 0 "
              "then substr(a.problem, 1, instr(a.problem, '/') - 1) else '' end)")
_JSON_COLUMNS = ("config", "budget", "steps", "metrics", "axioms")


def _where(**conditions) -> tuple[str, list]:
    """``where a = ? and b in (?, ?)`` for the conditions that are not None (a list: ``in``)."""
    parts, params = [], []
    for column, value in conditions.items():
        if value is None:
            continue
        if isinstance(value, list):
            parts.append(f"{column} in ({','.join('?' * len(value))})")
            params += value
        else:
            parts.append(f"{column} = ?")
            params.append(value)
    return ("where " + " and ".join(parts) if parts else ""), params


def _decode(row: dict) -> dict:
    for column in _JSON_COLUMNS:
        if isinstance(row.get(column), str):
            row[column] = json.loads(row[column])
    for column in ("accepted", "expanded"):
        if column in row and row[column] is not None:
            row[column] = bool(row[column])
    return row


def _node_row(attempt_id: int, node: Node) -> dict:
    return {"attempt_id": attempt_id, "id": node.id, "goals": node.goals, "depth": node.depth,
            "score": node.score, "status": _plain(node.status), "expanded": int(node.expanded),
            "parent": node.parent, "tactic": node.tactic, "value": node.value}


def _edge_row(attempt_id: int, edge: Edge) -> dict:
    return {"attempt_id": attempt_id, "src": edge.src, "tactic": edge.tactic,
            "logprob": edge.logprob, "outcome": _plain(edge.outcome), "dst": edge.dst,
            "message": edge.message, "seconds": edge.seconds, "source": getattr(edge, "source", "") or ""}


def _proof_steps(result: SearchResult) -> list[tuple[str, str]]:
    """(goals before, tactic) for each tactic of the proof: the search's own steps when it
    gave them, else read off the tree by following the proof's tactics from the root."""
    proof = list(result.proof or [])
    if len(result.steps) == len(proof) and [t for _, t in result.steps] == proof:
        return [(g, t) for g, t in result.steps]
    steps, current = [], result.root
    for tactic in proof:
        node = result.nodes.get(current) if current is not None else None
        steps.append((node.goals if node else "", tactic))
        nxt = next((e.dst for e in result.edges if e.src == current and e.tactic == tactic
                    and e.dst is not None), None)
        current = nxt
    return steps
