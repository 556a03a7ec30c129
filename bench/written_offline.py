"""Offline check of the `written` operator on the `long` run's database: statement examples,
a round-5-like fine-tune with them, then statements written for unsolved pool problems, screened."""
import json, random, shutil, time
from pathlib import Path
from prover import backends
from prover.db import ProofDB
from prover.loop.training import with_share
from prover.selfplay import written as W, conjecture as C
from prover.policy.model import load_policy
from prover.train import TrainConfig, train

out = Path("runs/written"); src = ProofDB("runs/long/proofs.db", create=False)
eval_keys = {r["key"] for r in src._query("select key from problems where split='test'")}
ex = W.pairs(src, eval_keys, "coq")
print("statement examples", len(ex), "from", len({e["problem"] for e in ex}), "problems", flush=True)
base = [json.loads(l) for l in open("runs/long/data/round_5.jsonl")]
proof = [p for p in base if p.get("source")]; corpus = [p for p in base if not p.get("source")]
mixed = with_share(proof, ex, 0.1, 5) + corpus
random.Random(5).shuffle(mixed)
(out / "train.jsonl").write_text("".join(json.dumps(p) + "\n" for p in mixed))
cfg = TrainConfig.from_dict(json.load(open("data/configs/long.json"))["train_finetune"])
if not (out / "model" / "metrics.json").exists():
    t = time.time(); train([str(out / "train.jsonl")], out / "model", cfg, init="runs/long/models/round_4", progress=False)
    print("fine-tune s", round(time.time() - t), flush=True)
# parents: unsolved valid problems, their statement goal from the latest attempt
latest = {}
for a in src.attempts_of(["menu", "model"]):
    if a["problem"].startswith("valid/"):
        latest[a["problem"]] = a["id"]
roots = [(k, C.statement_goal(src.tree_rows(i)[1], "coq")) for k, i in sorted(latest.items())]
roots = [(k, g) for k, g in roots if g is not None]
parents = W.frontier(roots, src.accepted_problems(), 20, 5)
policy = load_policy(out / "model", k=4, mode="sample", top_p=0.95, max_new_tokens=160, seed=5)
t = time.time(); cands, counts = W.write(policy, parents, 4, "coq"); print("write s", round(time.time() - t, 1), counts, flush=True)
for c in cands[:12]:
    print(c.parent, "|", c.goal.text().replace("\n", " ; "))
# propose + screen into a scratch database
db_path = out / "scratch.db"
if db_path.exists(): db_path.unlink()
shutil.copy("runs/long/proofs.db", db_path)
db = ProofDB(db_path)
from prover.problems import Problem
parents_p = {}
for k, _ in parents:
    r = db.problem(k); parents_p[k] = Problem(name=r["name"], split=r["split"], backend=r["backend"], header=r["header"], statement=r["statement"], path=r["path"] or "")
fg = set()
for a in db.attempts_of(["menu-baseline", "eval"]):
    _, nodes, _ = db.tree_rows(a["id"]); fg |= {C.normalise(n["goals"]) for n in nodes.values() if n["parent"] is None}
print("propose", C.propose(db, cands, backends.get("coq"), 9, parents_p, set(parents_p), eval_keys, fg), flush=True)
print("screen", C.screen(db, "coq", 1.0, workers=1, progress=False), flush=True)
for r in db.conjectures(round=9):
    print(r["status"], "|", r["goal"].replace("\n", " ; ")[:160], "|", (r["reason"] or "")[:80])
