"""Presets and corpus checks of ``prover iterate`` that need no proof assistant."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from prover.policy import model_spec
from prover.loop.config import ConfigError, IterateConfig
from prover.loop.iterate import Experiment

CONFIGS = Path(__file__).resolve().parent.parent / "data" / "configs"


@pytest.mark.parametrize("name", sorted(p.stem for p in CONFIGS.glob("*.json") if not p.stem.startswith("model")))
def test_presets_load(name, tmp_path):
    if name == "gpu":  # it fine-tunes a pretrained model, which the command line names
        with pytest.raises(ConfigError, match="--checkpoint DIR"):
            IterateConfig.load(CONFIGS / "gpu.json")
    cfg = IterateConfig.load(CONFIGS / f"{name}.json", checkpoint=str(tmp_path) if name == "gpu" else None)
    assert cfg.rounds >= 1
    if cfg.transductive:  # its pool is its target, and it has no evaluation split
        assert cfg.name.endswith("-transductive") and cfg.pool == [{"split": cfg.target}]
    else:
        assert cfg.eval_split not in [p.get("split") for p in cfg.pool]


def test_gpu_preset_starts_from_the_checkpoint_with_lora_and_batches_the_frontier(tmp_path):
    cfg = IterateConfig.load(CONFIGS / "gpu.json", checkpoint=str(tmp_path))
    assert cfg.train_initial["model"] == {"checkpoint": str(tmp_path)}
    assert cfg.train_initial["lora_rank"] > 0 and cfg.train_finetune["lora_rank"] > 0
    assert cfg.train_initial["gradient_checkpointing"] is True
    assert cfg.search["batch_states"] > 1 and cfg.decode["batch_size"] >= cfg.search["batch_states"]
    assert cfg.decode["engine"] == "auto"
    with pytest.raises(ConfigError, match=f"checkpoint {tmp_path / 'nothing'}: no such model directory"):
        IterateConfig.load(CONFIGS / "gpu.json", checkpoint=str(tmp_path / "nothing"))


def test_lean_preset_needs_no_coq_corpus():
    cfg = IterateConfig.load(CONFIGS / "lean.json")
    assert cfg.backend == "lean" and cfg.bootstrap_menu_expansions > 0 and "menu" in model_spec(None, cfg.decode).sources


def _corpus(path: Path, backend: str | None):
    path.mkdir(parents=True)
    (path / "train.jsonl").write_text(json.dumps({"goals": "⊢ True", "tactic": "trivial", "split": "train"}) + "\n")
    (path / "heldout.jsonl").write_text("")
    summary = {"pairs": {"train": 1, "heldout": 0}}
    if backend:
        summary["backend"] = backend
    (path / "summary.json").write_text(json.dumps(summary))


def test_a_corpus_of_another_backend_is_refused(tmp_path):
    _corpus(tmp_path / "coq-corpus", "coq")
    cfg = IterateConfig.load(CONFIGS / "lean.json", corpus=str(tmp_path / "coq-corpus"))
    exp = Experiment(cfg, root=tmp_path / "runs", progress=False)
    with pytest.raises(ConfigError, match="a coq corpus, but this is a lean run"):
        exp.corpus_pairs()
    exp.db.close()


def test_a_lean_run_without_corpus_starts_from_seed_proofs(tmp_path):
    cfg = IterateConfig.load(CONFIGS / "lean.json", corpus=str(tmp_path / "none"))
    exp = Experiment(cfg, root=tmp_path / "runs", progress=False)
    assert exp.corpus_pairs() == []           # no corpus: round 0 trains on the menu's seed proofs
    with pytest.raises(ConfigError, match="no training data"):
        exp.train_round(0, {"valid/x"}, {"test/y"})  # ... and with none found, says so
    _corpus(tmp_path / "lean-corpus", "lean")
    exp.cfg.corpus = str(tmp_path / "lean-corpus")
    assert [p["tactic"] for p in exp.corpus_pairs()] == ["trivial"]
    exp.db.close()


def test_bootstrap_policy_is_checked(tmp_path):
    assert IterateConfig.load(CONFIGS / "default.json").bootstrap_policy == "menu+hyps"
    assert "templates" in model_spec(None, IterateConfig.load(CONFIGS / "default.json").decode).sources
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "x", "bootstrap_policy": "oracle"}))
    with pytest.raises(ConfigError, match="bad.json: bootstrap_policy must be menu or menu\\+hyps"):
        IterateConfig.load(bad)


def test_a_second_run_on_the_same_directory_is_refused(tmp_path):
    import subprocess
    import sys
    cfg = IterateConfig.load(CONFIGS / "tiny.json")
    first = Experiment(cfg, root=tmp_path / "runs", progress=False)
    with pytest.raises(ConfigError, match="another `prover iterate` is running on this run directory"):
        Experiment(cfg, root=tmp_path / "runs", progress=False)
    # the same from another process: one line (error: ...), exit 2
    code = ("import sys; from pathlib import Path; from prover.cli.common import die; "
            "from prover.loop.iterate import ConfigError, Experiment, IterateConfig\n"
            f"cfg = IterateConfig.load({str(CONFIGS / 'tiny.json')!r})\n"
            f"try:\n    Experiment(cfg, root=Path({str(tmp_path / 'runs')!r}), progress=False)\n"
            "except ConfigError as e:\n    sys.exit(die(str(e)))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "another `prover iterate` is running" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    first.close()
    again = Experiment(cfg, root=tmp_path / "runs", progress=False)  # released: the run can resume
    again.close()


@pytest.mark.parametrize("key,value,why", [
    ("rounds", "three", "rounds must be an int, not str"),
    ("workers", 1.5, "workers must be an int, not float"),
    ("corpus_fraction", "half", "corpus_fraction must be a number, not str"),
    ("pool", {"split": "valid"}, "pool must be a list, not dict"),
    ("search", [], "search must be a dict, not list"),
    ("eval_limit", "10", "eval_limit must be an int or null, not str"),
    ("rounds", True, "rounds must be an int, not bool"),
])
def test_a_config_value_of_the_wrong_type_is_one_line(tmp_path, key, value, why):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({key: value}))
    with pytest.raises(ConfigError, match=why):
        IterateConfig.load(bad)
