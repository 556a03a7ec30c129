"""The run, problem, attempt and state pages of ``make browse`` (issue #17), served by a real
datasette on a free loopback port from a real database of a small run; a headless Chromium
(Debian package ``chromium``) loads the tree page and takes a screenshot."""
from __future__ import annotations

import re
import shutil
import subprocess
import time
import urllib.request
from urllib.parse import quote

import pytest

from coq_env.problems import parse_file
from prover.browse import serve
from prover.db import ProofDB
from prover.policy import PolicySpec
from prover.search import SearchConfig
from prover.search.runner import run_search
from tests.conftest import write


@pytest.fixture(scope="module")
def site(tmp_path_factory, coq_available):
    d = tmp_path_factory.mktemp("browse")
    deep = parse_file(write(d / "p" / "deep.v", """
        Require Import Reals.
        Open Scope R_scope.
        Theorem deep (x : R) (n : nat) : x + 0 = x /\\ (n + 0 = n)%nat.
        Proof.
        Admitted.
        """))
    hard = parse_file(write(d / "p" / "hard.v", """
        Theorem hard (n : nat) : n * n = n + 2.
        Proof.
        Admitted.
        """))
    db_path = d / "run" / "proofs.db"
    db = ProofDB(db_path)
    spec = PolicySpec(sources=("menu",), options={"menu": {"tactics": ["lra", "lia", "split", "intros", "simpl"]}})
    run_id = db.start_run({"command": "test"})
    run_search([deep, hard], db, backend="coq", spec=spec, cfg=SearchConfig(max_expansions=6, tactic_timeout=5),
               workers=1, progress=False, run_id=run_id)
    db.record_round(run_id, 0, {"round": 0, "valid_proved": 1, "pool_size": 2, "test_proved": 0, "test_size": 0,
                                "budget_unsolved": 6, "budget_solved": 6, "conj_proposed": 3})
    db.close()
    proc = serve(db_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(proc.url, timeout=2)
            break
        except Exception:
            if time.time() > deadline or proc.poll() is not None:
                proc.terminate()
                pytest.fail("datasette did not start")
            time.sleep(0.3)
    yield proc, db_path, deep, hard
    proc.terminate()
    proc.wait(timeout=20)


def get(proc, path: str) -> str:
    with urllib.request.urlopen(proc.url.rstrip("/") + path, timeout=60) as r:
        assert r.status == 200
        return r.read().decode()


def test_run_page(site):
    proc, _, deep, hard = site
    html = get(proc, "/-/prover/run")
    assert "Rounds" in html and "Where the budget went" in html and "conj_proposed" in html
    for p in (deep, hard):
        assert f"/-/prover/problem/{quote(p.key, safe='')}" in html


def test_problem_page_has_statement_proofs_and_attempts(site):
    proc, db_path, deep, _ = site
    html = get(proc, f"/-/prover/problem/{quote(deep.key, safe='')}")
    assert "x + 0 = x" in html and "Accepted proofs (1)" in html
    assert "split." in html and "lra." in html and "copy</button>" in html
    with ProofDB(db_path, create=False) as db:
        aid = db.query("select id from attempts where problem = ?", (deep.key,))[0]["id"]
    assert f"/-/prover/attempt/{aid}" in html


def test_attempt_page_draws_every_node_and_marks_the_proof_path(site):
    proc, db_path, deep, _ = site
    with ProofDB(db_path, create=False) as db:
        aid = db.query("select id from attempts where problem = ?", (deep.key,))[0]["id"]
        _, nodes, edges = db.tree_rows(aid)
    html = get(proc, f"/-/prover/attempt/{aid}")
    for nid in nodes:  # every node, in the drawing and in the outline
        assert f'id="n-{nid}"' in html and f'id="o-{nid}"' in html
    path_edges = set(re.findall(r'<g class="edge onpath" data-edge="(\d+)"', html))
    assert len(path_edges) == 3  # split, lra, lia
    proved_tactics = {e["tactic"] for e in edges if str(e["id"]) in path_edges}
    assert proved_tactics == {"split.", "lra.", "lia."}
    assert html.count('class="node proved onpath"') >= 2  # the root and the states on the way


def test_state_page_links_the_problems_through_an_equal_state(site):
    proc, db_path, deep, _ = site
    with ProofDB(db_path, create=False) as db:
        nid = db.query("select n.id from nodes n join attempts a on a.id = n.attempt_id "
                       "where a.problem = ? and n.depth = 1 and n.status = 'proved'", (deep.key,))[0]["id"]
    html = get(proc, f"/-/prover/state/{nid}")
    assert f"/-/prover/problem/{quote(deep.key, safe='')}" in html and "pass through this state (1)" in html


def test_headless_chromium_renders_the_tree(site, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        pytest.skip("chromium is not installed (Debian package chromium): no screenshot")
    proc, db_path, deep, _ = site
    with ProofDB(db_path, create=False) as db:
        aid = db.query("select id from attempts where problem = ?", (deep.key,))[0]["id"]
    shot = tmp_path / "tree.png"
    r = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        f"--screenshot={shot}", "--window-size=1400,900",
                        proc.url.rstrip("/") + f"/-/prover/attempt/{aid}"], capture_output=True, text=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 10_000, r.stderr[-500:]
