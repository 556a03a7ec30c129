"""Benchmark the learned ranker's cost per scored candidate against the fixed scorer's, side by
side in one run, on the goals of miniF2F statements (no prover needed).

The ranker is trained on synthetic labels (which candidate is "good" is a hash): the cost of
scoring does not depend on what the trees taught it, only on the features and the trees' size
(200 boosting rounds, the loop's default). Reports microseconds per candidate for the fixed
scorer (the sources' order) and the ranker, their ratio, the ranker file's size, and what each
source costs to propose at one state.

    python bench/bench_ranker.py [--states 200]
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from prover import backends  # noqa: E402
from prover.env import Goal, Hyp, State  # noqa: E402
from prover.policy.fixed import FixedPolicy  # noqa: E402
from prover.policy.ranker import RankedPolicy, train  # noqa: E402
from prover.policy.sources import make_source  # noqa: E402


def states(n: int) -> list[State]:
    """Root-like goals from miniF2F statements: the binders as hypotheses, the rest as conclusion."""
    import re
    out = []
    for p in backends.get("coq").load_problems(split="valid")[:n]:
        m = re.search(r"(?:Theorem|Lemma)\s+\S+\s*(.*?):\s*(.*)\.\s*$", " ".join(p.statement.split()), re.S)
        if not m:
            continue
        hyps = tuple(Hyp((b[0].strip(),), b[1].strip()) for b in re.findall(r"\((\w+)\s*:\s*([^()]+)\)", m.group(1)))
        out.append(State((Goal(hyps, m.group(2)),)))
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--states", type=int, default=200)
    args = ap.parse_args()
    coq = backends.get("coq")
    names = [n for n in ("menu", "templates", "hints", "cases", "witnesses", "instances", "numerals",
                         "denominators", "compute", "logs") if _has(n)]
    sources = [make_source(n, coq) for n in names]
    policy = FixedPolicy(sources)
    sts = states(args.states)
    per_source = []
    for src in sources:  # what each source costs to propose, per state (no prover call in any of them)
        t0 = time.perf_counter()
        offered = sum(len(src.candidates(s)) for s in sts)
        per_source.append(f"{src.name} {1e6 * (time.perf_counter() - t0) / max(1, len(sts)):.0f} us ({offered})")
    cands = [policy.propose([s])[0] for s in sts]
    groups = []
    for s, cs in zip(sts, cands):
        # label 2: a step of a proof (the binary objective learns label >= 2 against the rest)
        items = [(c.tactic, c.source, 2 * int(hashlib.md5((s.id + c.tactic).encode()).digest()[0] < 40)) for c in cs]
        if any(y for _, _, y in items):
            groups.append({"problem": s.id, "goals": s.goals, "depth": 0, "items": items})
    t0 = time.perf_counter()
    ranker = train(groups, heldout=0.0)
    train_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as d:
        size = ranker.save(Path(d) / "r.json").stat().st_size
    n = sum(len(c) for c in cands)
    t0 = time.perf_counter()
    for s in sts:
        policy.propose([s])
    fixed_s = time.perf_counter() - t0
    ranked = RankedPolicy(policy, "learned", ranker)
    t0 = time.perf_counter()
    for s in sts:
        ranked.propose([s])
    ranked_s = time.perf_counter() - t0
    print(f"ranker: {len(sts)} states, {n} candidates ({n / max(1, len(sts)):.0f}/state; sources {', '.join(names)}); "
          f"trained in {train_s:.1f} s on {len(groups)} nodes, file {size / 1024:.0f} KiB")
    print(f"fixed order {1e6 * fixed_s / n:.1f} us/candidate, learned ranker {1e6 * ranked_s / n:.1f} us/candidate "
          f"(sources included in both): {ranked_s / max(fixed_s, 1e-9):.2f}x the fixed order's time")
    print("per source, to propose at one state (candidates offered in all): " + ", ".join(per_source))
    return 0


def _has(name: str) -> bool:
    try:
        from prover.policy.sources import source_class
        source_class(name)
        return True
    except (ValueError, ImportError, AttributeError):
        return False


if __name__ == "__main__":
    sys.exit(main())
