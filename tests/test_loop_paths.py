"""Loop paths the default preset takes and the tiny preset skips (issue #37): the bootstrap seed
search of the pool (``bootstrap_menu_expansions``, ``bootstrap_policy``), the ``max_corpus_pairs``
sample of round 0's corpus, and the pool of round 2 with self-play (kept conjectures join it,
retired ones leave it). The real experiment on real Coq and a real SQLite database, with a real
(one-step) model, on two pool problems: the settings come from data/configs/default.json, only
the sizes are made small."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from prover import backends
from prover.check import Verdict
from prover.db import ProofDB
from prover.env import Goal, Hyp
from prover.loop.iterate import Experiment, IterateConfig
from prover.backends import load_problems
from prover.search.tree import SearchResult
from prover.selfplay import conjecture as C
from tests.conftest import write

REPO = Path(__file__).resolve().parent.parent
DEFAULT = json.loads((REPO / "data" / "configs" / "default.json").read_text())
CORPUS_PAIRS, MAX_CORPUS_PAIRS = 40, 12
# a one-step model: what the loop needs of it here is that it exists and decodes
TINY_TRAIN = {"model": {"architecture": "llama", "n_layer": 1, "n_head": 1, "d_model": 16, "context": 128,
                        "vocab_size": 300, "tokenizer_examples": 200},
              "steps": 1, "batch_size": 4, "warmup": 0, "log_every": 1, "eval_every": 0, "save_every": 0,
              "max_len": 128, "holdout": 0, "eval_examples": 0, "eval_decode": 0, "eval_k": 1,
              "max_new_tokens": 4, "threads": 1}


def _problems(root: Path) -> Path:
    d = root / "problems"
    # false (f 2 = 3): no candidate closes the root, so every one is tried there, the hypothesis
    # templates of menu+hyps (rewrite h, apply h...) among them
    write(d / "valid" / "with_hyp.v", """
        Require Import Arith.
        Theorem with_hyp (f : nat -> nat) (h : forall n : nat, f n = n + 1) : f 2 = 4.
        Proof.
        Admitted.
        """)
    write(d / "valid" / "easy.v", """
        Require Import Arith.
        Theorem easy (n : nat) : n + 0 = n.
        Proof.
        Admitted.
        """)
    write(d / "test" / "held.v", """
        Require Import Arith.
        Theorem held (a : nat) : 0 + a = a.
        Proof.
        Admitted.
        """)
    return d


def _corpus(root: Path) -> Path:
    c = root / "corpus"
    c.mkdir()
    with (c / "train.jsonl").open("w") as f:
        for i in range(CORPUS_PAIRS):
            f.write(json.dumps({"goals": f"n : nat\n⊢ n + {i} = {i} + n", "tactic": "lia.", "file": "Corpus.v",
                                "theorem": f"corpus_{i}", "step": 0, "split": "train"}) + "\n")
    return c


def _config(root: Path, name: str, **overrides) -> IterateConfig:
    d = root / "problems"
    cfg = {**DEFAULT, "name": name, "workers": 1, "pool": [{"problems": str(d), "split": "valid"}],
           "eval_problems": str(d), "eval_split": "test", "eval_expansions": 1, "corpus": str(root / "corpus"),
           "train_initial": TINY_TRAIN, "train_finetune": TINY_TRAIN, **overrides}
    path = root / f"{name}.json"
    path.write_text(json.dumps(cfg))
    return IterateConfig.load(path)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, coq_available):
    """The default preset's setup on two pool problems: the menu baseline, the bootstrap seed
    search (the preset's own bootstrap settings) and round 0's training set and model, with a
    corpus larger than ``max_corpus_pairs``."""
    root = tmp_path_factory.mktemp("loop")
    _problems(root)
    _corpus(root)
    cfg = _config(root, "seeded", rounds=0, max_corpus_pairs=MAX_CORPUS_PAIRS)
    exp = Experiment(cfg, root=root / "runs", progress=False)
    try:
        assert exp.run() == []  # rounds 0: the setup steps alone
        pool, evalp = exp.load_sets()
        tinfo = exp.train_round(0, {p.key for p in pool}, {p.key for p in evalp})
    finally:
        exp.close()
    return {"root": root, "cfg": cfg, "dir": exp.dir, "pool": pool, "evalp": evalp, "train": tinfo}


def test_bootstrap_seed_search_uses_the_presets_policy_and_budget(seeded):
    """Before round 0, every pool problem gets a seed search under label ``menu`` with the preset's
    ``bootstrap_policy`` (menu+hyps: the hypothesis templates are tried) at its
    ``bootstrap_menu_expansions``; its proofs are accepted, and a resumed run does not redo it."""
    assert (DEFAULT["bootstrap_menu_expansions"], DEFAULT["bootstrap_policy"]) == (2, "menu+hyps")
    pool_keys = {p.key for p in seeded["pool"]}
    with ProofDB(seeded["dir"] / "proofs.db", create=False) as db:
        seeds = db.attempts_of(["menu"], round=0)
        assert sorted(a["problem"] for a in seeds) == sorted(pool_keys)
        for a in seeds:
            budget = a["budget"] if isinstance(a["budget"], dict) else json.loads(a["budget"])
            assert budget["max_expansions"] == DEFAULT["bootstrap_menu_expansions"]
            assert 1 <= a["expansions"] <= DEFAULT["bootstrap_menu_expansions"]
        sources = {r["source"] for r in db.query(
            f"select distinct source from edges where attempt_id in ({', '.join(str(a['id']) for a in seeds)})")}
        assert "templates" in sources, f"the seed search used only {sources}: not {DEFAULT['bootstrap_policy']}"
        assert "valid/easy" in db.accepted_problems("menu", 0)
        before = db.query("select id from attempts order by id")
    state = json.loads((seeded["dir"] / "state.json").read_text())
    assert "bootstrap" in state["done"]
    again = Experiment(seeded["cfg"], root=seeded["root"] / "runs", progress=False)
    try:
        again.run()
        assert again.db.query("select id from attempts order by id") == before
    finally:
        again.close()


def test_max_corpus_pairs_caps_the_round_0_corpus(seeded):
    """Round 0 trains on a sample of ``max_corpus_pairs`` distinct corpus pairs (of 40), plus the
    seed search's proof pairs."""
    data = [json.loads(line) for line in (seeded["dir"] / "data" / "round_0.jsonl").read_text().splitlines()]
    corpus = [p for p in data if "source" not in p]
    everything = {(json.loads(line)["goals"], "lia.")
                  for line in (seeded["root"] / "corpus" / "train.jsonl").read_text().splitlines()}
    kept = {(p["goals"], p["tactic"]) for p in corpus}
    assert len(corpus) == len(kept) == MAX_CORPUS_PAIRS and kept < everything
    assert seeded["train"]["sources"]["corpus"] == MAX_CORPUS_PAIRS
    proofs = [p for p in data if p.get("source") == "proof"]
    assert proofs and {p["problem"] for p in proofs} <= {p.key for p in seeded["pool"]}


def test_kept_conjectures_join_round_two_and_retired_ones_do_not(seeded, tmp_path):
    """Round 2 of a self-play run whose rounds 0 and 1 are done (state and database as a real run
    leaves them): before its search, the kept conjecture the pool searches of two rounds did not
    prove is retired, the one since proved is marked proved, and the one kept in round 1 joins
    the training pool, searched by round 2's model beside the pool problems."""
    root = seeded["root"]
    model = seeded["train"]["model"]
    cfg = _config(root, "selfplay", rounds=3, bootstrap_menu_expansions=0,
                  selfplay={"enabled": True, "hindsight": False, "conjectures": False, "retire_after": 2},
                  decode={"k": 1, "mode": "beam", "max_new_tokens": 4}, budget={"base": 1, "max_budget": 1})
    run_dir = root / "runs" / "selfplay"
    run_dir.mkdir(parents=True)
    pool = load_problems("coq", root / "problems", split="valid")
    parents = {p.key: p for p in pool}
    nat = Hyp(("a",), "nat")
    with ProofDB(run_dir / "proofs.db") as db:
        old = C.Candidate("valid/easy", "perturb_const", Goal((nat,), "a + 1 = a"))
        done = C.Candidate("valid/easy", "drop_hyp", Goal((nat,), "a + 0 = a"))
        new = C.Candidate("valid/easy", "perturb_const", Goal((nat,), "a + 2 = a"))
        coq = backends.get("coq")
        C.propose(db, [old, done], coq, 0, parents, set(parents), set(), set())
        C.propose(db, [new], coq, 1, parents, set(parents), set(), set())
        keys = {name: f"{C.SPLIT}/{C.goal_key(c.goal.text())}" for name, c in
                (("old", old), ("done", done), ("new", new))}
        for k in keys.values():
            db.set_conjecture(k, status="kept")
        run = db.start_run({"command": "earlier rounds"})
        for r in (0, 1):  # the pool searches of rounds 0 and 1 tried the old one and failed
            db.record_attempt(SearchResult(keys['old'], "budget", None, 1, 0.1), run, r, "model",
                              {"max_expansions": 1}, None)
        db.record_attempt(SearchResult(keys['done'], "proved", ["lia."], 1, 0.1, steps=[("a : nat\n⊢ a + 0 = a", "lia.")]),
                          run, 1, "model", {"max_expansions": 1}, Verdict(True))
    train = {"train_seconds": 0.0, "training_pairs": 0, "model": model, "sources": {}}
    search = {"seconds": 0.0, "expansions": 0, "eps": 0.0, "new": 0, "budget_unsolved": 0, "budget_solved": 0}
    steps = {"baseline": {"seconds": 0.0}, "r2.train": train, "r2.eval": {"seconds": 0.0}}
    for r in (0, 1):
        steps.update({f"r{r}.train": train, f"r{r}.search": search, f"r{r}.eval": {"seconds": 0.0}})
    (run_dir / "state.json").write_text(json.dumps({"done": steps}))
    exp = Experiment(cfg, root=root / "runs", progress=False)
    try:
        rows = exp.run()
        searched = {a["problem"] for a in exp.db.attempts_of(["model"], round=2)}
        status = {r["key"]: r["status"] for r in exp.db.conjectures()}
    finally:
        exp.close()
    assert [r["round"] for r in rows] == [0, 1, 2]
    assert status == {keys['old']: "retired", keys['done']: "proved", keys['new']: "kept"}
    assert keys['new'] in searched, "a kept conjecture did not join round 2's pool"
    assert keys['old'] not in searched, "a retired conjecture was searched in round 2"
    assert keys['done'] not in searched
    assert set(parents) <= searched  # the pool itself, beside it
