"""The learner's ablation on miniF2F test (issue #13): one table, same seeds, same budget.

Each arm is one ``prover eval`` run into its own database under ``--out`` (resumable: a
re-run skips finished attempts), so the arms differ only in the policy and node scorer:

    menu                 the fixed menu
    menu+templates       the menu, then tactics naming the state's hypotheses
    +model ranking       a trained model ranks menu + templates and generates k tactics (beam)
    +retrieval           ... and offers the tactics of the most similar corpus states
    +sampling            ... with nucleus sampling instead of beam search
    +value               ... and a learned value in the node scorer's slot
    +macros              ... and the training proofs' sub-proofs as one tactic each (everything)
    menu+templates+macros  the macros without a model
    model+menu+templates+macros  the presets' policy: model ranking and beam, no retrieval, value or sampling
    +fixed prior         everything (+macros), the model's scores mixed with the menu's fixed order (weight 1)
    model+menu+templates+macros+fixed prior  the presets' policy with that mixing
    menu+templates+macros8  the macros without a model, at most 8 per state instead of 4
    ...+widen            the same policies, and a tree that dies with budget left widens its nodes
                         (16 new candidates each: model samples, the macros' next page)
    ...+repair           the presets' policy, and a generated tactic naming hypotheses the state
                         lacks is also tried with the state's names (2 variants at most)
    ...+novel            and the model's k tactics are the k best that no source offers (of 2k)

The value is trained (``prover value``) on the trees of a menu+templates search of the
*valid* split (never test), or with ``--value-db`` on a run's own database (its training
trees; ``prover value`` never reads evaluation labels or test problems), with the open nodes
of unsolved trees as failed ones. Writes ``table.md`` and ``ablation.json`` under ``--out``.

    python bench/ablation.py --model runs/medium/models/round_1 --corpus runs/default/corpus
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def arms(model: str, corpus: str, value: str, retrieval_db: str | None = None) -> list[tuple[str, list[str]]]:
    m = ["--policy", "model", "--model", model, "--with-menu", "--with-hyps"]
    r = m + ["--with-retrieval", "--retrieval-corpus", corpus] + (["--retrieval-db", retrieval_db] if retrieval_db else [])
    s = r + ["--sample", "--top-p", "0.95"]
    return [("menu", ["--policy", "menu"]),
            ("menu+templates", ["--policy", "menu+hyps"]),
            ("+model ranking", m),
            ("+retrieval", r),
            ("+sampling", s),
            ("+value", s + ["--node-scorer", "value", "--value-model", value]),
            ("+macros", s + ["--node-scorer", "value", "--value-model", value, "--with-macros"]),
            ("menu+templates+macros", ["--policy", "menu+hyps", "--with-macros"]
             + (["--retrieval-db", retrieval_db] if retrieval_db else [])),
            ("model+menu+templates+macros", m + ["--with-macros"]
             + (["--retrieval-db", retrieval_db] if retrieval_db else [])),
            ("+fixed prior", s + ["--node-scorer", "value", "--value-model", value, "--with-macros",
                                  "--fixed-weight", "1"]),
            ("model+menu+templates+macros+fixed prior", m + ["--with-macros", "--fixed-weight", "1"]
             + (["--retrieval-db", retrieval_db] if retrieval_db else [])),
            ("menu+templates+macros8", ["--policy", "menu+hyps", "--with-macros", "--macro-limit", "8"]
             + (["--retrieval-db", retrieval_db] if retrieval_db else [])),
            ("model+menu+templates+macros+fixed prior+widen", m + ["--with-macros", "--fixed-weight", "1",
                                                                   "--widen", "16"]
             + (["--retrieval-db", retrieval_db] if retrieval_db else [])),
            ("menu+templates+macros+widen", ["--policy", "menu+hyps", "--with-macros", "--widen", "16"]
             + (["--retrieval-db", retrieval_db] if retrieval_db else [])),
            ("model+menu+templates+macros+fixed prior+repair", m + ["--with-macros", "--fixed-weight", "1",
                                                                    "--repair-names", "2"]
             + (["--retrieval-db", retrieval_db] if retrieval_db else [])),
            ("model+menu+templates+macros+fixed prior+repair+novel", m + ["--with-macros", "--fixed-weight", "1",
                                                                          "--repair-names", "2", "--novel"]
             + (["--retrieval-db", retrieval_db] if retrieval_db else []))]


def prover(*args: str) -> float:
    t0 = time.time()
    subprocess.run([sys.executable, "-m", "prover.cli", *args], check=True, cwd=ROOT)
    return time.time() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--corpus", default="runs/default/corpus")
    ap.add_argument("--out", default="runs/ablation")
    ap.add_argument("--split", default="test")
    ap.add_argument("--expansions", type=int, default=8)
    ap.add_argument("--value-db", default=None, help="train the value on this run database's training trees")
    ap.add_argument("--retrieval-db", default=None,
                    help="retrieval also indexes this run database's accepted training proofs and hindsight lemmas")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=1.0)
    ap.add_argument("--max-seconds", type=float, default=40.0)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--problems", default=None, help="problem directory (default: miniF2F of the backend)")
    ap.add_argument("--only", nargs="*", default=None, help="arm names to run, in this order (default: all)")
    args = ap.parse_args()
    from prover.db import ProofDB

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    common = ["--split", args.split, "--expansions", str(args.expansions), "--workers", str(args.workers),
              "--timeout", str(args.timeout), "--max-seconds", str(args.max_seconds)]
    if args.limit:
        common += ["--limit", str(args.limit)]
    if args.problems:
        common += ["--problems", args.problems]
    value = out / "value.npz"
    results = json.loads((out / "ablation.json").read_text()) if (out / "ablation.json").exists() else {}
    all_arms = arms(args.model, args.corpus, str(value), args.retrieval_db)
    names = [n for n, _ in all_arms]
    for bad in set(args.only or ()) - set(names):
        sys.exit(f"error: --only {bad!r}: no such arm (arms: {', '.join(names)})")
    order = [names.index(n) for n in args.only] if args.only is not None else range(len(all_arms))
    for i in order:  # in --only's order: the arms that matter most can run first
        name, flags = all_arms[i]
        if "--value-model" in flags and not value.exists():
            vdb = Path(args.value_db) if args.value_db else out / "valid-trees.db"
            if not args.value_db:
                prover("eval", "--db", str(vdb), "--policy", "menu+hyps", "--label", "valid-trees",
                       *[c if c != args.split else "valid" for c in common])
            prover("value", "--db", str(vdb), "--out", str(value), "--deny-split", args.split, "--open-unsolved")
        db = out / f"arm{i}.db"
        label = f"eval:arm{i}"  # an evaluation label: nothing learns from these test trees
        seconds = prover("eval", "--db", str(db), "--label", label, *flags, *common)
        with ProofDB(db) as d:
            proved = len(d.accepted_problems(policy=label))
            rows = d.query("SELECT count(*) AS n, sum(expansions) AS e, sum(seconds) AS s "
                           "FROM attempts WHERE policy = ?", (label,))[0]
        prev = results.get(name, {})
        results[name] = {"proved": proved, "attempts": rows["n"], "expansions": rows["e"],
                         "search_seconds": round(rows["s"] or 0, 1),
                         "wall_seconds": round(seconds + prev.get("wall_seconds", 0) if prev.get("attempts") != rows["n"]
                                               else prev.get("wall_seconds", seconds), 1),
                         "flags": " ".join(flags)}
        (out / "ablation.json").write_text(json.dumps(results, indent=1))
    lines = [f"| arm | {args.split} proved | attempts | expansions | search s |", "|---|---|---|---|---|"]
    for name, r in sorted(results.items(), key=lambda kv: names.index(kv[0]) if kv[0] in names else len(names)):
        lines.append(f"| {name} | {r['proved']} | {r['attempts']} | {r['expansions']} | {r['search_seconds']} |")
    (out / "table.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
