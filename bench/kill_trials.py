"""Kill trials (issue #16): kill ``prover iterate --config tiny`` and ``prover search`` N times
at random moments (SIGKILL, SIGTERM, SIGINT), resume each time, and check after every kill:

  * every accepted proof from before the kill is still there;
  * no attempt is counted twice (one attempt per problem, round and policy label);
  * ``PRAGMA integrity_check`` is ok;
  * rounds.csv agrees with the database's rounds table (iterate; between kills it may lag by
    the round being written, which the next start rewrites);
  * no prover process is left behind (coqtop processes that were not there before).

Finally each job runs to its end, and the same checks hold. Prints kills survived / N.

    python bench/kill_trials.py [--kills 6] [--seed 0] [--out runs/kill-trials]
"""
from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROVER = str(Path(sys.executable).parent / "prover")
SIGNALS = (signal.SIGKILL, signal.SIGTERM, signal.SIGINT)
ENV = {**os.environ, "PROVER_KILL_TRIAL": str(os.getpid())}


MARK = f"PROVER_KILL_TRIAL={os.getpid()}"  # in the environment of every process a trial job starts


def coqtops() -> set[int]:
    """The coqtop processes started by this script's jobs (marked in their environment, which
    children inherit), and no one else's (another run on the machine is left alone)."""
    out = subprocess.run(["pgrep", "-x", "coqtop"], capture_output=True, text=True).stdout
    mine = set()
    for pid in (int(p) for p in out.split()):
        try:
            if MARK.encode() in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                mine.add(pid)
        except OSError:
            continue
    return mine


def db_facts(db: Path) -> dict:
    if not db.exists():
        return {"accepted": set(), "dupes": 0, "integrity": "ok", "rounds": {}}
    with sqlite3.connect(db, timeout=60) as c:
        accepted = {(r[0], r[1]) for r in c.execute("select problem, proof from proofs where accepted = 1")}
        dupes = c.execute("select count(*) from (select problem, round, policy, count(*) n from attempts "
                          "group by problem, round, policy having n > 1)").fetchone()[0]
        integrity = c.execute("pragma integrity_check").fetchone()[0]
        rounds = {}
        if c.execute("select count(*) from sqlite_master where name = 'rounds'").fetchone()[0]:
            for r, vp, tp in c.execute("select round, valid_proved, test_proved from rounds"):
                rounds[int(r)] = (vp, tp)
    return {"accepted": accepted, "dupes": dupes, "integrity": integrity, "rounds": rounds}


def csv_rounds(path: Path) -> dict:
    if not path.exists():
        return {}
    with path.open() as f:
        return {int(r["round"]): (int(r["valid_proved"]), int(r["test_proved"])) for r in csv.DictReader(f)}


def check(job: str, db: Path, csv_path: Path | None, before: dict, baseline_coqtops: set[int],
          final: bool = False) -> list[str]:
    """What went wrong (nothing: an empty list). Between kills rounds.csv may lag the database by
    the round whose row was being written (the next start rewrites it); at the end it must agree."""
    problems = []
    now = db_facts(db)
    lost = before["accepted"] - now["accepted"]
    if lost:
        problems.append(f"{len(lost)} accepted proofs lost")
    if now["dupes"]:
        problems.append(f"{now['dupes']} attempts counted twice")
    if now["integrity"] != "ok":
        problems.append(f"integrity_check: {now['integrity']}")
    if csv_path is not None:
        rows = csv_rounds(csv_path)
        wrong = any(now["rounds"].get(r) != v for r, v in rows.items())
        lag = set(now["rounds"]) - set(rows)
        if wrong or (lag and (final or len(lag) > 1)):
            problems.append(f"rounds.csv {rows} disagrees with the database {now['rounds']}")
    deadline = time.time() + 20
    while (left := coqtops() - baseline_coqtops) and time.time() < deadline:
        time.sleep(0.5)
    if left:
        problems.append(f"{len(left)} coqtop processes left behind")
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return problems


def trial(job: str, cmd: list[str], db: Path, csv_path: Path | None, kills: int, rng: random.Random,
          max_wait: float) -> tuple[int, list[str]]:
    """``kills`` runs of ``cmd``, each killed at a random moment (or finishing first), each
    followed by the checks; then one run to the end."""
    survived, report = 0, []
    baseline = coqtops()
    for k in range(kills):
        before = db_facts(db)
        p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
        wait = rng.uniform(3.0, max_wait)
        sig = SIGNALS[k % len(SIGNALS)]  # every signal in turn, at a random moment
        try:
            p.wait(timeout=wait)
            finished = True
        except subprocess.TimeoutExpired:
            finished = False
            p.send_signal(sig)
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        problems = check(job, db, csv_path, before, baseline)
        what = "finished before the kill" if finished else f"{signal.Signals(sig).name} after {wait:.1f}s"
        report.append(f"{job} #{k + 1}: {what}: " + ("ok" if not problems else "; ".join(problems)))
        survived += not problems
    # and to the end
    before = db_facts(db)
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=ENV)
    problems = check(job, db, csv_path, before, baseline, final=True)
    if r.returncode != 0:
        problems.append(f"the final run failed: {(r.stderr or r.stdout).strip().splitlines()[-1:]}")
    report.append(f"{job} to the end: " + ("ok" if not problems else "; ".join(problems)))
    return survived, report


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=6, help="kills per job")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="runs/kill-trials")
    ap.add_argument("--max-wait", type=float, default=40.0, help="latest kill moment, seconds after start")
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    out = (ROOT / args.out).resolve()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    name = "kill-trials-tiny"
    run_dir = ROOT / "runs" / name
    shutil.rmtree(run_dir, ignore_errors=True)
    jobs = [
        ("iterate", [PROVER, "iterate", "--config", "data/configs/tiny.json", "--name", name, "--quiet"],
         run_dir / "proofs.db", run_dir / "rounds.csv"),
        ("search", [PROVER, "search", "--split", "valid", "--limit", "80", "--expansions", "4", "--workers", "2",
                    "--timeout", "2", "--db", str(out / "search.db")], out / "search.db", None),
    ]
    total = survived = 0
    for job, cmd, db, csv_path in jobs:
        s, report = trial(job, cmd, db, csv_path, args.kills, rng, args.max_wait)
        total += args.kills
        survived += s
        print("\n".join(report), flush=True)
    print(f"kills survived: {survived}/{total}")
    return 0 if survived == total else 1


if __name__ == "__main__":
    sys.exit(main())
