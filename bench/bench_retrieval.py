"""Benchmark the retrieval source against the menu (and their union) on steps no measured
policy produced: held-out library files of the traced corpus, and, with ``--proofs-db``, the
steps of the evaluation split's accepted proofs in a run's database (labelled in-domain: those
proofs were found by the menu, the templates and the models, so they favour them).

Reports top-1 / top-8 exact match (normalised tactics) of retrieval, the menu, the menu and
templates, with ``--model`` the model's own generation, and the union of them in that order; retrieval latency per state; index size
and build time. The index holds the corpus's train split only (and never a test proof).

    python bench/bench_retrieval.py [--corpus runs/default/corpus] [--proofs-db runs/NAME/proofs.db]
                                    [--model runs/NAME/models/round_R]
"""
from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_model import exact_match, proof_examples  # noqa: E402
from prover import backends  # noqa: E402
from prover.corpus import load_pairs  # noqa: E402
from prover.env import State, parse_goals_text  # noqa: E402
from prover.policy.menu import MenuSource  # noqa: E402
from prover.policy.retrieval import RetrievalSource  # noqa: E402
from prover.policy.templates import TemplateSource  # noqa: E402


def generate(model: str, states: list, k: int) -> list[list[str]]:
    """The model's own k tactics per state (beam search, no menu, no templates)."""
    from prover.policy.spec import PolicySpec, build_policy
    policy = build_policy(PolicySpec(sources=(), generator="model", scorer="model", k=k, model=model), "coq")
    coq = backends.get("coq")
    out = []
    for s in states:
        out.append([coq.normalise(c.tactic) for c in policy.propose([s], k)[0]][:k] if s else [])
    return out


def proposals(src: RetrievalSource, examples: list[dict], k: int, model: str | None = None) -> tuple[dict, float]:
    coq = backends.get("coq")
    menu, hyps = MenuSource(coq), TemplateSource(coq)
    out = {"retrieval": [], "menu": [], "menu+templates": [], "union": []}
    if model:
        out["generation"] = []
    t0 = time.perf_counter()
    states = []
    for ex in examples:
        try:
            states.append(State(parse_goals_text(ex["goals"])))
        except ValueError:
            states.append(None)
    retrieved = [src.candidates(s) if s else [] for s in states]
    latency = (time.perf_counter() - t0) / max(1, len(examples))
    generated = generate(model, states, k) if model else [[] for _ in states]
    for s, r, g in zip(states, retrieved, generated):
        m = menu.candidates(s)
        mt = list(dict.fromkeys(m + (hyps.candidates(s) if s else [])))
        out["retrieval"].append(r[:k])
        out["menu"].append(m[:k])
        out["menu+templates"].append(mt[:k])
        if model:
            out["generation"].append(g)
        out["union"].append(list(dict.fromkeys(r[:k] + g[:k] + mt[:k])))
    return out, latency


def report(title: str, props: dict, truth: list[str], k: int) -> None:
    print(f"\n{title} ({len(truth)} steps)")
    print(f"  {'candidates':<16} {'top-1':>7} {f'top-{k}':>7}  (union: retrieval's {k}, the model's {k} "
          f"when measured, then menu+templates' {k})")
    for name, p in props.items():
        t1, tk = exact_match(p, truth)
        print(f"  {name:<16} {t1:7.3f} {tk:7.3f}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=str(ROOT / "runs" / "default" / "corpus"))
    ap.add_argument("--proofs-db", default=None)
    ap.add_argument("--k", type=int, default=8)
    ap.add_argument("--model", default=None, help="also measure this model's own generation (beam, k tactics)")
    ap.add_argument("--heldout", type=int, default=400, help="held-out library steps measured")
    args = ap.parse_args(argv)
    corpus = Path(args.corpus)
    if not (corpus / "train.jsonl").exists():
        print(f"no traced corpus at {corpus}: run `prover trace --out {corpus}` (or make iterate) first")
        return 1
    tracemalloc.start()
    t0 = time.perf_counter()
    src = RetrievalSource(backends.get("coq"), corpus=str(corpus), m=32, limit=args.k)
    src.index.query(parse_goals_text("⊢ True")[0], 1)  # builds the BM25 index
    build = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"index: {len(src.index)} (state, tactic) pairs from {corpus}/train.jsonl, built in {build:.1f}s, "
          f"peak memory {peak / 2**20:.0f} MiB while loading and building")
    held = load_pairs(corpus, split="heldout")[:args.heldout]
    props, lat = proposals(src, held, args.k, args.model)
    report("held-out library files (never indexed)", props, [e["tactic"] for e in held], args.k)
    print(f"  retrieval latency {1000 * lat:.1f} ms per state")
    if args.proofs_db:
        ex = proof_examples(args.proofs_db)
        if ex:
            props, lat = proposals(src, ex, args.k, args.model)
            report(f"steps of the test proofs in {args.proofs_db} (in-domain: found by the menu, templates "
                   f"and models, so biased towards them)", props, [e["tactic"] for e in ex], args.k)
    return 0


if __name__ == "__main__":
    sys.exit(main())
