"""The Ray engine (issue #15) on a real Ray cluster the test starts: a head node bound to
127.0.0.1 with 2 CPUs, stopped at the end. The same problems give the same proofs as on the
local pool; an actor killed mid-search has its job re-run and nothing is counted twice."""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from prover.db import ProofDB
from prover.policy import PolicySpec
from prover.problems import load_problems
from prover.search import SearchConfig
from prover.search.runner import run_search

# The test cluster's own token (Ray's token authentication), set before Ray is imported (it
# reads these then): a token file another Ray left in ~/.ray can then neither switch
# authentication on for one side only nor be needed.
AUTH = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
os.environ.update(AUTH)
ray = pytest.importorskip("ray", reason="ray is not installed (make setup)")
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the actors need not import tests/
RAY = str(Path(sys.executable).parent / "ray")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    if not Path(RAY).exists() and not shutil.which("ray"):
        pytest.skip("the ray command is not installed (make setup)")
    port = _free_port()
    address = f"127.0.0.1:{port}"
    auth = AUTH
    start = subprocess.run([RAY, "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port),
                            "--num-cpus", "2", "--include-dashboard", "false", "--disable-usage-stats"],
                           capture_output=True, text=True, timeout=180, env={**os.environ, **auth})
    assert start.returncode == 0, start.stdout + start.stderr
    saved = {"RAY_ADDRESS": os.environ.get("RAY_ADDRESS")}
    os.environ["RAY_ADDRESS"] = address
    try:
        yield address
    finally:
        if ray.is_initialized():
            ray.shutdown()
        subprocess.run([RAY, "stop", "--force"], capture_output=True, timeout=120)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="module")
def problems(minif2f_coq, coq_available):
    ps = load_problems("coq", split="test")
    # a mix: some the menu proves in one or two expansions, some it does not
    names = {"mathd_algebra_10", "mathd_numbertheory_3", "mathd_algebra_141", "amc12a_2019_p21",
             "mathd_numbertheory_299", "mathd_algebra_24"}
    chosen = [p for p in ps if p.name in names]
    return chosen if len(chosen) >= 4 else ps[:6]


def _search(problems, db_path, engine):
    cfg = SearchConfig(max_expansions=2, tactic_timeout=5, max_seconds=60)
    with ProofDB(db_path) as db:
        s = run_search(problems, db, backend="coq", spec=PolicySpec(sources=("menu",)), cfg=cfg, workers=2,
                       engine=engine, progress=False)
        proofs = {k: v["proof"] for k, v in db.best_proofs().items()}
        attempts = db.query("select problem, count(*) as n from attempts group by problem")
    return s, proofs, attempts


def test_same_proofs_on_ray_as_on_the_local_pool(cluster, problems, tmp_path):
    local, local_proofs, _ = _search(problems, tmp_path / "local.db", "local")
    on_ray, ray_proofs, attempts = _search(problems, tmp_path / "ray.db", "ray")
    assert on_ray.attempted == local.attempted == len(problems)
    assert ray_proofs == local_proofs and ray_proofs  # the same problems proved, by the same proofs
    assert all(a["n"] == 1 for a in attempts)


def _actor_pids() -> list[int]:
    out = subprocess.run(["pgrep", "-f", "ray::Worker"], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def test_killed_actor_job_is_rerun_and_nothing_counted_twice(cluster, problems, tmp_path):
    db_path = tmp_path / "kill.db"
    killed = []

    def killer():
        deadline = time.time() + 120
        while time.time() < deadline and not killed:
            pids = _actor_pids()
            if len(pids) >= 2 and db_path.exists():
                with ProofDB(db_path, create=False) as db:
                    done = db.query("select count(*) as n from attempts")[0]["n"]
                if done >= 1:  # mid-run: one attempt finished, the others in flight
                    os.kill(pids[0], signal.SIGKILL)
                    killed.append(pids[0])
                    return
            time.sleep(0.05)

    t = threading.Thread(target=killer, daemon=True)
    t.start()
    s, proofs, attempts = _search(problems, db_path, "ray")
    t.join(timeout=5)
    assert killed, "no actor was killed (the run ended first)"
    assert s.attempted == len(problems)
    assert sorted(a["problem"] for a in attempts) == sorted(p.key for p in problems)
    assert all(a["n"] == 1 for a in attempts)            # nothing counted twice
    with ProofDB(db_path, create=False) as db:
        errors = db.query("select count(*) as n from attempts where outcome = 'error'")[0]["n"]
    assert errors == 0                                   # the killed actor's job ran again elsewhere


def test_pool_reports_an_item_that_kills_every_actor(cluster):
    from prover.engines.ray_pool import RayPool
    pool = RayPool(2, dict, ())
    out = dict(pool.imap(_die_on_two, [1, 2, 3]))
    assert out[1] == {"ok": 1} and out[3] == {"ok": 3}
    assert "worker died 2 times" in out[2]["error"] and pool.deaths == 2


def _die_on_two(state, item):
    if item == 2:
        os._exit(1)
    return {"ok": item}
