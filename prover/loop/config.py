"""The configuration of ``prover iterate`` (a preset in ``data/configs/``): the schema, its
defaults and its checks.

Why a module of its own: a preset is read before anything runs, and every mistake in it (an
unknown key, a value of the wrong type, a search key iterate would not read, a pool that
includes the evaluation split) must be one line naming the file, not a traceback an hour
into a run. ``docs/config.md`` lists every key; ``tests/test_docs.py`` checks it against
this schema.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from prover import backends
from prover.policy.spec import NAMED, PolicySpec, model_spec
from prover.search import SearchConfig
from prover.search.best_first import EXPANSIONS


TRANSDUCTIVE = "-transductive"  # the run directory's suffix of a run on its own target problems


class ConfigError(ValueError):
    pass


_TYPES = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,), "list": (list,),
          "dict": (dict,), "None": (type(None),)}


def _wrong_type(annotation, value) -> str | None:
    """What a config value of this field must be, when it is not (None when it fits or the
    annotation is not a plain one)."""
    names = [a.strip().split("[")[0] for a in str(annotation).split("|")]
    if not all(n in _TYPES for n in names):
        return None
    allowed = tuple(t for n in names for t in _TYPES[n])
    if isinstance(value, allowed) and not (isinstance(value, bool) and bool not in allowed):
        return None
    return " or ".join("null" if n == "None" else ("a number" if n == "float" else f"a{'n' if n == 'int' else ''} {n}")
                       for n in names)


@dataclass
class IterateConfig:
    name: str = "default"
    backend: str = backends.DEFAULT
    rounds: int = 3
    workers: int = 2
    engine: str = "local"                              # worker-pool engine (prover.engines): local or ray
    pool: list = field(default_factory=lambda: [{"problems": None, "split": "valid"}])
    pool_limit: int | None = None
    eval_split: str = "test"
    eval_problems: str | None = None
    eval_limit: int | None = None
    eval_names: list | None = None                     # only these evaluation problems
    eval_expansions: int = EXPANSIONS
    corpus: str = "runs/corpus"
    trace: dict = field(default_factory=dict)          # the backend's tracer options (Backend.trace)
    tactic_model: bool = True                          # false: no model is trained or asked; the policy is
                                                       # decode.sources in the ranker's order (learned or not)
    model_init: str | None = None                      # a trained model to start from
    train_initial: dict = field(default_factory=dict)  # TrainConfig for round 0
    train_finetune: dict = field(default_factory=dict) # TrainConfig for rounds > 0
    corpus_fraction: float = 0.5                       # share of corpus pairs in fine-tuning sets
    min_corpus_pairs: int = 2000                       # ... and at least this many
    max_corpus_pairs: int | None = None                # cap on corpus pairs in round 0
    initial_proof_share: float = 0.2                   # share of (repeated) seed-proof pairs in round 0
    proofs_per_problem: int = 3                        # distinct proofs per problem, shortest first
    bootstrap_menu_expansions: int = 1                 # 0: no menu seed search of the pool
    bootstrap_policy: str = "menu"                     # ... with "menu" or "menu+hyps" (templates too)
    search: dict = field(default_factory=dict)         # SearchConfig keys (its defaults where absent)
    budget: dict = field(default_factory=dict)         # BudgetPolicy
    decode: dict = field(default_factory=dict)         # the model policy: k, sources, decode options (model_spec)
    selfplay: dict = field(default_factory=dict)       # prover.selfplay.SelfPlayConfig (off by default)
    ranker: str | None = None                          # candidate order: null/"fixed", "random", or "learned"
                                                       # (retrained every round on the training trees)
    seed: int = 0
    # transductive: iterate on the problems a user wants proved (a split of the backend's
    # dataset, or a directory of problem files): they are the pool, there is no evaluation
    # split, and the run is named NAME-transductive so it never mixes with an inductive run
    target: str | None = None
    stop_after_stale: int = 0                          # stop after this many rounds in a row proving
                                                       # nothing new (0: run every round)

    @property
    def transductive(self) -> bool:
        return self.target is not None

    @classmethod
    def load(cls, path: str | Path, checkpoint: str | None = None, **overrides) -> "IterateConfig":
        """The config file with ``overrides`` (None: the file's); ``checkpoint``, a Hugging
        Face model directory that round 0 fine-tunes (``train_initial.model.checkpoint``)."""
        try:
            d = json.loads(Path(path).read_text())
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such config file") from None
        except json.JSONDecodeError as e:
            raise ConfigError(f"{path}: not valid JSON: {e}") from None
        d.update({k: v for k, v in overrides.items() if v is not None})
        if checkpoint is not None:
            t0 = dict(d.get("train_initial") or {})
            d["train_initial"] = {**t0, "model": {**(t0.get("model") or {}), "checkpoint": checkpoint}}
        known = set(cls.__dataclass_fields__)
        unknown = set(d) - known
        if unknown:
            raise ConfigError(f"{path}: unknown keys {', '.join(sorted(unknown))}")
        for key, value in d.items():
            why = _wrong_type(cls.__dataclass_fields__[key].type, value)
            if why:
                raise ConfigError(f"{path}: {key} must be {why}, not {type(value).__name__} {value!r}"[:300])
        cfg = cls(**d)
        if cfg.ranker not in (None, "fixed", "random", "learned"):
            raise ConfigError(f"{path}: ranker must be null, fixed, random or learned, not {cfg.ranker!r}")
        if cfg.bootstrap_policy not in NAMED or PolicySpec.named(cfg.bootstrap_policy).needs_model:
            raise ConfigError(f"{path}: bootstrap_policy must be menu or menu+hyps, not {cfg.bootstrap_policy!r}")
        from prover.engines import ENGINES
        if cfg.engine not in ENGINES:
            raise ConfigError(f"{path}: unknown engine {cfg.engine!r} (expected one of {', '.join(sorted(ENGINES))})")
        if cfg.backend not in backends.names():
            raise ConfigError(f"{path}: unknown backend {cfg.backend!r} (expected one of {', '.join(backends.names())})")
        for key in ("corpus_fraction", "initial_proof_share"):
            if not 0 <= getattr(cfg, key) <= 1:
                raise ConfigError(f"{path}: {key} must be between 0 and 1, not {getattr(cfg, key)!r}")
        if "max_expansions" in cfg.search:
            raise ConfigError(f"{path}: search.max_expansions is not read by iterate: the pool's expansions "
                              f"are budget.base (growing by budget.growth), the evaluation's eval_expansions")
        if "k" in cfg.search:
            raise ConfigError(f"{path}: search.k is no longer a setting: the number of tactics the model "
                              f"generates per state is decode.k (one number)")
        bad = sorted(set(cfg.search) - set(SearchConfig.__dataclass_fields__))
        if bad:
            raise ConfigError(f"{path}: unknown search keys {', '.join(bad)}")
        try:
            model_spec(None, cfg.decode)
        except (ValueError, TypeError) as e:
            raise ConfigError(f"{path}: decode: {e}") from None
        try:
            from prover.selfplay import SelfPlayConfig
            SelfPlayConfig.from_dict(cfg.selfplay)
        except (ValueError, TypeError) as e:
            raise ConfigError(f"{path}: selfplay: {e}") from None
        try:
            SearchConfig(**cfg.search)  # (max_expansions was refused above)
        except (ValueError, TypeError) as e:
            raise ConfigError(f"{path}: search: {e}") from None
        t0 = cfg.train_initial
        ckpt = (t0.get("model") or {}).get("checkpoint")
        if ckpt and not Path(ckpt).is_dir() and not re.fullmatch(r"[\w.-]+/[\w.-]+", ckpt):  # a hub id is left to the loader
            raise ConfigError(f"{path}: checkpoint {ckpt}: no such model directory")
        if t0.get("lora_rank") and not ckpt and not cfg.model_init:
            raise ConfigError(f"{path}: train_initial.lora_rank adapts a pretrained model: give one with "
                              f"--checkpoint DIR (a Hugging Face model directory)")
        if not cfg.tactic_model:
            sp = cfg.selfplay or {}
            if sp.get("enabled") and sp.get("conjectures", True) and "written" in (sp.get("operators") or []):
                raise ConfigError(f"{path}: tactic_model false leaves no model to write conjectures: "
                                  f"set selfplay.operators without \"written\" or selfplay.conjectures false")
            if not (cfg.decode or {}).get("sources"):
                raise ConfigError(f"{path}: tactic_model false needs decode.sources (the candidate sources "
                                  f"that are the whole policy)")
        if cfg.stop_after_stale < 0:
            raise ConfigError(f"{path}: stop_after_stale must be 0 (off) or a number of rounds, not {cfg.stop_after_stale}")
        if cfg.transductive:
            target = Path(cfg.target)
            cfg.pool = [{"problems": str(target)}] if target.is_dir() else [{"split": cfg.target}]
            if not cfg.name.endswith(TRANSDUCTIVE):
                cfg.name += TRANSDUCTIVE
            return cfg
        for p in cfg.pool:
            if p.get("split") == cfg.eval_split and not p.get("problems") and not cfg.eval_problems:
                raise ConfigError(f"{path}: the training pool may not include the evaluation split {cfg.eval_split!r}")
        return cfg
