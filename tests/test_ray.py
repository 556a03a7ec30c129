"""The Ray engine (issue #15) on a real Ray cluster the test starts: a head node bound to
127.0.0.1 with 2 CPUs, its own ports and its own temporary directory, stopped at the end by
the process ids of that cluster alone (never `ray stop`, which would stop every Ray on the
machine, a user's own cluster included). The same problems give the same proofs as on the
local pool; an actor killed mid-search has its job re-run and nothing is counted twice."""
from __future__ import annotations

import functools
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from prover.db import ProofDB
from prover.policy import PolicySpec
from prover.backends import load_problems
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


def _free_ports(n: int) -> list[int]:
    """``n`` distinct free loopback ports (held together while chosen, so all differ)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _procs() -> dict[int, tuple[int, str]]:
    """Every process on the machine: pid -> (parent pid, command line)."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
        out[int(d)] = (ppid, cmd)
    return out


def _cluster_pids(temp_dir: str) -> dict[int, str]:
    """The processes of the cluster whose temporary directory is ``temp_dir``: those whose
    command line names it (GCS, raylet, monitors, dashboard) and their descendants (agents,
    workers). pid -> command line. Nothing of another Ray, nor this test process."""
    procs = _procs()
    me = os.getpid()
    names = re.compile(re.escape(temp_dir) + r"(/|\s|$)")  # not a longer name it is a prefix of
    mine = {pid for pid, (_, cmd) in procs.items() if names.search(cmd) and pid != me}
    while True:
        more = {pid for pid, (ppid, _) in procs.items() if ppid in mine and pid != me} - mine
        if not more:
            return {pid: procs[pid][1] for pid in mine}
        mine |= more


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is dead, only not reaped
    except OSError:
        return False


def _wait_gone(pids, seconds: float) -> set[int]:
    deadline = time.monotonic() + seconds
    left = {p for p in pids if _alive(p)}
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = {p for p in left if _alive(p)}
    return left


def _stop_cluster(temp_dir: str) -> None:
    """SIGTERM this cluster's processes, SIGKILL what is left after a grace period."""
    for sig, grace in ((signal.SIGTERM, 5), (signal.SIGKILL, 10)):
        pids = _cluster_pids(temp_dir)
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        if not _wait_gone(pids, grace):
            return


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    if not Path(RAY).exists() and not shutil.which("ray"):
        pytest.skip("the ray command is not installed (make setup)")
    # Ray's sockets live under the temp dir and a socket path is at most 107 bytes: a short
    # directory of /tmp, not tmp_path_factory's (it is removed at the end)
    temp_dir = tempfile.mkdtemp(prefix="rt", dir="/tmp")
    port, dash, agent_http, agent_grpc, runtime_env, metrics, node_mgr, obj_mgr = _free_ports(8)
    address = f"127.0.0.1:{port}"
    # every port of its own: a user's Ray on this machine keeps its defaults (6379, 8265, 52365 ...)
    start = subprocess.run([RAY, "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port),
                            "--temp-dir", temp_dir, "--dashboard-port", str(dash),
                            "--dashboard-agent-listen-port", str(agent_http),
                            "--dashboard-agent-grpc-port", str(agent_grpc),
                            "--runtime-env-agent-port", str(runtime_env), "--metrics-export-port", str(metrics),
                            "--node-manager-port", str(node_mgr), "--object-manager-port", str(obj_mgr),
                            "--num-cpus", "2", "--include-dashboard", "false", "--disable-usage-stats"],
                           capture_output=True, text=True, timeout=180, env={**os.environ, **AUTH})
    saved = {"RAY_ADDRESS": os.environ.get("RAY_ADDRESS")}
    try:
        assert start.returncode == 0, start.stdout + start.stderr
        assert _cluster_pids(temp_dir), "ray start left no process naming its --temp-dir"
        os.environ["RAY_ADDRESS"] = address
        yield {"address": address, "temp_dir": temp_dir}
    finally:
        if ray.is_initialized():
            ray.shutdown()
        _stop_cluster(temp_dir)
        left = _cluster_pids(temp_dir)
        shutil.rmtree(temp_dir, ignore_errors=True)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        assert not left, f"processes of the test cluster survived its stop: {left}"


def _actor_pids(cluster) -> list[int]:
    """The live Ray actor processes (class ``Worker``) of this test's cluster only."""
    return sorted(pid for pid, cmd in _cluster_pids(cluster["temp_dir"]).items()
                  if cmd.startswith("ray::Worker") and _alive(pid))


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


GATE_HOLD = 240  # seconds a gated job waits to be killed before it gives up (the test then fails)


def _gated(job, gate: str, key: str, state, item):
    """``job`` behind a gate, in the actor: every start is logged (problem, actor pid); the
    first run of problem ``key`` writes its pid to ``gate/first`` and blocks until the test
    kills its actor, so the kill always lands mid-job; a second run (the re-run) goes on."""
    problem = item[0]
    gate_dir = Path(gate)
    with open(gate_dir / "log", "a") as f:
        f.write(f"{problem.key} {os.getpid()}\n")
    if problem.key == key:
        try:
            os.close(os.open(gate_dir / "claimed", os.O_WRONLY | os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            pass  # the re-run
        else:
            (gate_dir / "first.tmp").write_text(str(os.getpid()))
            os.rename(gate_dir / "first.tmp", gate_dir / "first")  # whole, or not there
            deadline = time.monotonic() + GATE_HOLD
            while time.monotonic() < deadline and not (gate_dir / "release").exists():
                time.sleep(0.05)
            return {"error": "gate: this actor was never killed"}
    return job(state, item)


def test_killed_actor_job_is_rerun_and_nothing_counted_twice(cluster, problems, tmp_path, monkeypatch):
    """A real search on Ray in which the actor running one problem is SIGKILLed mid-job (a
    gate holds the job until then): the problem is searched again on a fresh actor, recorded
    once, and every other problem once."""
    import prover.engines
    from prover.engines.ray_pool import RayPool

    gate = tmp_path / "gate"
    gate.mkdir()
    key = problems[0].key
    pools = []

    class GatedPool(RayPool):
        def imap(self, job, items):
            return super().imap(functools.partial(_gated, job, str(gate), key), items)

    def make_pool(engine, workers, init, init_args=()):
        assert engine == "ray"
        pools.append(GatedPool(workers, init, init_args))
        return pools[-1]

    monkeypatch.setattr(prover.engines, "make_pool", make_pool)  # run_search imports it per call
    killed, failed = [], []

    def killer():
        try:
            deadline = time.monotonic() + 180
            while not (gate / "first").exists():  # the gated job has started and is held
                assert time.monotonic() < deadline, "the gated job never started"
                time.sleep(0.05)
            pid = int((gate / "first").read_text())
            assert pid in _actor_pids(cluster), f"pid {pid} is no actor of the test cluster"
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        except BaseException as e:
            failed.append(e)
            (gate / "release").touch()  # let the held job end: the test then fails, it does not hang

    t = threading.Thread(target=killer, daemon=True)
    t.start()
    s, proofs, attempts = _search(problems, tmp_path / "kill.db", "ray")
    t.join(timeout=30)
    assert not failed, failed
    assert len(killed) == 1
    assert not _wait_gone(killed, 30), f"the killed actor {killed[0]} is still alive"
    assert pools[0].deaths == 1                         # one actor lost, and replaced
    starts = [line.split() for line in (gate / "log").read_text().splitlines()]
    runs = {p.key: [int(pid) for k, pid in starts if k == p.key] for p in problems}
    assert len(runs[key]) == 2 and runs[key][0] == killed[0] != runs[key][1]  # the killed job ran again
    assert all(len(runs[p.key]) == 1 for p in problems if p.key != key)        # the others once
    assert s.attempted == len(problems)
    assert sorted(a["problem"] for a in attempts) == sorted(p.key for p in problems)
    assert all(a["n"] == 1 for a in attempts)            # nothing counted twice
    with ProofDB(tmp_path / "kill.db", create=False) as db:
        outcomes = {r["problem"]: r["outcome"] for r in db.query("select problem, outcome from attempts")}
    assert "error" not in outcomes.values(), outcomes    # the killed problem's attempt is its re-run's
    deadline = time.monotonic() + 30
    while _actor_pids(cluster) and time.monotonic() < deadline:  # ray.kill does not wait
        time.sleep(0.1)
    assert _actor_pids(cluster) == []                    # the pool's actors are gone at the end


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
