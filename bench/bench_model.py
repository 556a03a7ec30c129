"""Benchmark the tactic model on this machine: speed, and held-out exact match against the menu.

Speed: training tokens per second (forward + backward), and sampling throughput (one round
of k samples a state for a batch of states: sequences/s, and the valid distinct
candidates/s among them), for the model under test (``--model``) or, without one (or with ``--speed-default``),
a freshly initialised model of the default config (it rarely emits end of sequence, so
nearly every sample runs to ``--max-new-tokens``: a worst case).

Exact match: on a held-out JSONL of (goals, tactic), how often the true next tactic,
normalised with ``coq_env.cheat.normalise``, is the first proposal (top-1) or among the k
proposals (top-k), for the model and for the fixed menu (``MenuPolicy("coq")``).

    .venv/bin/python bench/bench_model.py --model runs/model --heldout runs/corpus/heldout.jsonl
    .venv/bin/python bench/bench_model.py     # runs/corpus if traced, else synthetic data

Menu ranking: on the examples whose true tactic is a menu tactic, the rank of the true
tactic when the model orders the menu by its log-probability (the ``menu: true`` policy of
the search) against the menu's fixed order: top-1, top-3 and mean reciprocal rank. With
``--proofs-db runs/NAME/proofs.db`` the examples are also taken from the accepted proofs
of the evaluation split (``test/``) in that database, which no training set ever holds.

Without ``--model`` a tiny model is trained first (data/configs/model_tiny.json) on
runs/corpus/train.jsonl, or on synthetic goals when there is no corpus; it says so.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coq_env.cheat import CheatError, normalise  # noqa: E402
from prover.model import TacticModel, load  # noqa: E402
from prover.policy.model import DecodeConfig, ModelPolicy  # noqa: E402
from prover.policy import MenuPolicy, scored_menu  # noqa: E402
from prover.train import TrainConfig, collate, encode_all, read_examples, toy_examples, train  # noqa: E402

CORPUS = ROOT / "runs" / "corpus"


def norm(t: str) -> str:
    try:
        return normalise(t)
    except CheatError:
        return " ".join(t.split())


def exact_match(proposals: list[list[str]], truth: list[str]) -> tuple[float, float]:
    top1 = sum(bool(p) and norm(p[0]) == norm(t) for p, t in zip(proposals, truth))
    topk = sum(norm(t) in {norm(x) for x in p} for p, t in zip(proposals, truth))
    return top1 / len(truth), topk / len(truth)


def menu_ranking(policy: ModelPolicy, examples: list[dict], menu: list[str]) -> dict | None:
    """Rank of the true tactic among ``menu`` ordered by the model and by the fixed menu order,
    over the examples whose true tactic is a menu tactic."""
    index = {norm(t): i for i, t in enumerate(menu)}
    hits = [(ex["goals"], index[norm(ex["tactic"])]) for ex in examples if norm(ex["tactic"]) in index]
    if not hits:
        return None
    spelled = scored_menu("coq", menu)
    model_ranks = []
    for goals, i in hits:
        scores = policy.score([goals], spelled)[0]
        model_ranks.append(1 + sum(sc > scores[i] for sc in scores))
    fixed_ranks = [i + 1 for _, i in hits]

    def stats(ranks):
        return {"top1": sum(r == 1 for r in ranks) / len(ranks), "top3": sum(r <= 3 for r in ranks) / len(ranks),
                "mrr": sum(1 / r for r in ranks) / len(ranks)}
    return {"n": len(hits), "model": stats(model_ranks), "menu": stats(fixed_ranks)}


def proof_examples(db_path: str, prefix: str = "test/") -> list[dict]:
    """(goals, tactic) of every step of the accepted proofs of ``prefix`` problems in a database."""
    import json
    import sqlite3
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    out, seen = [], set()
    for problem, steps in con.execute("select problem, steps from proofs where accepted = 1 and problem like ?",
                                      (prefix + "%",)):
        for goals, tactic in json.loads(steps or "[]"):
            if (goals, tactic) not in seen:
                seen.add((goals, tactic))
                out.append({"goals": goals, "tactic": tactic, "problem": problem})
    con.close()
    return out


def print_ranking(title: str, r: dict | None) -> None:
    if r is None:
        print(f"\nmenu ranking on {title}: no example has a menu tactic as its true tactic")
        return
    print(f"\nmenu ranking on {title} ({r['n']} examples whose true tactic is a menu tactic)")
    print(f"  {'order':<22} {'top-1':>7} {'top-3':>7} {'MRR':>7}")
    for name in ("model", "menu"):
        x = r[name]
        label = "model log-probability" if name == "model" else "fixed menu order"
        print(f"  {label:<22} {x['top1']:7.3f} {x['top3']:7.3f} {x['mrr']:7.3f}")


def train_speed(tm: TacticModel, examples: list[dict], batch: int, reps: int) -> float:
    import torch
    enc, _ = encode_all(tm, examples[:batch * reps], tm.context)
    model = tm.model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5)
    tokens, seconds = 0, 0.0
    for r in range(reps + 1):
        ids, mask, labels = collate(enc[(r * batch) % len(enc):][:batch] or enc[:batch], tm.pad_id)
        t = time.perf_counter()
        model(input_ids=ids, attention_mask=mask, labels=labels).loss.backward()
        opt.step()
        opt.zero_grad()
        if r:  # the first step warms up
            seconds += time.perf_counter() - t
            tokens += int(mask.sum())
    model.eval()
    return tokens / seconds


def sample_speed(policy: ModelPolicy, goals: list[str], k: int) -> tuple[float, float, float]:
    """(sampled sequences/s, valid distinct candidates/s, states/s) for one round of k samples a state."""
    policy.propose_goals(goals[:1], k)  # warm-up
    t = time.perf_counter()
    out = policy.propose_goals(goals, k)
    dt = time.perf_counter() - t
    return len(goals) * k / dt, sum(len(c) for c in out) / dt, len(goals) / dt


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="trained model directory")
    ap.add_argument("--heldout", default=None, help="held-out JSONL (goals, tactic)")
    ap.add_argument("-k", type=int, default=8)
    ap.add_argument("--states", type=int, default=8, help="states per sampling batch")
    ap.add_argument("--limit", type=int, default=200, help="held-out examples for exact match")
    ap.add_argument("--mode", default="beam", choices=["beam", "sample"], help="decoder for exact match")
    ap.add_argument("--max-new-tokens", type=int, default=48)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    ap.add_argument("--proofs-db", default=None,
                    help="a proof database: also rank the menu on the steps of its accepted test proofs")
    ap.add_argument("--speed-default", action="store_true",
                    help="measure speed on a fresh default-config model even with --model")
    args = ap.parse_args(argv)

    import torch
    if args.threads:
        torch.set_num_threads(args.threads)
    corpus = (CORPUS / "train.jsonl").is_file() and (CORPUS / "heldout.jsonl").is_file()
    heldout_path = args.heldout or (str(CORPUS / "heldout.jsonl") if corpus else None)
    heldout = read_examples([heldout_path]) if heldout_path else toy_examples(args.limit, seed=99)
    heldout = heldout[:args.limit]
    print(f"held-out: {heldout_path or 'synthetic goals'} ({len(heldout)} examples)")

    model_dir = args.model
    if model_dir is None:
        model_dir = tempfile.mkdtemp(prefix="bench_model_")
        data = [str(CORPUS / "train.jsonl")] if corpus else toy_examples(400, seed=0)
        cfg = TrainConfig.from_json(ROOT / "data" / "configs" / "model_tiny.json")
        print(f"no --model: training a tiny model ({cfg.steps} steps) on "
              f"{'runs/corpus/train.jsonl' if corpus else 'synthetic goals'} into {model_dir}")
        train(data, model_dir, cfg, progress=False)
    tm = load(model_dir)
    dec = DecodeConfig(k=args.k, mode=args.mode, max_new_tokens=args.max_new_tokens, batch_size=args.states)
    policy = ModelPolicy(tm, dec, device="cpu" if not torch.cuda.is_available() else None)

    # speed: the model under test if given, else (or with --speed-default) a fresh default-config model
    if args.model and not args.speed_default:
        speed_tm, speed_name = tm, f"{args.model}"
    else:
        torch.manual_seed(0)
        default_cfg = TrainConfig.from_json(ROOT / "data" / "configs" / "model_default.json").model
        speed_tm = TacticModel.create(default_cfg, heldout * 4)
        speed_name = "default config, untrained"
    speed_policy = ModelPolicy(speed_tm, DecodeConfig(k=args.k, mode="sample", max_new_tokens=args.max_new_tokens,
                                                      batch_size=args.states, oversample=1, rounds=1))
    goals = [ex["goals"] for ex in heldout[:args.states]]
    tok_s = train_speed(speed_tm, heldout, batch=16, reps=2) if not torch.cuda.is_available() else float("nan")
    seq_s, cand_s, states_s = sample_speed(speed_policy, goals, args.k)
    print(f"\nspeed ({speed_name}: {speed_tm.n_params() / 1e6:.2f}M params, "
          f"{torch.get_num_threads()} CPU threads, device {speed_policy.device})")
    print(f"  {'train tokens/s (fwd+bwd, batch 16)':<40} {tok_s:10.0f}")
    print(f"  {f'sampled sequences/s (k={args.k}, {len(goals)} states)':<40} {seq_s:10.1f}")
    print(f"  {'  of which valid distinct candidates/s':<40} {cand_s:10.1f}")
    print(f"  {'states/s':<40} {states_s:10.2f}")

    truth = [ex["tactic"] for ex in heldout]
    all_goals = [ex["goals"] for ex in heldout]
    t = time.perf_counter()
    model_props = [[c.tactic for c in cs] for cs in policy.propose_goals(all_goals, args.k)]
    dt = time.perf_counter() - t
    menu = MenuPolicy("coq")
    menu_props = [[c.tactic for c in cs] for cs in menu.propose([None] * len(all_goals), args.k)]
    m1, mk = exact_match(model_props, truth)
    u1, uk = exact_match(menu_props, truth)
    print(f"\nheld-out exact match ({len(truth)} examples, k={args.k}; model: {model_dir}, "
          f"{tm.n_params() / 1e6:.2f}M params, {args.mode}, {dt:.1f}s)")
    print(f"  {'policy':<10} {'top-1':>7} {f'top-{args.k}':>7}")
    print(f"  {'model':<10} {m1:7.3f} {mk:7.3f}")
    print(f"  {'menu':<10} {u1:7.3f} {uk:7.3f}")
    print_ranking("the held-out corpus", menu_ranking(policy, heldout, menu.tactics))
    if args.proofs_db:
        ex = proof_examples(args.proofs_db)
        if ex:  # generation on in-domain states: the steps of proofs of problems no model trained on
            gen = [[c.tactic for c in cs] for cs in ModelPolicy(tm, dec, device=policy.device).propose_goals(
                [e["goals"] for e in ex], args.k)]
            fixed = [[c.tactic for c in cs] for cs in menu.propose([None] * len(ex), args.k)]
            (g1, gk), (f1, fk) = exact_match(gen, [e["tactic"] for e in ex]), exact_match(fixed, [e["tactic"] for e in ex])
            print(f"\nexact match on the test proofs' steps ({len(ex)} steps, k={args.k}, generated only)")
            print(f"  {'model':<10} {g1:7.3f} {gk:7.3f}\n  {'menu':<10} {f1:7.3f} {fk:7.3f}")
        print_ranking(f"the test proofs of {args.proofs_db} ({len(ex)} steps)", menu_ranking(policy, ex, menu.tactics))
    return 0


if __name__ == "__main__":
    sys.exit(main())
