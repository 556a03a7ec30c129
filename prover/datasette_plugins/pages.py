"""Pages for inspecting a run in the datasette that ``make browse`` starts (a datasette plugin:
``register_routes``; loaded with ``--plugins-dir prover/datasette_plugins``).

    /-/prover/run                the run: progress plot, rounds table, where the budget went,
                                 conjecture counts, and every problem with its outcome
    /-/prover/problem/KEY        a problem: statement, accepted proofs (copyable, with the
                                 checker's verdict and axioms), every attempt across rounds
    /-/prover/attempt/ID         an attempt's search tree drawn (prover.db.svg), proof path gold
    /-/prover/state/NODE         the problems whose proofs pass through an equal state

Everything is rendered on the server from the database file datasette serves; the pages need
no network and no JavaScript library (one line of inline script copies a proof).
"""
from __future__ import annotations

import base64
import json
from html import escape
from pathlib import Path
from urllib.parse import quote, unquote

from datasette import hookimpl
from datasette.utils.asgi import Response

from prover.db import queries

CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#263238;max-width:110em}
a{color:#1565c0;text-decoration:none} a:hover{text-decoration:underline}
table{border-collapse:collapse;margin:.5em 0} td,th{border:1px solid #cfd8dc;padding:.2em .5em;font-size:.9em}
th{background:#eceff1} pre{background:#f5f5f5;padding:.6em;overflow-x:auto}
.proved,.ok{color:#2e7d32} .failed,.bad{color:#c62828} .open{color:#757575}
.onpath{font-weight:bold} li.onpath>small{color:#f57f17}
.treebox{overflow:auto;border:1px solid #cfd8dc;max-height:80vh}
.outline ul{margin:0;padding-left:1.4em;list-style:none} .outline li{margin:.1em 0}
nav a{margin-right:1em}
"""


def _page(title: str, body: str) -> Response:
    return Response.html(f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
                         f"<style>{CSS}</style></head><body><nav><a href='/-/prover/run'>run</a>"
                         f"<a href='/'>tables (datasette)</a></nav><h1>{escape(title)}</h1>{body}</body></html>")


def _db(datasette):
    from prover.db import ProofDB
    path = next(d.path for name, d in datasette.databases.items() if not name.startswith("_") and d.path)
    return ProofDB(path, create=False), Path(path)


def _table(rows: list[dict], cols: list[str], fmt=None) -> str:
    fmt = fmt or {}
    head = "".join(f"<th>{escape(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{fmt[c](r) if c in fmt else escape(str(r.get(c, '')))}</td>" for c in cols)
                   + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _json(value, default=None):
    """A JSON column as the database layer hands it: decoded already, or still text."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return default if default is not None else {}
    return value if value is not None else (default if default is not None else {})


def problem_url(key: str) -> str:
    return "/-/prover/problem/" + quote(key, safe="")


async def run_page(datasette, request):
    db, path = _db(datasette)
    with db:
        rounds = [_json(r["metrics"]) for r in db.rounds()]
        problems = queries.problem_summaries(db)
        conj = queries.conjecture_counts(db)
    body = []
    png = path.parent / "progress.png"
    if png.exists():
        body.append(f"<img alt='proof rate per round' src='data:image/png;base64,"
                    f"{base64.b64encode(png.read_bytes()).decode()}'>")
    if rounds:
        cols = [c for c in ("round", "mode", "valid_proved", "pool_size", "test_proved", "test_size", "menu_baseline_test",
                            "new_proofs", "training_pairs", "train_seconds", "search_seconds",
                            "expansions_per_second") if c in rounds[0]]
        body.append("<h2>Rounds</h2>" + _table(rounds, cols))
        budget = [c for c in ("round", "budget_unsolved", "budget_solved", "search_seconds") if c in rounds[0]]
        body.append("<h2>Where the budget went</h2><p>Expansions given to unsolved and to solved problems "
                    "(active selection), per round.</p>" + _table(rounds, budget))
        cc = [c for c in rounds[0] if c.startswith(("conj_", "hindsight_", "pairs_"))]
        if cc:
            body.append("<h2>Self-play</h2>" + _table(rounds, ["round"] + cc))
    else:
        body.append("<p>No round recorded (a search or an evaluation database).</p>")
    if conj:
        body.append("<h2>Conjectures by status</h2>" + _table(conj, ["status", "n"]))
    fmt = {"key": lambda r: f"<a href='{problem_url(r['key'])}'>{escape(r['key'])}</a>",
           "proofs": lambda r: f"<span class='{'ok' if r['proofs'] else 'bad'}'>{r['proofs']}</span>"}
    body.append(f"<h2>Problems ({len(problems)})</h2>" +
                _table(problems, ["key", "split", "attempts", "proofs", "expansions", "seconds"], fmt))
    return _page(f"Run: {path.parent.name}/{path.name}", "\n".join(body))


async def problem_page(datasette, request):
    from prover.db.render import proof_file
    key = unquote(request.url_vars["key"])
    db, _ = _db(datasette)
    with db:
        p = db.problem(key)
        if p is None:
            return Response.html(f"no problem {escape(key)} in this database", status=404)
        proofs = [r for r in db.proofs(key, accepted_only=False) if r["problem"] == key]
        attempts = queries.problem_attempts(db, key)
    body = [f"<p>split <b>{escape(p.get('split') or '-')}</b> · backend {escape(p.get('backend') or '')} · "
            f"{escape(p.get('path') or '')}</p>",
            "<h2>Statement</h2>", f"<pre>{escape(p.get('header') or '')}\n\n{escape(p['statement'])}</pre>"]
    accepted = [r for r in proofs if r["accepted"]]
    body.append(f"<h2>Accepted proofs ({len(accepted)})</h2>")
    for i, r in enumerate(proofs):
        text = proof_file(p, {**r, "steps": _json(r["steps"], [])})
        verdict = "accepted" if r["accepted"] else "rejected"
        axioms = ", ".join(_json(r["axioms"], [])) or "none"
        body.append(f"<h3 class='{'ok' if r['accepted'] else 'bad'}'>{verdict} · length {r['length']} · "
                    f"<a href='/-/prover/attempt/{r['attempt_id']}'>attempt {r['attempt_id']}</a> · round {r['round']}"
                    f" · {escape(r['policy'])}</h3><p>verdict: {escape(r['verdict'] or '')} · axioms: {escape(axioms)}</p>"
                    f"<pre id='proof{i}'>{escape(text)}</pre><button onclick=\"navigator.clipboard.writeText("
                    f"document.getElementById('proof{i}').innerText)\">copy</button>")
    fmt = {"id": lambda r: f"<a href='/-/prover/attempt/{r['id']}'>{r['id']}</a>",
           "budget": lambda r: escape(str(_json(r["budget"]).get("max_expansions", ""))),
           "outcome": lambda r: f"<span class='{'ok' if r['outcome'] == 'proved' else ''}'>{escape(r['outcome'])}</span>"}
    body.append(f"<h2>Attempts ({len(attempts)})</h2>" + _table(
        attempts, ["id", "round", "policy", "budget", "outcome", "expansions", "seconds", "nodes", "edges"], fmt))
    return _page(f"Problem {key}", "\n".join(body))


async def attempt_page(datasette, request):
    from prover.db.render import _proved_path
    from prover.db.svg import tree_outline, tree_svg
    from prover.db.store import UnknownAttempt
    aid = int(request.url_vars["id"])
    db, _ = _db(datasette)
    with db:
        try:
            attempt, nodes, edges = db.tree_rows(aid)
        except UnknownAttempt:
            return Response.html(f"no attempt {aid} in this database", status=404)
    root = next((n["id"] for n in nodes.values() if n["parent"] is None), None)
    by_src: dict[str, list[dict]] = {}
    for e in edges:
        by_src.setdefault(e["src"], []).append(e)
    on_path = _proved_path(root, nodes, by_src)
    counts = {}
    for e in edges:
        counts[e["outcome"]] = counts.get(e["outcome"], 0) + 1
    head = (f"<p><a href='{problem_url(attempt['problem'])}'>{escape(attempt['problem'])}</a> · round "
            f"{attempt['round']} · {escape(attempt['policy'])} · outcome <b>{escape(attempt['outcome'])}</b> · "
            f"{attempt['expansions']} expansions · {attempt['seconds']:.1f} s · {len(nodes)} nodes · "
            f"{len(edges)} edges ({', '.join(f'{v} {k}' for k, v in sorted(counts.items()))})</p>"
            "<p>Dots are proof states (green proved, red failed, grey open; hover: goals and failed tries; "
            "click: the problems whose proofs pass through an equal state); lines are tactics (hover: "
            "outcome), the proof path gold; ✗n counts a node's failed tries, Tn its timeouts.</p>")
    body = [head, f"<div class='treebox'>{tree_svg(nodes, edges, root, on_path)}</div>",
            "<h2>Outline</h2><p>Every node and tactic; failed subtrees are collapsed.</p>",
            tree_outline(nodes, edges, root, on_path)]
    return _page(f"Attempt {aid}", "\n".join(body))


async def state_page(datasette, request):
    nid = request.url_vars["node"]
    db, _ = _db(datasette)
    with db:
        rows = queries.state_occurrences(db, nid)
    if not rows:
        return Response.html(f"no state {escape(nid)} in this database", status=404)
    through = sorted({r["problem"] for r in rows if r["status"] == "proved" and r["accepted"]})
    body = [f"<pre>{escape(rows[0]['goals'] or '')}</pre>",
            f"<h2>Problems whose accepted proofs pass through this state ({len(through)})</h2><ul>" +
            "".join(f"<li><a href='{problem_url(k)}'>{escape(k)}</a></li>" for k in through) + "</ul>",
            f"<h2>Every tree that reached it ({len(rows)})</h2>" +
            _table(rows, ["attempt", "problem", "round", "policy", "status", "accepted"],
                   {"attempt": lambda r: f"<a href='/-/prover/attempt/{r['attempt']}'>{r['attempt']}</a>",
                    "problem": lambda r: f"<a href='{problem_url(r['problem'])}'>{escape(r['problem'])}</a>",
                    "status": lambda r: f"<span class='{escape(r['status'])}'>{escape(r['status'])}</span>"})]
    return _page(f"State {nid}", "\n".join(body))


@hookimpl
def register_routes():
    return [
        (r"^/-/prover/run$", run_page),
        (r"^/-/prover/problem/(?P<key>[^/]+(?:%2F|/)?[^/]*)$", problem_page),
        (r"^/-/prover/attempt/(?P<id>\d+)$", attempt_page),
        (r"^/-/prover/state/(?P<node>[\w-]+)$", state_page),
    ]
