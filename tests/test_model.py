"""The tactic model on a CPU, fast: train, checkpoint and resume, save and load, sample, CLI."""
from __future__ import annotations

import json
import math
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from prover.env import Goal, Hyp, State
from prover.model import ModelError, load
from prover.policy.model import ModelPolicy, load_policy
from prover.train import TrainConfig, toy_examples, train

TINY = Path(__file__).resolve().parents[1] / "data" / "configs" / "model_tiny.json"
GOALS = ["n : nat\n⊢ n + 0 = n", "⊢ forall x : nat, x + 3 = 3 + x", "P, Q : Prop\nHx : P\n⊢ P \\/ Q"]


def write_jsonl(path: Path, examples) -> Path:
    path.write_text("".join(json.dumps(ex, ensure_ascii=False) + "\n" for ex in examples))
    return path


@pytest.fixture(scope="module")
def tiny_cfg() -> TrainConfig:
    return TrainConfig.from_json(TINY)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_jsonl(tmp_path_factory.mktemp("data") / "train.jsonl", toy_examples(240, seed=1))


@pytest.fixture(scope="module")
def trained(tmp_path_factory, data, tiny_cfg):
    out = tmp_path_factory.mktemp("run") / "model"
    return out, train([str(data)], out, tiny_cfg, progress=False)


def sample_policy(model_dir) -> ModelPolicy:
    return load_policy(model_dir, k=4, mode="sample", max_new_tokens=12, seed=7)


def test_training_lowers_loss_and_writes_outputs(trained, tiny_cfg):
    out, m = trained
    losses = [loss for _, loss in m["history"]["train"]]
    assert len(losses) == tiny_cfg.steps and losses[-1] < losses[0]
    assert m["steps"] == tiny_cfg.steps and m["params"] == 127296  # the tiny llama of TINY
    assert math.isfinite(m["heldout_loss"]) and 0.0 <= m["top1"] <= 1.0 and 0.0 <= m["topk"] <= 1.0
    assert (out / "loss.png").stat().st_size > 1000
    assert json.loads((out / "metrics.json").read_text())["steps"] == tiny_cfg.steps
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step-0000030", "step-0000060"]


def test_save_load_and_resume_give_the_same_samples(trained, data, tiny_cfg, tmp_path):
    out, m = trained
    first = sample_policy(out).propose_goals(GOALS)
    assert sample_policy(out).propose_goals(GOALS) == first  # load + fixed seed: deterministic
    # an interrupted run: only the step-10 checkpoint survives; re-running continues from it
    cut = tmp_path / "cut"
    shutil.copytree(out / "checkpoints", cut / "checkpoints")
    shutil.rmtree(cut / "checkpoints" / "step-0000060")
    m2 = train([str(data)], cut, tiny_cfg, progress=False)
    assert m2["resumed_from"] == 30 and m2["steps"] == tiny_cfg.steps
    assert [s for s, _ in m2["history"]["train"]] == list(range(1, tiny_cfg.steps + 1))
    assert [x for _, x in m2["history"]["train"]] == pytest.approx([x for _, x in m["history"]["train"]], rel=1e-4)
    assert sample_policy(cut).propose_goals(GOALS) == first
    # re-running a finished run trains nothing more
    m3 = train([str(data)], cut, tiny_cfg, progress=False)
    assert m3["resumed_from"] == tiny_cfg.steps and m3["steps"] == tiny_cfg.steps


def test_fine_tuning_keeps_the_tokenizer(trained, data, tiny_cfg, tmp_path):
    out, _ = trained
    m = train([str(data)], tmp_path / "ft", replace(tiny_cfg, steps=3), init=out, progress=False)
    assert m["init"] == str(out) and m["steps"] == 3
    assert (tmp_path / "ft" / "tokenizer.json").read_text() == (out / "tokenizer.json").read_text()


@pytest.mark.parametrize("mode", ["beam", "sample"])
def test_propose_k_distinct_ordered_finite(trained, mode):
    out, _ = trained
    k = 4
    policy = load_policy(out, k=k, mode=mode, max_new_tokens=12)
    assert policy.name == "model" and policy.default_k == k
    states = [State((Goal((Hyp(("n",), "nat"),), "n + 0 = n"),)),
              State((Goal((), "forall x : nat, x + 3 = 3 + x"),)),
              State((Goal((Hyp(("P", "Q"), "Prop"), Hyp(("Hx",), "P")), "P \\/ Q"),))]
    result = policy.propose(states, k)
    assert len(result) == len(states)
    for cands in result:
        texts = [c.tactic for c in cands]
        lps = [c.logprob for c in cands]
        assert len(cands) == k and len(set(texts)) == len(texts)
        assert all(t and t == t.strip() for t in texts)
        assert all(math.isfinite(x) and x <= 0 for x in lps)
        assert lps == sorted(lps, reverse=True)


def test_beam_logprob_is_the_sequence_logprob(trained):
    """A candidate's score equals the teacher-forced sum of its token log-probabilities."""
    import torch
    out, _ = trained
    policy = load_policy(out, k=3, mode="beam", max_new_tokens=12)
    tm = policy.tm
    for goals, cands in zip(GOALS[:2], policy.propose_goals(GOALS[:2])):
        c = cands[0]
        p, t = tm.encode_prompt(goals, 100), tm.encode_target(c.tactic)
        with torch.no_grad():
            lp = torch.log_softmax(tm.model(input_ids=torch.tensor([p + t])).logits[0].float(), -1)
        expected = sum(float(lp[len(p) - 1 + i, tok]) for i, tok in enumerate(t))
        assert c.logprob == pytest.approx(expected, abs=1e-3)


def test_model_ranked_menu(trained):
    """With a menu, every menu tactic is a candidate besides the k generated ones, each scored
    by the model's teacher-forced log-probability, all ordered best first; the generated
    candidates are exactly those of the pure policy."""
    out, _ = trained
    menu = ["lia.", "intros.", "reflexivity.", "auto."]
    pure = load_policy(out, k=3, mode="beam", max_new_tokens=12)
    ranked = load_policy(out, k=3, mode="beam", max_new_tokens=12, menu=menu)
    assert ranked.name == "model+menu" and ranked.default_k == 3
    for goals, cands, base in zip(GOALS[:2], ranked.propose_goals(GOALS[:2]), pure.propose_goals(GOALS[:2])):
        texts = [c.tactic for c in cands]
        lps = [c.logprob for c in cands]
        assert set(menu) <= set(texts) and {c.tactic for c in base} <= set(texts)
        assert len(texts) == len(set(texts)) == len(set(menu) | {c.tactic for c in base})
        assert lps == sorted(lps, reverse=True) and all(math.isfinite(x) and x <= 0 for x in lps)
        scores = dict(zip(menu, ranked.score([goals], menu)[0]))
        tm = ranked.tm
        for t in menu:  # each score is the teacher-forced log-probability of the whole tactic
            import torch
            pr, tt = tm.encode_prompt(goals, tm.context - 16), tm.encode_target(t)
            with torch.no_grad():
                lp = torch.log_softmax(tm.model(input_ids=torch.tensor([pr + tt])).logits[0].float(), -1)
            expected = sum(float(lp[len(pr) - 1 + i, tok]) for i, tok in enumerate(tt))
            assert scores[t] == pytest.approx(expected, abs=1e-3)
            assert scores[t] == pytest.approx(ranked.score([goals], [t])[0][0], abs=1e-3)
        for c in cands:
            if c.tactic in scores:
                assert c.logprob == pytest.approx(max(scores[c.tactic], next(
                    (b.logprob for b in base if b.tactic == c.tactic), -math.inf)), abs=1e-3)
    coq = load_policy(out, k=2, max_new_tokens=8, menu="coq")
    assert "lia." in coq.menu and all(t.endswith(".") for t in coq.menu)  # scored as proofs are stored
    with pytest.raises(ValueError):
        load_policy(out, menu="isabelle")


def test_bad_model_directories(trained, tmp_path):
    out, _ = trained

    def error_of(path) -> str:
        with pytest.raises(ModelError) as e:
            load(path)
        msg = str(e.value)
        assert str(path) in msg and "\n" not in msg
        return msg

    assert "no such" in error_of(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    assert "not a model directory" in error_of(tmp_path / "empty")
    bad = tmp_path / "corrupt"
    shutil.copytree(out, bad, ignore=shutil.ignore_patterns("checkpoints"))
    (bad / "model.safetensors").write_bytes(b"\x00garbage" * 10)
    error_of(bad)
    bad_cfg = tmp_path / "corrupt_config"
    shutil.copytree(out, bad_cfg, ignore=shutil.ignore_patterns("checkpoints"))
    (bad_cfg / "config.json").write_text("{not json")
    error_of(bad_cfg)


def cli(argv) -> int:
    from prover.cli import build_parser
    args = build_parser().parse_args(argv)
    return args.func(args)


def test_cli_train_and_sample_round_trip(tmp_path, capsys):
    data = write_jsonl(tmp_path / "d.jsonl", toy_examples(120, seed=3))
    out = tmp_path / "m"
    assert cli(["train", "--data", str(data), "--out", str(out), "--config", str(TINY),
                "--steps", "4", "--quiet"]) == 0
    assert "trained 4 steps" in capsys.readouterr().out
    assert cli(["sample", "--model", str(out), "--goals", GOALS[0], "-k", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert 1 <= len(lines) <= 3
    assert all(math.isfinite(float(line.split()[0])) for line in lines)

    assert cli(["train", "--data", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "x"),
                "--config", str(TINY)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "nope.jsonl" in err and err.count("\n") == 1
    assert cli(["sample", "--model", str(tmp_path / "nomodel"), "--goals", "⊢ True"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "nomodel" in err and err.count("\n") == 1
    (tmp_path / "bad.jsonl").write_text('{"goals": "⊢ True"}\n')
    assert cli(["train", "--data", str(tmp_path / "bad.jsonl"), "--out", str(tmp_path / "y"),
                "--config", str(TINY)]) == 2
    assert "bad.jsonl:1" in capsys.readouterr().err


def test_model_ranked_menu_search_proves_on_real_coq(trained, env, tmp_path):
    """The model+menu policy drives the best-first search on a real coqtop; the proof it
    finds passes the independent checker, and every tried tactic came with a model score."""
    from coq_env.problems import parse_file
    from prover.check import check_proof
    from prover.search import BestFirstSearch, SearchConfig
    from tests.conftest import write
    problem = parse_file(write(tmp_path / "p" / "deep.v", """
        Require Import Reals.
        Open Scope R_scope.
        Theorem deep (x : R) (n : nat) : x + 0 = x /\\ (n + 0 = n)%nat.
        Proof.
        Admitted.
        """))
    out, _ = trained
    policy = load_policy(out, k=2, max_new_tokens=8, menu="coq")
    res = BestFirstSearch(env, policy, SearchConfig(max_expansions=8, tactic_timeout=5)).run(problem)
    assert res.outcome == "proved" and res.proof
    assert check_proof(problem, res.proof).accepted
    tried = {e.tactic.rstrip(".") for e in res.edges}
    assert "split" in tried and all(math.isfinite(e.logprob) for e in res.edges)


def test_model_scores_the_states_hypothesis_templates(trained):
    """With templates, the tactics naming a state's own hypotheses are candidates too, scored
    by the same model; a state without such hypotheses gets what the menu policy gives."""
    from prover.policy.templates import templates
    out, _ = trained
    menu = ["lia.", "intros."]
    pol = load_policy(out, k=2, mode="beam", max_new_tokens=8, menu=menu, templates="coq")
    plain = load_policy(out, k=2, mode="beam", max_new_tokens=8, menu=menu)
    assert pol.name == "model+menu+hyps"
    rich = State((Goal((Hyp(("f",), "nat -> nat"), Hyp(("H",), "forall x : nat, f x = x")), "f 2 = 2"),))
    bare = State((Goal((), "2 = 2"),))
    [r, b] = pol.propose([rich, bare], 2)
    [pr, pb] = plain.propose([rich, bare], 2)
    assert "rewrite H." in templates(rich, "coq")
    assert {c.tactic for c in r} == {c.tactic for c in pr} | set(templates(rich, "coq"))
    assert [(c.tactic, round(c.logprob, 4)) for c in b] == [(c.tactic, round(c.logprob, 4)) for c in pb]
    lps = [c.logprob for c in r]
    assert lps == sorted(lps, reverse=True) and all(math.isfinite(x) for x in lps)
    [[lp]] = pol.score([rich.text()], ["rewrite H."])
    assert next(c.logprob for c in r if c.tactic == "rewrite H.") == pytest.approx(lp, abs=1e-3) or \
        lp < next(c.logprob for c in r if c.tactic == "rewrite H.")  # generated too: the better score


def test_search_worker_reads_menu_and_templates_from_a_decode_config(trained, coq_available):
    """``"decode": {"menu": true, "templates": true}`` in a preset means this backend's menu and
    templates (what ``prover iterate`` and ``prover eval --with-menu --with-hyps`` pass)."""
    from prover.search import SearchConfig
    from prover.search.runner import SearchWorker
    out, _ = trained
    from prover.policy import model_spec
    w = SearchWorker("coq", model_spec(str(out), {"menu": True, "templates": True, "k": 2, "max_new_tokens": 8}),
                     SearchConfig())
    try:
        assert w.policy.name == "model+menu+hyps"
        assert [(s.name, s.backend.name) for s in w.policy.sources] == [("menu", "coq"), ("templates", "coq")]
        assert "lia." in w.policy.menu
    finally:
        w.close()


def test_fixed_weight_mixes_the_fixed_order_into_the_model_scores(trained):
    """fixed_weight w: each candidate scores model log-probability + w * the fixed scorer's
    log-score of the sources' order (a generated tactic no source offers: the lowest one). A
    large w gives the menu's own order back; w = 0 is the model alone."""
    from prover.policy.fixed import fixed_scores
    out, _ = trained
    menu = ["lia.", "intros.", "reflexivity.", "auto.", "trivial."]
    alone = load_policy(out, k=2, mode="beam", max_new_tokens=12, menu=menu)
    mixed = load_policy(out, k=2, mode="beam", max_new_tokens=12, menu=menu, fixed_weight=0.5)
    heavy = load_policy(out, k=2, mode="beam", max_new_tokens=12, menu=menu, fixed_weight=1000.0)
    prior = {c.tactic: c.logprob for c in fixed_scores([menu])}
    assert list(prior) == menu and prior["lia."] > prior["trivial."]
    for goals, a, m, h in zip(GOALS[:2], alone.propose_goals(GOALS[:2]), mixed.propose_goals(GOALS[:2]),
                              heavy.propose_goals(GOALS[:2])):
        model_lp = {c.tactic: c.logprob for c in a}
        assert {c.tactic for c in m} == set(model_lp)
        for c in m:
            assert c.logprob == pytest.approx(model_lp[c.tactic] + 0.5 * prior.get(c.tactic, min(prior.values())),
                                              abs=1e-6)
        assert [c.logprob for c in m] == sorted((c.logprob for c in m), reverse=True)
        assert [c.tactic for c in h if c.tactic in prior] == menu  # the fixed order dominates
    # the policy of a search state mixes the same way (the sources' groups, not the static menu only)
    state = State((Goal((Hyp(("n",), "nat"),), "n + 0 = n"),))
    [cands] = heavy.propose([state])
    assert [c.tactic for c in cands if c.tactic in prior] == menu


def test_fixed_weight_switch_on_the_command_line_on_real_coq(trained, tmp_path, coq_available):
    """`prover search --policy model --with-menu --fixed-weight W` proves on a real coqtop, and
    each stored edge's score moved by exactly W times the menu's fixed log-score."""
    from prover.cli import main
    from prover.db import ProofDB
    from prover.policy.fixed import fixed_scores, scored_menu
    from tests.conftest import write
    write(tmp_path / "p" / "easy.v", """
        Theorem easy (n : nat) : n + 0 = n.
        Proof.
        Admitted.
        """)
    out, _ = trained
    scores = {}
    for w in ("0", "2"):
        db = tmp_path / f"w{w}.db"
        assert main(["search", "--problems", str(tmp_path / "p"), "--db", str(db), "--workers", "1",
                     "--expansions", "4", "--policy", "model", "--model", str(out), "--k", "2",
                     "--with-menu", "--fixed-weight", w]) == 0
        with ProofDB(db, create=False) as d:
            assert len(d.proofs()) == 1
            scores[w] = {r["tactic"]: r["logprob"] for r in d.query(
                "SELECT tactic, logprob FROM edges WHERE src = (SELECT id FROM nodes WHERE parent IS NULL)")}
    prior = {c.tactic: c.logprob for c in fixed_scores([scored_menu("coq")])}
    shared = [t for t in scores["0"] if t in scores["2"] and t in prior]
    assert shared
    for t in shared:
        assert scores["2"][t] == pytest.approx(scores["0"][t] + 2 * prior[t], abs=1e-4)


def test_widen_samples_what_was_not_tried(trained):
    """A node the search expands again gets fresh nucleus samples (whatever the decoding mode),
    none already tried there, distinct, scored like every candidate; the same page gives the
    same samples, another page others; with fixed_weight they sit at the prior's floor."""
    from prover.policy.fixed import fixed_scores
    out, _ = trained
    menu = ["lia.", "intros.", "reflexivity."]
    policy = load_policy(out, k=4, mode="beam", max_new_tokens=12, menu=menu)
    state = State((Goal((Hyp(("n",), "nat"),), "n + 0 = n"),))
    tried = {c.tactic for c in policy.propose([state])[0]}
    page1 = policy.widen(state, 1, tried)
    assert page1 and not {c.tactic for c in page1} & tried
    assert len({c.tactic for c in page1}) == len(page1) <= 4
    assert all(math.isfinite(c.logprob) and c.logprob <= 0 for c in page1)
    assert [c.logprob for c in page1] == sorted((c.logprob for c in page1), reverse=True)
    assert policy.widen(state, 1, tried) == page1
    assert {c.tactic for c in policy.widen(state, 2, tried)} != {c.tactic for c in page1}
    for c, lp in zip(page1, policy.score([state.text()], [c.tactic for c in page1])[0]):
        assert c.logprob == pytest.approx(lp, abs=1e-4)  # the model's log-probability at temperature 1
    mixed = load_policy(out, k=4, mode="beam", max_new_tokens=12, menu=menu, fixed_weight=2.0)
    floor = min(c.logprob for c in fixed_scores([menu]))
    for a, b in zip(page1, mixed.widen(state, 1, tried)):
        assert b.tactic == a.tactic and b.logprob == pytest.approx(a.logprob + 2.0 * floor, abs=1e-4)


def test_widen_switch_on_the_command_line_on_real_coq(trained, tmp_path, coq_available, capsys):
    """`prover search ... --widen N` on a real coqtop: a false goal's tree dies, then the search
    spends its budget widening (new tactics at its nodes, never one tried there before), the
    run says how many expansions widened, and the attempt's stored config has the setting."""
    from prover.cli import main
    from prover.db import ProofDB
    from tests.conftest import write
    write(tmp_path / "p" / "false_goal.v", """
        Theorem false_goal (n : nat) : n + 1 = n.
        Proof.
        Admitted.
        """)
    out, _ = trained
    edges, widen = {}, {}
    for n in ("0", "4"):
        db = tmp_path / f"w{n}.db"
        assert main(["search", "--problems", str(tmp_path / "p"), "--db", str(db), "--workers", "1",
                     "--expansions", "6", "--policy", "model", "--model", str(out), "--k", "2",
                     "--with-menu", "--widen", n]) == 0
        printed = capsys.readouterr().out
        assert ("expansions widened a dead tree" in printed) == (n == "4")
        with ProofDB(db, create=False) as d:
            [a] = d.query("SELECT id, budget, expansions FROM attempts")
            budget = a["budget"] if isinstance(a["budget"], dict) else json.loads(a["budget"])
            widen[n] = (budget["widen"], a["expansions"])
            edges[n] = [(r["src"], r["tactic"]) for r in d.query(
                "SELECT src, tactic FROM edges WHERE attempt_id = ?", [a["id"]])]
    assert widen["0"][0] == 0 and widen["4"][0] == 4 and widen["4"][1] > widen["0"][1]
    assert set(edges["0"]) < set(edges["4"])
    assert len(edges["4"]) == len(set(edges["4"]))  # no tactic tried twice at one node


def test_novel_generation_keeps_k_tactics_that_no_source_offers(trained):
    """``novel``: the model's k tactics are ones the menu does not already offer (decoded from
    2k), so a state gets menu + k distinct tactics; without it, beam copies of menu tactics
    take some of the k places."""
    out, _ = trained
    menu = ["lia.", "intros.", "reflexivity.", "left.", "symmetry; exact H."]
    plain = load_policy(out, k=3, mode="beam", max_new_tokens=8, menu=menu)
    novel = load_policy(out, k=3, mode="beam", max_new_tokens=8, menu=menu, novel=True)
    sizes = []
    for p, n in zip(plain.propose_goals(GOALS), novel.propose_goals(GOALS)):
        ps, ns = {c.tactic for c in p}, {c.tactic for c in n}
        assert set(menu) <= ns and len(ns) == len(n) <= len(menu) + 3
        sizes.append((len(ps), len(ns)))
    assert all(b >= a for a, b in sizes) and any(b > a for a, b in sizes), sizes
