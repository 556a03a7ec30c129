"""Cheat attempts against the Coq pipeline (issue #16), and the filter's false refusals.

Generates N sentences from the tactic grammar mixed with dangerous vernacular, attribute and
comment tokens (the vocabulary of tests/test_cheat_properties.py, seeded), sends those the
cheat filter lets through to a real coqtop on a false goal (nothing may finish) and on a true
goal with an existential (every finish must be accepted by a fresh ``prover check``), and
reports: attempts, refused by the filter, reaching Coq, finished, accepted by the checker.
Then the false-refusal rate: the share of a traced corpus's tactics the filter refuses (from
the tracer's own count in ``summary.json``).

    python bench/bench_cheats.py [--attempts 1000] [--corpus runs/default/corpus]
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def sentences(n: int, seed: int):
    from tests.test_cheat_properties import DANGER, SEPARATORS, TACTICS
    rng = random.Random(seed)
    for _ in range(n):
        pieces = [rng.choice(TACTICS if rng.random() < 0.5 else DANGER) for _ in range(rng.randint(1, 4))]
        yield "".join(p + rng.choice(SEPARATORS) for p in pieces).strip()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--attempts", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--corpus", default=str(ROOT / "runs" / "default" / "corpus"))
    args = ap.parse_args(argv)
    import tempfile

    from coq_env.cheat import CheatError, check_tactic
    from coq_env.problems import parse_file
    from prover import backends
    from prover.check import check_proof
    from prover.env import NewState, ProofFinished
    with tempfile.TemporaryDirectory() as tmp:
        false_goal = Path(tmp) / "f.v"
        false_goal.write_text("Theorem f : forall n : nat, n = S n.\nProof.\nAdmitted.\n")
        evars = Path(tmp) / "e.v"
        evars.write_text("Theorem e : exists n : nat, n = n /\\ True.\nProof.\nAdmitted.\n")
        problems = [parse_file(false_goal), parse_file(evars)]
        counts = {"attempts": 0, "refused": 0, "reached_coq": 0, "finished_false_goal": 0,
                  "finished_true_goal": 0, "accepted_by_checker": 0, "false_goal_accepted": 0}
        env = backends.get("coq").make_env(timeout=2)
        try:
            texts = list(sentences(args.attempts, args.seed))
            for k, text in enumerate(texts):
                counts["attempts"] += 1
                try:
                    check_tactic(text)
                except CheatError:
                    counts["refused"] += 1
                    continue
                counts["reached_coq"] += 1
                for p in problems:
                    root = env.open(p)
                    out = env.apply(root, text)
                    if isinstance(out, NewState):  # one more step: the next sentence, as a search would
                        nxt = texts[(k + 1) % len(texts)]
                        try:
                            check_tactic(nxt)
                            out = env.apply(out.state, nxt)
                        except CheatError:
                            pass
                    if isinstance(out, ProofFinished):
                        counts["finished_false_goal" if p is problems[0] else "finished_true_goal"] += 1
                        if check_proof(p, list(out.proof)).accepted:
                            counts["accepted_by_checker"] += 1
                            if p is problems[0]:
                                counts["false_goal_accepted"] += 1
        finally:
            env.close()
    print(json.dumps(counts))
    ok = counts["finished_false_goal"] == 0 and counts["false_goal_accepted"] == 0 \
        and counts["accepted_by_checker"] == counts["finished_true_goal"]
    print(f"{counts['attempts']} generated attempts, {counts['refused']} refused by the filter, "
          f"{counts['reached_coq']} reached Coq; false goal finished {counts['finished_false_goal']} times; "
          f"the true goal finished {counts['finished_true_goal']} times, all accepted by the checker: "
          f"{'yes' if ok else 'NO'}")
    summary = Path(args.corpus) / "summary.json"
    if summary.exists():
        s = json.loads(summary.read_text())
        rejected = s["pairs"].get("rejected_tactics", {})
        kept = s["pairs"]["train"] + s["pairs"]["heldout"]
        n = sum(rejected.values())
        print(f"false refusals on the traced corpus {args.corpus}: {n} of {n + kept} tactics "
              f"({100 * n / max(1, n + kept):.2f}%): " + "; ".join(f"{v} x {k}" for k, v in rejected.items()))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
