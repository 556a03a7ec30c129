"""The transductive loop against plain search at equal CPU time (issue #36).

Both work on the same target (a split of the backend's dataset, or a directory of problem
files), each with its own database:

  loop    ``prover iterate --config PRESET --target T --name NAME-loop --rounds r`` for
          r = 1..R, one process per round (each resumes the run and adds one round), its CPU
          seconds measured per round (the whole process tree, read from /proc: training,
          self-play, the search workers and their provers);
  search  plain search of the target's unsolved problems with the preset's candidate sources
          minus those that learn (the model, macros, retrieval, lemmas), the failure cache on, the
          budget growing each round from the preset's ``budget.base`` by ``budget.growth``,
          round after round until its CPU seconds reach the loop's total.

Writes ``OUT/transductive.md`` (per round: cumulative proved and CPU seconds of each arm) and
``OUT/transductive.png`` (cumulative proved against CPU hours, both curves). Resumable: the
loop resumes its run, the search skips finished rounds; ``OUT/timings.json`` keeps the seconds.

    python bench/transductive.py --config data/configs/target.json --out runs/t36 --rounds 6 \
        [--target SPLIT|DIR] [--report-only]
"""
from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LEARNING_SOURCES = {"macros", "retrieval", "lemmas"}  # what the run learns: plain search has none of it


class CpuMeter:
    """CPU seconds of a process tree: a thread reads every process below ``root`` (and ``root``
    itself) from /proc every 0.2 s and keeps each one's last user + system time. ``getrusage``
    would miss the provers: they run in sessions of their own and are killed, not reaped, by
    the workers. A process that lives less than one period is missed (the trace's and the
    checker's short ``coqc`` runs are caught by most periods)."""

    def __init__(self, root: int | None = None, period: float = 0.2):
        import os
        import threading
        self.root, self.period = root or os.getpid(), period
        self.seen: dict[tuple[int, int], float] = {}  # (pid, start time) -> last CPU seconds
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        import os
        from prover.process import _descendants
        tick = os.sysconf("SC_CLK_TCK")
        for pid in [self.root, *_descendants(self.root)]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            # fields[11], [12]: utime, stime; [19]: start time (tells a reused pid apart)
            self.seen[(pid, int(fields[19]))] = (int(fields[11]) + int(fields[12])) / tick

    def _run(self) -> None:
        while not self.stop.wait(self.period):
            self._sample()

    def __enter__(self) -> "CpuMeter":
        self.base = self.seen_total()
        self.thread.start()
        return self

    def seen_total(self) -> float:
        self._sample()
        return sum(self.seen.values())

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()

    @property
    def seconds(self) -> float:
        return sum(self.seen.values()) - self.base


def loop_arm(args, cfg, timings: dict) -> list[dict]:
    """One ``prover iterate`` process per round; (round, proved, cpu) from its rounds.csv."""
    name = f"{Path(args.out).name}-loop"
    rows_path = ROOT / "runs" / f"{name}-transductive" / "rounds.csv"
    for r in range(1, args.rounds + 1):
        key = f"loop_{r}"
        if key not in timings and args.report_only:
            break
        if key not in timings:
            cmd = [sys.executable, "-m", "prover", "iterate", "--config", args.config, "--target", cfg.target,
                   "--name", name, "--rounds", str(r), "--quiet"]
            proc = subprocess.Popen(cmd, cwd=ROOT)
            with CpuMeter(proc.pid) as meter:
                if proc.wait(timeout=6 * 3600):
                    raise SystemExit(f"error: {' '.join(cmd)} exited {proc.returncode}")
            timings[key] = meter.seconds
            save(args, timings)
        rows = list(csv.DictReader(rows_path.open())) if rows_path.exists() else []
        if len(rows) < r:  # stopped early (stop_after_stale): no more rounds to run
            break
    rows = list(csv.DictReader(rows_path.open()))
    spent, out = 0.0, []
    for row in rows:
        spent += timings.get(f"loop_{int(row['round']) + 1}", 0.0)
        out.append({"round": int(row["round"]), "proved": int(row["valid_proved"]), "cpu": spent})
    return out


def target_problems(cfg) -> list:
    """The target's problems, as the loop loads them (a malformed file: one line, skipped)."""
    from prover.backends import load_problems
    return [p for spec in cfg.pool
            for p in load_problems(cfg.backend, spec.get("problems"), split=spec.get("split"),
                                   on_error=lambda path, m: print(f"skipped: {m}", file=sys.stderr))]


def search_arm(args, cfg, problems: list, budget_cpu: float, timings: dict) -> list[dict]:
    """Plain search of the unsolved target problems, budgets growing, until ``budget_cpu``."""
    from prover.db import ProofDB
    from prover.loop.selection import BudgetPolicy
    from prover.policy import PolicySpec
    from prover.search import SearchConfig
    from prover.search.runner import run_search
    sources = [s for s in cfg.decode.get("sources", ["menu", "templates"]) if s not in LEARNING_SOURCES]
    policy = PolicySpec(sources=tuple(sources))
    budget = BudgetPolicy(**cfg.budget)  # the preset's budgets, with the loop's defaults
    base, growth = budget.base, budget.growth
    search = dict(cfg.search)
    out, spent, r = [], 0.0, 0
    with ProofDB(Path(args.out) / "search.db") as db:
        while spent < budget_cpu:
            key = f"search_{r}"
            expansions = int(base * growth ** r)
            if key not in timings and args.report_only:
                break
            if key not in timings:
                unsolved = [p for p in problems if p.key not in db.accepted_problems()]
                if not unsolved:
                    break
                with CpuMeter() as meter:  # this process, its workers and their provers
                    run_search(unsolved, db, backend=cfg.backend, spec=policy,
                               cfg=SearchConfig(**{**search, "max_expansions": expansions}), workers=cfg.workers,
                               round=r, label="search", progress=False, desc=f"search round {r}")
                timings[key] = meter.seconds
                save(args, timings)
            spent += timings[key]
            out.append({"round": r, "proved": len(db.accepted_problems(max_round=r) & {p.key for p in problems}),
                        "cpu": spent, "expansions": expansions})
            r += 1
    return out


def save(args, timings: dict) -> None:
    (Path(args.out) / "timings.json").write_text(json.dumps(timings, indent=1))


def report(args, loop: list[dict], search: list[dict], size: int) -> None:
    out = Path(args.out)
    lines = [f"# Transductive loop vs plain search at equal CPU time ({time.strftime('%Y-%m-%d')})", "",
             f"Target: `{args.target}` ({size} problems), preset `{args.config}`. CPU seconds: user + system time "
             f"of the whole process tree (training, self-play, search workers, provers), read from /proc.", "",
             "| round | loop proved (cumulative) | loop CPU s | search proved (cumulative) | search CPU s | "
             "search expansions |", "|---|---|---|---|---|---|"]
    for i in range(max(len(loop), len(search))):
        a = loop[i] if i < len(loop) else {}
        b = search[i] if i < len(search) else {}
        cpu_a = f"{a['cpu']:.0f}" if a else ""
        cpu_b = f"{b['cpu']:.0f}" if b else ""
        lines.append(f"| {i} | {a.get('proved', '')} | {cpu_a} | {b.get('proved', '')} | {cpu_b} | "
                     f"{b.get('expansions', '')} |")
    (out / "transductive.md").write_text("\n".join(lines) + "\n")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    for rows, label, style in ((loop, "loop (search + learning)", "o-"), (search, "plain search", "s--")):
        ax.plot([0] + [r["cpu"] / 3600 for r in rows], [0] + [r["proved"] for r in rows], style, label=label)
    ax.set_xlabel("CPU hours")
    ax.set_ylabel(f"target problems proved (of {size})")
    ax.set_title("transductive: the loop vs plain search")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "transductive.png", dpi=120)
    print("\n".join(lines))


def main() -> int:
    from prover.loop.config import IterateConfig
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="data/configs/target.json")
    ap.add_argument("--target", default=None, help="default: the preset's target")
    ap.add_argument("--out", required=True)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--report-only", action="store_true",
                    help="run nothing: the table and the plot of the rounds finished so far")
    args = ap.parse_args()
    cfg = IterateConfig.load(ROOT / args.config, target=args.target)
    if not cfg.transductive:
        print(f"error: {args.config} has no target: pass --target SPLIT|DIR", file=sys.stderr)
        return 2
    args.target = cfg.target
    Path(args.out).mkdir(parents=True, exist_ok=True)
    path = Path(args.out) / "timings.json"
    timings = json.loads(path.read_text()) if path.exists() else {}
    loop = loop_arm(args, cfg, timings)
    problems = target_problems(cfg)
    search = search_arm(args, cfg, problems, loop[-1]["cpu"] if loop else 0.0, timings)
    report(args, loop, search, len(problems))
    return 0


if __name__ == "__main__":
    sys.exit(main())
