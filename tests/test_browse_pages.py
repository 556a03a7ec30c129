"""The run, problem, attempt and state pages of ``make browse`` (issue #17), served by a real
datasette on a free loopback port from a real database of a small run; a headless Chromium
(Debian package ``chromium``) loads the tree page and takes a screenshot."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import urllib.request
from html.parser import HTMLParser
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
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
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
    # the proof visits every state of this tree: the root, the state after split., the one after lra.
    assert html.count('class="node proved onpath"') == len(nodes) == 3


def test_state_page_links_the_problems_through_an_equal_state(site):
    proc, db_path, deep, _ = site
    with ProofDB(db_path, create=False) as db:
        nid = db.query("select n.id from nodes n join attempts a on a.id = n.attempt_id "
                       "where a.problem = ? and n.depth = 1 and n.status = 'proved'", (deep.key,))[0]["id"]
    html = get(proc, f"/-/prover/state/{nid}")
    assert f"/-/prover/problem/{quote(deep.key, safe='')}" in html and "pass through this state (1)" in html


def _chromium() -> str:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium:
        return chromium
    if os.geteuid() == 0 and shutil.which("apt-get"):  # make setup would have installed it
        pytest.fail("chromium is missing although `make setup` installs it as root (Debian package chromium, "
                    "scripts/ensure_coq.sh): run make setup")
    pytest.skip("chromium is not installed (Debian package chromium; `make setup` installs it when run as root)")


def _headless(chromium: str, profile, url: str, *args: str) -> subprocess.CompletedProcess:
    """One headless Chromium run (a fresh profile, no sandbox: tests may run as root)."""
    return subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                           "--no-default-browser-check", "--disable-extensions", f"--user-data-dir={profile}",
                           "--hide-scrollbars", "--force-device-scale-factor=1", "--force-color-profile=srgb",
                           "--window-size=1400,900", *args, url],
                          capture_output=True, text=True, timeout=180)  # a first start can be slow


class _TreeGroups(HTMLParser):
    """The attributes of every <g> in the page's tree drawing (<svg class="tree">)."""

    def __init__(self):
        super().__init__()
        self.in_tree, self.groups = False, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg" and "tree" in (a.get("class") or "").split():
            self.in_tree = True
        elif tag == "g" and self.in_tree:
            self.groups.append(a)

    def handle_endtag(self, tag):
        if tag == "svg":
            self.in_tree = False


def test_headless_chromium_renders_the_tree(site, tmp_path):
    """Chromium loads the tree page of the deep attempt: the DOM it built holds one node per
    state the database holds, the proof path marked; its screenshot shows the gold path, and
    on it one green dot, ringed in gold, per state."""
    from PIL import Image

    from prover.db.svg import COLOURS, DX, PATH, R
    chromium = _chromium()
    proc, db_path, deep, _ = site
    with ProofDB(db_path, create=False) as db:
        aid = db.query("select id from attempts where problem = ?", (deep.key,))[0]["id"]
        _, nodes, edges = db.tree_rows(aid)
    url = proc.url.rstrip("/") + f"/-/prover/attempt/{aid}"

    dom = _headless(chromium, tmp_path / "profile", url, "--dump-dom")
    assert dom.returncode == 0 and "</svg>" in dom.stdout, dom.stderr[-1000:]
    parser = _TreeGroups()
    parser.feed(dom.stdout)
    drawn = [g for g in parser.groups if "node" in (g.get("class") or "").split()]
    assert sorted(g["id"] for g in drawn) == sorted(f"n-{nid}" for nid in nodes) and len(drawn) == 3
    assert {g["id"] for g in drawn if "onpath" in g["class"].split()} == {f"n-{nid}" for nid in nodes}
    path_edges = [g for g in parser.groups if g.get("class") == "edge onpath"]
    by_id = {str(e["id"]): e for e in edges}
    assert sorted(by_id[g["data-edge"]]["tactic"] for g in path_edges) == ["lia.", "lra.", "split."]

    shot = tmp_path / "tree.png"
    r = _headless(chromium, tmp_path / "profile", url, f"--screenshot={shot}")
    assert r.returncode == 0 and shot.exists(), r.stderr[-1000:]
    im = Image.open(shot).convert("RGB")
    assert im.size == (1400, 900)
    px, (w, h) = im.load(), im.size
    white = sum(px[x, y] == (255, 255, 255) for x in range(0, w, 4) for y in range(0, h, 4))
    assert white < 0.99 * (w // 4) * (h // 4), "a blank page"
    gold = tuple(int(PATH[i:i + 2], 16) for i in (1, 3, 5))
    green = tuple(int(COLOURS["proved"][i:i + 2], 16) for i in (1, 3, 5))
    per_row = [sum(px[x, y] == gold for x in range(w)) for y in range(h)]
    row = max(range(h), key=per_row.__getitem__)
    # the path: a gold line from the root over two states to the proof's end (0.6 DX further)
    assert per_row[row] >= 2 * DX, f"no gold proof path drawn ({per_row[row]} gold pixels in a row)"
    xs = sorted({x for y in range(row - R, row + R + 1) for x in range(w) if px[x, y] == green})
    dots = []
    for x in xs:  # green pixels on the path, grouped: one group per dot
        if dots and x - dots[-1][-1] <= 2 * R:
            dots[-1].append(x)
        else:
            dots.append([x])
    assert len(dots) == len(nodes), f"{len(dots)} green dots on the path, {len(nodes)} states"
    for d in dots:  # each dot ringed in gold: the on-path stroke, above its centre
        cx = (d[0] + d[-1]) // 2
        assert any(px[x, y] == gold for x in range(cx - 2, cx + 3) for y in range(row - 2 * R, row - R // 2)), \
            f"the dot at x={cx} has no gold ring"
