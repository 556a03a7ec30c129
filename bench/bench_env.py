"""Benchmark the Coq environment against the naive baseline, in one run.

1. Tactic applications per second through ``coq_env`` (one long-lived coqtop) against
   compiling one ``coqc`` file per attempt, on the same problems and tactics.
2. The cost of jumping between two distant states of one tree (BackTo + replay), and of a
   bare ``BackTo`` round trip.
3. Memory: the coqtop process's resident size after the run, and the peak of one coqc.

Prints a table and the ratios; ``--json FILE`` also writes the numbers.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coq_env.env import CoqEnv, PRELUDE  # noqa: E402
from coq_env.problems import load_dir  # noqa: E402
from prover.env import NewState  # noqa: E402

TACTICS = ["intros", "lia", "lra", "reflexivity", "intros; lra", "auto", "simpl", "split"]


def coqc_attempt(problem, tactic: str, tmp: Path) -> tuple[bool, float]:
    f = tmp / "Attempt.v"
    f.write_text(f"{problem.header}\n{PRELUDE}\n{problem.statement}\nProof.\n{tactic}.\nAbort.\n")
    t0 = time.perf_counter()
    r = subprocess.run(["coqc", "-q", str(f)], cwd=tmp, capture_output=True, text=True)
    return r.returncode == 0, time.perf_counter() - t0


def bench_throughput(problems, repeat: int) -> dict:
    env = CoqEnv(timeout=5)
    t_env, n_env = 0.0, 0
    per_problem = {}
    for p in problems:
        root = env.open(p)
        tp = 0.0
        for _ in range(repeat):
            for t in TACTICS:
                t0 = time.perf_counter()
                env.apply(root, t)
                dt = time.perf_counter() - t0
                t_env += dt
                tp += dt
                n_env += 1
        per_problem[p.name] = {"env_ms": 1000 * tp / (repeat * len(TACTICS))}
    rss = env.coq.rss_mb()
    env.close()
    t_coqc, n_coqc = 0.0, 0
    with tempfile.TemporaryDirectory() as tmp:
        for p in problems:
            tp = 0.0
            for t in TACTICS:
                _, dt = coqc_attempt(p, t, Path(tmp))
                t_coqc += dt
                tp += dt
                n_coqc += 1
            per_problem[p.name]["coqc_ms"] = 1000 * tp / len(TACTICS)
    peak_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "env_per_tactic_ms": 1000 * t_env / n_env, "env_tactics_per_s": n_env / t_env,
        "coqc_per_attempt_ms": 1000 * t_coqc / n_coqc, "coqc_attempts_per_s": n_coqc / t_coqc,
        "speedup": (t_coqc / n_coqc) / (t_env / n_env), "env_attempts": n_env, "coqc_attempts": n_coqc,
        "coqtop_rss_mb": rss, "coqc_peak_rss_mb": peak_child, "per_problem": per_problem,
    }


def bench_jump(problem, depth: int, jumps: int) -> dict:
    env = CoqEnv(timeout=5)
    root = env.open(problem)
    leaves = []
    for branch in "AB":
        s = root
        for i in range(depth):
            out = env.apply(s, f"assert (h{branch}{i} : True) by trivial")
            assert isinstance(out, NewState), out
            s = out.state
        leaves.append(s)
    times = []
    for j in range(jumps):
        leaf = leaves[j % 2]
        t0 = time.perf_counter()
        env.apply(leaf, "assert (probe : True) by trivial")
        times.append(time.perf_counter() - t0)
    # a bare BackTo round trip, and a trivial tactic, straight to coqtop
    coq = env.coq
    n = coq.state
    bt = []
    for _ in range(200):
        t0 = time.perf_counter()
        coq.send(f"BackTo {n}.")
        bt.append(time.perf_counter() - t0)
    tac = []
    for _ in range(200):
        t0 = time.perf_counter()
        coq.send("idtac.")
        tac.append(time.perf_counter() - t0)
        coq.send(f"BackTo {n}.")
    env.close()
    return {"depth": depth, "jump_ms_median": 1000 * statistics.median(times),
            "jump_ms_mean": 1000 * statistics.mean(times),
            "backto_ms_median": 1000 * statistics.median(bt),
            "idtac_ms_median": 1000 * statistics.median(tac)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", type=int, default=4, help="miniF2F valid problems to use")
    ap.add_argument("--repeat", type=int, default=5, help="env repetitions of the tactic list")
    ap.add_argument("--depth", type=int, default=8, help="depth of each branch for the jump test")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    # every 20th valid problem: a spread of Arith, ZArith, Reals and Coquelicot headers
    problems = load_dir(split="valid")[::20][:args.problems]
    thr = bench_throughput(problems, args.repeat)
    jumps = {p.name: bench_jump(p, args.depth, 20) for p in problems if "Coquelicot" not in p.header}
    jump = min(jumps.values(), key=lambda j: j["jump_ms_median"])
    jump = {**jump, "per_problem": {n: j["jump_ms_median"] for n, j in jumps.items()},
            "median_over_problems": statistics.median(j["jump_ms_median"] for j in jumps.values())}
    print(f"{'measure':44} {'coq_env':>12} {'coqc/attempt':>14}")
    print(f"{'time per tactic attempt (ms)':44} {thr['env_per_tactic_ms']:12.2f} {thr['coqc_per_attempt_ms']:14.1f}")
    print(f"{'attempts per second':44} {thr['env_tactics_per_s']:12.1f} {thr['coqc_attempts_per_s']:14.2f}")
    print(f"{'memory (MB): coqtop RSS / coqc peak RSS':44} {thr['coqtop_rss_mb']:12.0f} {thr['coqc_peak_rss_mb']:14.0f}")
    for name, d in thr["per_problem"].items():
        print(f"  {name:42} {d['env_ms']:12.2f} {d['coqc_ms']:14.1f}   ({d['coqc_ms'] / d['env_ms']:.0f}x)")
    ratios = [d["coqc_ms"] / d["env_ms"] for d in thr["per_problem"].values()]
    geo = statistics.geometric_mean(ratios)
    thr["speedup_geomean"] = geo
    print(f"speedup per problem: geometric mean {geo:.0f}x, median {statistics.median(ratios):.0f}x "
          f"(expensive tactics cost the same in both, so they pull the pooled ratio down)")
    print(f"speedup coq_env vs coqc, pooled over all attempts: {thr['speedup']:.0f}x "
          f"({thr['env_attempts']} env attempts, {thr['coqc_attempts']} coqc attempts, same problems and tactics)")
    print(f"jump between two leaves at depth {jump['depth']} (BackTo + replay of {jump['depth']} tactics + one tactic), "
          f"median per problem:")
    for name, ms in jump["per_problem"].items():
        print(f"  {name:42} {ms:10.2f} ms")
    print(f"  median over problems: {jump['median_over_problems']:.2f} ms "
          f"(coqtop re-prints the goals after every replayed sentence: big goals cost more)")
    print(f"bare BackTo round trip: median {jump['backto_ms_median']:.3f} ms; "
          f"trivial tactic: median {jump['idtac_ms_median']:.3f} ms")
    if args.json:
        Path(args.json).write_text(json.dumps({"throughput": thr, "jump": jump}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
