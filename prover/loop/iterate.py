"""Expert iteration: rounds of search, verified proofs, retraining, evaluation.

``prover iterate --config data/configs/NAME.json`` (``make iterate``) runs, in
``runs/NAME/``:

  setup     trace the corpus if missing; the menu baseline on the evaluation split at the
            evaluation budget (the horizontal line of the plot); optionally a menu search of
            the training pool, whose proofs seed the first model (search data, any policy).
  round r   hindsight (self-play): check the goals solved in the training trees searched
            since the last round as standalone lemmas (``prover.selfplay.hindsight``);
            train: round 0 trains on the traced corpus (plus any pool proofs), round r>0
            fine-tunes model r-1 on every accepted pool proof so far (shortest per problem
            first, duplicates removed), kept conjectures' proofs and hindsight pairs, mixed
            with the corpus;
            value (``search.node_scorer: "value"``): retrain the frontier's value;
            search: the training pool (and the kept conjectures) with model r, budgets from
            active selection (``prover.loop.selection``);
            conjecture (self-play): propose, screen and select conjectures
            (``prover.selfplay.conjecture``);
            eval: model r on the evaluation split at a fixed budget;
            report: a row in the database and ``rounds.csv``, and ``progress.png``.

Every step is recorded in ``state.json`` when it ends, and every step is resumable in
itself (search attempts are committed one by one, training resumes from checkpoints), so a
killed run continues from where it stopped with no proof lost or counted twice.

The evaluation split never enters a training set, a training search, a hindsight harvest,
a conjecture or a retrieval index: ``LeakError``, or refused and counted.
"""
from __future__ import annotations

import csv
import json
import os
import random
import re
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from prover import backends
from prover.labels import LeakError
from prover.loop.selection import BudgetPolicy, history, report
from prover.policy.spec import NAMED, PolicySpec, model_spec
from prover.problems import load_problems
from prover.search import SearchConfig
from prover.search.best_first import EXPANSIONS

RUNS = Path("runs")
ROUND_FIELDS = ["round", "valid_proved", "pool_size", "test_proved", "test_size", "menu_baseline_test",
                "new_proofs", "training_pairs", "train_seconds", "search_seconds", "expansions_per_second",
                "budget_unsolved", "budget_solved",
                # where the round's training pairs came from (distinct pairs per source)
                "pairs_corpus", "pairs_proofs", "pairs_hindsight", "pairs_conjectures", "pairs_statements",
                # self-play: hindsight lemmas checked/accepted before this round's training,
                # conjectures of this round (proposed, elaborated, trivial, kept, proved)
                "hindsight_checked", "hindsight_accepted", "conj_proposed", "conj_elaborated",
                "conj_trivial", "conj_easy", "conj_kept", "conj_proved", "selfplay_seconds",
                # distinct verified pairs first found this round, by source (prover.loop.compare)
                "new_pairs", "new_pairs_proof", "new_pairs_hindsight", "new_pairs_conjecture",
                # the candidate budget: mean prover tries per evaluated problem; the learned ranker's
                # held-out recall of a proof-path candidate in its top N (N: search.tries, else 8)
                "tries_per_problem", "ranker_recall"]
SOURCES = ("corpus", "proof", "hindsight", "conjecture", "statement")  # statement: the ``written`` operator's


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
    search: dict = field(default_factory=lambda: {"tactic_timeout": 5.0, "max_seconds": 60.0})  # SearchConfig
    budget: dict = field(default_factory=dict)         # BudgetPolicy
    decode: dict = field(default_factory=dict)         # the model policy: k, sources, decode options (model_spec)
    selfplay: dict = field(default_factory=dict)       # prover.selfplay.SelfPlayConfig (off by default)
    ranker: str | None = None                          # candidate order: null/"fixed", "random", or "learned"
                                                       # (retrained every round on the training trees)
    seed: int = 0

    @classmethod
    def load(cls, path: str | Path, **overrides) -> "IterateConfig":
        try:
            d = json.loads(Path(path).read_text())
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such config file") from None
        except json.JSONDecodeError as e:
            raise ConfigError(f"{path}: not valid JSON: {e}") from None
        d.update({k: v for k, v in overrides.items() if v is not None})
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
            SearchConfig(**{k: v for k, v in cfg.search.items() if k != "max_expansions"})
        except (ValueError, TypeError) as e:
            raise ConfigError(f"{path}: search: {e}") from None
        for p in cfg.pool:
            if p.get("split") == cfg.eval_split and not p.get("problems") and not cfg.eval_problems:
                raise ConfigError(f"{path}: the training pool may not include the evaluation split {cfg.eval_split!r}")
        return cfg


# ------------------------------------------------------------------------- training data
def build_training_set(db, pool_keys: set[str], eval_keys: set[str], per_problem: int,
                       conjecture_keys: set[str] = frozenset()) -> list[dict]:
    """(goals, tactic) pairs of accepted proofs of pool problems (source ``proof``) and of
    kept conjectures (source ``conjecture``): per problem its distinct proofs shortest first
    (at most ``per_problem``), duplicates removed. Raises LeakError if an evaluation problem
    is among them."""
    leaked = set(conjecture_keys) & eval_keys
    if leaked:
        raise LeakError(f"evaluation problems among the conjectures: {sorted(leaked)[:5]}")
    pool_keys = set(pool_keys) | set(conjecture_keys)
    rows = db.training_proofs()
    pairs, seen, per = [], set(), {}
    for r in rows:
        key = r["problem"]
        if key in eval_keys:
            if key in pool_keys:
                raise LeakError(f"{key} is both an evaluation and a training problem")
            continue  # evaluation proofs never train
        if key not in pool_keys:
            continue
        if r["proof"] in per.setdefault(key, set()) or len(per[key]) >= per_problem:
            continue
        per[key].add(r["proof"])
        steps = r["steps"] if isinstance(r["steps"], list) else json.loads(r["steps"] or "[]")
        for goals, tactic in steps:
            if (goals, tactic) not in seen:
                seen.add((goals, tactic))
                pairs.append({"goals": goals, "tactic": tactic, "problem": key,
                              "source": "conjecture" if key in conjecture_keys else "proof"})
    leaked = {p["problem"] for p in pairs} & eval_keys
    if leaked:
        raise LeakError(f"evaluation problems in a training set: {sorted(leaked)[:5]}")
    return pairs


def with_share(base: list[dict], extra: list[dict], share: float, seed: int) -> list[dict]:
    """``base`` plus ``extra`` (pairs not already in ``base``), ``extra`` making up about
    ``share`` of the result: sampled down when there are more, repeated when fewer."""
    have = {(p["goals"], p["tactic"]) for p in base}
    extra = [p for p in extra if (p["goals"], p["tactic"]) not in have]
    if not extra or share <= 0:
        return list(base)
    if not base:
        return list(extra)
    want = max(1, round(len(base) * share / (1 - share)))
    rng = random.Random(seed)
    if want <= len(extra):
        return list(base) + rng.sample(extra, want)
    return list(base) + extra * (want // len(extra)) + rng.sample(extra, want % len(extra))


def source_counts(data: list[dict]) -> dict[str, int]:
    """Distinct (goals, tactic) pairs of each source in a training set (corpus pairs carry
    no source)."""
    seen: dict[str, set] = {s: set() for s in SOURCES}
    for p in data:
        seen.setdefault(p.get("source", "corpus"), set()).add((p["goals"], p["tactic"]))
    return {s: len(v) for s, v in seen.items()}


def _norm(text: str) -> str:
    return " ".join(text.split())


def statement_signature(problem) -> str:
    """A problem's statement with its own name blanked out and whitespace normalised: a pool
    problem that renames an evaluation problem has the same signature."""
    return _norm(re.sub(rf"(?<![\w']){re.escape(problem.name)}(?![\w'])", "_", problem.statement))


def firewall_corpus(pairs: list[dict], eval_names: set[str], eval_goals: set[str]) -> tuple[list[dict], int]:
    """The corpus without every pair of a traced theorem that is an evaluation problem: named
    like one, or whose first goal is an evaluation problem's root goal (whitespace aside).
    Returns (kept pairs, theorems dropped)."""
    goals = {_norm(g) for g in eval_goals}
    bad = {(p.get("file"), p.get("theorem")) for p in pairs
           if p.get("theorem") in eval_names or (not p.get("step") and _norm(p.get("goals", "")) in goals)}
    return [p for p in pairs if (p.get("file"), p.get("theorem")) not in bad], len(bad)


def mix(proof_pairs: list[dict], corpus: list[dict], fraction: float, seed: int,
        min_corpus: int = 0) -> list[dict]:
    """Proof pairs and corpus pairs, the corpus making up ``fraction`` of the result.

    The corpus part is a sample of at least ``min_corpus`` pairs (so a round with few proofs
    does not forget the corpus); the proof pairs are repeated as often as needed to make up
    the rest (so a few hundred proofs are not drowned by a corpus a hundred times larger)."""
    rng = random.Random(seed)
    if not proof_pairs:
        return list(corpus)
    if fraction <= 0:  # no corpus asked for: the proofs alone
        return rng.sample(proof_pairs, len(proof_pairs))
    n_c = int(len(proof_pairs) * fraction / max(1e-9, 1 - fraction)) if fraction < 1 else len(corpus)
    sample = rng.sample(corpus, min(max(n_c, min_corpus), len(corpus)))
    repeat = 1
    if sample and fraction < 1:
        repeat = max(1, round(len(sample) * (1 - fraction) / (fraction * len(proof_pairs))))
    out = proof_pairs * repeat + sample
    rng.shuffle(out)
    return out


# ------------------------------------------------------------------------- the experiment
def lock_run_dir(path: Path):
    """An exclusive lock on ``path/run.lock`` for this process's lifetime (the kernel drops it
    when the process ends, killed or not); a second run on the same directory gets one line."""
    import fcntl
    fh = open(path / "run.lock", "a+")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.seek(0)
        holder = fh.read().strip() or "?"
        fh.close()
        raise ConfigError(f"{path}: another `prover iterate` is running on this run directory (pid {holder}); "
                          f"wait for it, or stop it, then run again to resume") from None
    fh.seek(0)
    fh.truncate()
    fh.write(f"{os.getpid()}\n")
    fh.flush()
    return fh


class Experiment:
    def __init__(self, cfg: IterateConfig, root: Path = RUNS, progress: bool = True):
        from prover.db import ProofDB
        self.cfg, self.progress = cfg, progress
        self.dir = Path(root) / cfg.name
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lock = lock_run_dir(self.dir)  # one `prover iterate` per run directory
        self.db = ProofDB(self.dir / "proofs.db")
        self.state_path = self.dir / "state.json"
        self.state = json.loads(self.state_path.read_text()) if self.state_path.exists() else {"done": {}}
        if not self.state.get("run_id"):
            self.state["run_id"] = self.db.start_run({"command": "iterate", **asdict(cfg)})
            self._save()
        self.run_id = self.state["run_id"]
        self.search_cfg = SearchConfig(**{k: v for k, v in cfg.search.items() if k != "max_expansions"})
        self.budget = BudgetPolicy(**cfg.budget)
        from prover.selfplay import SelfPlayConfig
        self.selfplay = SelfPlayConfig.from_dict(cfg.selfplay)

    def close(self) -> None:
        """Close the database and release the run directory's lock."""
        self.db.close()
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    # -- bookkeeping ------------------------------------------------------------------
    def _save(self):
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state, indent=2))
        tmp.replace(self.state_path)

    def done(self, step: str) -> dict | None:
        return self.state["done"].get(step)

    def mark(self, step: str, info: dict | None = None):
        self.state["done"][step] = info or {}
        self._save()

    def log(self, msg: str):
        print(f"[{self.cfg.name}] {msg}", file=sys.stderr, flush=True)

    # -- problems -----------------------------------------------------------------------
    def load_sets(self):
        c = self.cfg
        pool = []
        for spec in c.pool:
            ps = load_problems(c.backend, spec.get("problems"), split=spec.get("split"),
                               on_error=lambda p, m: self.log(f"skipped: {m}"))
            if spec.get("names"):
                ps = [p for p in ps if p.name in set(spec["names"])]
            pool += ps[:spec["limit"]] if spec.get("limit") else ps
        if c.pool_limit:
            pool = pool[:c.pool_limit]
        evalp = load_problems(c.backend, c.eval_problems, split=c.eval_split,
                              on_error=lambda p, m: self.log(f"skipped: {m}"))
        if c.eval_names:
            evalp = [p for p in evalp if p.name in set(c.eval_names)]
        evalp = evalp[:c.eval_limit] if c.eval_limit else evalp
        eval_keys = {p.key for p in evalp}
        overlap = {p.key for p in pool} & eval_keys
        statements = {statement_signature(p) for p in evalp}  # a renamed copy is the same problem
        overlap |= {p.key for p in pool if statement_signature(p) in statements}
        if overlap:
            raise LeakError(f"training pool contains evaluation problems: {sorted(overlap)[:5]}")
        return pool, evalp

    # -- steps --------------------------------------------------------------------------
    def corpus_pairs(self) -> list[dict]:
        """The traced corpus of this backend: traced here for Coq when missing; for another
        backend, read if present (``prover trace --backend NAME``), else none: such a run
        starts from the menu's seed proofs alone."""
        from prover.corpus import corpus_backend, load_pairs
        backend = backends.get(self.cfg.backend)
        corpus = Path(self.cfg.corpus)
        if not (corpus / "train.jsonl").exists():
            if not backend.auto_trace:
                return []
            self.log(f"tracing the corpus into {corpus} (resumable)")
            opts = dict(self.cfg.trace)
            if "engine" in backend.trace_options and self.cfg.engine != "local":
                opts.setdefault("engine", self.cfg.engine)
            backend.trace(corpus, workers=self.cfg.workers, progress=self.progress, **opts)
        traced_by = corpus_backend(corpus) or backends.DEFAULT  # corpora from before the field were Coq's
        if traced_by != backend.name:
            raise ConfigError(f"{corpus}: a {traced_by} corpus, but this is a {backend.name} run "
                              f"(set \"corpus\" in the config to a {backend.name} corpus)")
        return load_pairs(corpus, split="train")

    def search(self, problems, label: str, round: int, spec: PolicySpec, budgets=None, expansions=None,
               desc="search"):
        """Search ``problems`` with the policy of ``spec``; attempts are recorded under ``label``
        (menu-baseline, menu, model, eval)."""
        from prover.search.runner import run_search
        cfg = SearchConfig(**{**asdict(self.search_cfg), "max_expansions": expansions or self.budget.base})
        if cfg.node_scorer == "value":  # the round's learned value, once there is one
            path = self.state.get("value_model")
            cfg.node_scorer, cfg.scorer_options = ("value", {"path": path}) if path else (None, None)
        return run_search(problems, self.db, backend=self.cfg.backend, spec=spec, label=label, cfg=cfg,
                          workers=self.cfg.workers, round=round, run_id=self.run_id, budgets=budgets,
                          progress=self.progress, desc=desc, engine=self.cfg.engine)

    def proved_keys(self, keys: set[str], policy: str | None = None, round: int | None = None) -> set[str]:
        return self.db.accepted_problems(policy, round) & keys

    def model_dir(self, r: int) -> Path:
        return self.dir / "models" / f"round_{r}"

    def train_round(self, r: int, pool_keys, eval_keys) -> dict:
        from prover.model import is_model_dir
        from prover.train import TrainConfig, train
        out = self.model_dir(r)
        if r == 0 and self.cfg.model_init:
            return {"train_seconds": 0.0, "training_pairs": 0, "model": self.cfg.model_init}
        data_file = self.dir / "data" / f"round_{r}.jsonl"
        if not data_file.exists():
            proof_pairs = build_training_set(self.db, pool_keys, eval_keys, self.cfg.proofs_per_problem,
                                             conjecture_keys=self.conjecture_keys(("proved", "kept")))
            if self.selfplay.enabled and self.selfplay.hindsight:
                from prover.selfplay import hindsight
                proof_pairs = with_share(proof_pairs, hindsight.pairs(self.db, eval_keys),
                                         self.selfplay.hindsight_share, self.cfg.seed + r)
            if self.writes_statements:
                from prover.selfplay import written
                style = backends.get(self.cfg.backend).goal_style
                proof_pairs = with_share(proof_pairs, written.pairs(self.db, eval_keys, style),
                                         self.selfplay.statement_share, self.cfg.seed + r)
            corpus, dropped = firewall_corpus(self.corpus_pairs(), {k.split("/")[-1] for k in eval_keys},
                                              self.db.root_goals(eval_keys))
            if dropped:
                self.log(f"round {r}: {dropped} corpus theorems state an evaluation problem: left out")
            if r == 0:
                rng = random.Random(self.cfg.seed)
                if self.cfg.max_corpus_pairs and len(corpus) > self.cfg.max_corpus_pairs:
                    corpus = rng.sample(corpus, self.cfg.max_corpus_pairs)
                data = mix(proof_pairs, corpus, 1 - self.cfg.initial_proof_share, self.cfg.seed,
                           len(corpus))
            else:
                data = mix(proof_pairs, corpus, self.cfg.corpus_fraction, self.cfg.seed + r,
                           self.cfg.min_corpus_pairs)
            if not data:
                raise ConfigError(f"round {r}: no training data: no corpus at {self.cfg.corpus} and "
                                  f"no accepted proof in the pool yet (raise bootstrap_menu_expansions)")
            if any(p.get("problem") in eval_keys for p in data):
                raise LeakError("an evaluation problem reached a training set")
            data_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = data_file.with_suffix(".tmp")
            with tmp.open("w") as f:
                for p in data:
                    f.write(json.dumps(p) + "\n")
            tmp.replace(data_file)
        with data_file.open() as f:
            data = [json.loads(line) for line in f]
        n_pairs, by_source = len(data), source_counts(data)
        tcfg = TrainConfig.from_dict(self.cfg.train_initial if r == 0 else self.cfg.train_finetune)
        init = None if r == 0 else self.model_dir(r - 1)
        if r == 0 and self.cfg.model_init:
            init = self.cfg.model_init
        t0 = time.time()
        if not is_model_dir(out) or (out / "checkpoints").exists() and not (out / "metrics.json").exists():
            self.log(f"round {r}: training on {n_pairs} pairs -> {out}")
            metrics = train([str(data_file)], out, tcfg, init=init, progress=self.progress)
        else:
            metrics = json.loads((out / "metrics.json").read_text()) if (out / "metrics.json").exists() else {}
        return {"train_seconds": time.time() - t0, "training_pairs": n_pairs, "model": str(out),
                "sources": by_source,
                "heldout": {k: v for k, v in metrics.items() if k != "history"}}

    # -- the loop -------------------------------------------------------------------------
    def run(self) -> list[dict]:
        c = self.cfg
        backend = backends.get(c.backend)
        backend.check_available()
        if (not backend.auto_trace and not c.model_init and not (Path(c.corpus) / "train.jsonl").exists()
                and not c.bootstrap_menu_expansions):
            raise ConfigError(f"a {c.backend} run needs model_init (a trained model), a corpus of "
                              f"{c.backend} (goal, tactic) pairs at {c.corpus}/train.jsonl, or "
                              f"bootstrap_menu_expansions > 0 (seed proofs from the menu)")
        pool, evalp = self.load_sets()
        pool_keys, eval_keys = {p.key for p in pool}, {p.key for p in evalp}
        self.log(f"{len(pool)} pool problems, {len(evalp)} evaluation problems, {c.rounds} rounds")
        if not self.done("baseline"):
            s = self.search(evalp, "menu-baseline", 0, PolicySpec.named("menu"), expansions=c.eval_expansions,
                            desc="menu baseline (eval)")
            self.mark("baseline", {"seconds": s.seconds})
        baseline = len(self.proved_keys(eval_keys, "menu-baseline"))
        if self.all_rows():  # a resumed run: the outputs agree with the database before anything else
            self.write_outputs(self.all_rows(), baseline)
        if c.bootstrap_menu_expansions and not self.done("bootstrap"):
            s = self.search(pool, "menu", 0, PolicySpec.named(c.bootstrap_policy),
                            expansions=c.bootstrap_menu_expansions, desc="menu seed (pool)")
            self.mark("bootstrap", {"seconds": s.seconds})
        rows = []
        for r in range(c.rounds):
            if self.selfplay.enabled and self.selfplay.hindsight and not self.done(f"r{r}.hindsight"):
                self.mark(f"r{r}.hindsight", self.hindsight_step(r, pool, eval_keys))
            tinfo = self.done(f"r{r}.train") or self.train_round(r, pool_keys, eval_keys)
            if not self.done(f"r{r}.train"):
                self.mark(f"r{r}.train", tinfo)
            model = tinfo["model"]
            if self.search_cfg.node_scorer == "value" and not self.done(f"r{r}.value"):
                self.mark(f"r{r}.value", self.value_step(r, eval_keys))
            if c.ranker == "learned" and not self.done(f"r{r}.ranker"):
                self.mark(f"r{r}.ranker", self.ranker_step(r, eval_keys))
            if not self.done(f"r{r}.search"):
                before = self.proved_keys(pool_keys)
                if self.selfplay.enabled:
                    from prover.selfplay.conjecture import retire
                    retire(self.db, self.selfplay.retire_after)
                frontier = pool + self.conjecture_problems(("kept",))  # unproved kept conjectures join the pool
                keys = [p.key for p in frontier]
                hist = history(self.db, keys, ("model", "menu"))
                budgets = self.budget.budgets(keys, hist)
                s = self.search(frontier, "model", r, self.model_policy(model, eval_keys), budgets=budgets,
                                desc=f"round {r} search")
                new = self.proved_keys(pool_keys) - before
                self.mark(f"r{r}.search", {"seconds": s.seconds, "expansions": s.expansions,
                                           "eps": s.expansions_per_second, "new": len(new),
                                           **report(budgets, hist)})
            if self.selfplay.enabled and self.selfplay.conjectures and not self.done(f"r{r}.conjecture"):
                self.mark(f"r{r}.conjecture", self.conjecture_step(r, model, pool, evalp))
            if not self.done(f"r{r}.eval"):
                s = self.search(evalp, "eval", r, self.model_policy(model, eval_keys), expansions=c.eval_expansions,
                                desc=f"round {r} eval")
                self.mark(f"r{r}.eval", {"seconds": s.seconds})
            sinfo = self.done(f"r{r}.search")
            row = {
                "round": r,
                # as of this round (a resumed run recomputes the rows of finished rounds)
                "valid_proved": len(self.db.accepted_problems(max_round=r) & pool_keys),
                "pool_size": len(pool),
                "test_proved": len(self.proved_keys(eval_keys, "eval", r)),
                "test_size": len(evalp),
                "menu_baseline_test": baseline,
                "new_proofs": sinfo["new"],
                "training_pairs": tinfo["training_pairs"],
                "train_seconds": round(tinfo["train_seconds"], 1),
                "search_seconds": round(sinfo["seconds"], 1),
                "expansions_per_second": round(sinfo["eps"], 2),
                "budget_unsolved": sinfo["budget_unsolved"],
                "budget_solved": sinfo["budget_solved"],
                **{f"pairs_{k}": v for k, v in _pair_columns(tinfo.get("sources", {})).items()},
                **self.selfplay_columns(r),
                **self.new_pair_columns(r),
                **self.ranker_columns(r),
            }
            self.db.record_round(self.run_id, r, row)
            rows.append(row)
            self.write_outputs(self.all_rows(), baseline)
            self.log(f"round {r}: pool proved {row['valid_proved']}/{len(pool)} (+{row['new_proofs']}), "
                     f"test proved {row['test_proved']}/{len(evalp)} (menu baseline {baseline})")
        self.db.finish_run(self.run_id)
        return rows

    def model_policy(self, model: str, eval_keys: set[str]) -> PolicySpec:
        """The round's model policy (the preset's ``decode``); a retrieval source indexes the
        corpus and this run's database, a macro source this run's database, never the
        evaluation problems."""
        spec = model_spec(model, self.cfg.decode)
        ranker = self.cfg.ranker
        if ranker == "learned":  # the newest ranker trained in this run (none yet: the sources' order)
            ranker = self.state.get("ranker_model") or "fixed"
        if ranker and ranker != "fixed":
            spec = replace(spec, ranker=ranker)
        spec = spec.with_options("macros", db=str(self.db.path), deny=sorted(eval_keys))
        return spec.with_options("retrieval", corpus=self.cfg.corpus, db=str(self.db.path),
                                 deny=sorted(eval_keys))

    def ranker_step(self, r: int, eval_keys: set[str]) -> dict:
        """Train the candidate ranker on every edge of every training tree so far (never an
        evaluation tree: evaluation labels and the evaluation problems are left out); the
        round's searches and its evaluation use it."""
        from prover.policy.ranker import examples, train
        t0 = time.time()
        groups = examples(self.db, eval_keys, backends.get(self.cfg.backend).goal_style)
        try:
            ranker = train(groups, seed=self.cfg.seed)
        except ValueError as e:
            self.log(f"round {r}: no ranker yet ({e})")
            return {"groups": len(groups)}
        path = self.dir / "models" / f"ranker_{r}.json"
        ranker.meta["train_seconds"] = round(time.time() - t0, 1)
        ranker.save(path)
        self.state["ranker_model"] = str(path)
        held = ranker.meta.get("heldout", {})
        self.log(f"round {r}: ranker trained on {ranker.meta['examples']} tried candidates at "
                 f"{ranker.meta['groups']} nodes -> {path} (held-out {held})")
        return ranker.meta

    def ranker_columns(self, r: int) -> dict:
        """tries_per_problem of the round's evaluation, ranker_recall of its ranker (held out)."""
        tries = [int(a.get("tries") or 0) for a in self.db.attempts_of(["eval"], round=r)]
        info = self.done(f"r{r}.ranker") or {}
        n = int(self.search_cfg.tries or 8)
        n = min((k for k in (1, 4, 8, 16) if k >= n), default=16)
        recall = (info.get("heldout") or {}).get(f"recall@{n}")
        return {"tries_per_problem": round(sum(tries) / len(tries), 1) if tries else 0,
                "ranker_recall": recall if recall is not None else ""}

    def value_step(self, r: int, eval_keys: set[str]) -> dict:
        """Train the frontier's value on every training tree so far (never an evaluation
        tree); the round's searches use it (``search.node_scorer: "value"``)."""
        from prover.search.value import labelled_nodes, train_value
        texts, labels = labelled_nodes(self.db, eval_keys)
        try:
            model = train_value(texts, labels, backends.get(self.cfg.backend).goal_style)
        except ValueError as e:
            self.log(f"round {r}: no value yet ({e})")
            return {"examples": len(texts)}
        path = self.dir / "models" / f"value_{r}.npz"
        model.save(path)
        self.state["value_model"] = str(path)
        self.log(f"round {r}: value trained on {len(texts)} states -> {path}")
        return model.meta

    # -- self-play ------------------------------------------------------------------------
    @property
    def writes_statements(self) -> bool:
        sp = self.selfplay
        return sp.enabled and sp.conjectures and "written" in sp.operators

    def conjecture_keys(self, statuses: tuple[str, ...]) -> set[str]:
        if not self.selfplay.enabled:
            return set()
        return {r["key"] for st in statuses for r in self.db.conjectures(status=st)}

    def conjecture_problems(self, statuses: tuple[str, ...]) -> list:
        from prover.selfplay.conjecture import problems_of
        return problems_of(self.db, sorted(self.conjecture_keys(statuses)))

    def hindsight_step(self, r: int, pool, eval_keys: set[str]) -> dict:
        """Check the goals solved in every training tree searched since the last harvest."""
        from prover.selfplay import hindsight
        t0 = time.time()
        conj = self.conjecture_problems(("open", "easy", "proved", "kept"))
        problems = {p.key: p for p in list(pool) + conj}
        since = int(self.state.get("hindsight_after", 0))
        attempts = [a for a in self.db.attempts_of() if a["id"] > since and a["problem"] in problems
                    and a["problem"] not in eval_keys]
        cands = hindsight.harvest(self.db, attempts, backends.get(self.cfg.backend), set(problems), eval_keys)
        counts = hindsight.verify(self.db, cands, problems, backends.get(self.cfg.backend), r,
                                  workers=self.cfg.workers, progress=self.progress, engine=self.cfg.engine,
                                  limit=self.selfplay.hindsight_max_checks)
        if attempts:
            self.state["hindsight_after"] = max(a["id"] for a in attempts)
        counts["seconds"] = round(time.time() - t0, 1)
        self.log(f"round {r}: hindsight {counts['accepted']}/{counts['checked']} lemmas accepted "
                 f"({counts['candidates']} solved goals in {len(attempts)} trees)")
        return counts

    def conjecture_step(self, r: int, model: str, pool, evalp) -> dict:
        """Propose conjectures from this round's trees and the pool's statements, screen them,
        and select the barely provable ones by attempts at growing budgets."""
        from prover.env import parse_goals_text
        from prover.selfplay import conjecture as C
        t0 = time.time()
        sp, backend = self.selfplay, backends.get(self.cfg.backend)
        style = backend.goal_style
        eval_keys = {p.key for p in evalp}
        if not self.state.get(f"r{r}.proposed"):
            conj = self.conjecture_problems(("open", "easy", "proved", "kept"))
            parents = {p.key: p for p in list(pool) + conj}
            mine = [a for a in self.db.attempts_of(["model"], round=r) if a["problem"] in parents]
            cands = []
            if "stuck" in sp.operators:
                cands += C.stuck(self.db, mine, style, sp.stuck_per_round, sp.stuck_per_problem)
            roots = []
            pool_keys = {p.key for p in pool}
            latest = {}  # every pool statement as its latest search saw it, solved ones included
            for a in self.db.attempts_of(["menu", "model"]):
                if a["problem"] in pool_keys:
                    latest[a["problem"]] = a["id"]
            for key, aid in sorted(latest.items()):
                _, nodes, _ = self.db.tree_rows(aid)
                goal = C.statement_goal(nodes, style)
                if goal is not None:
                    roots.append((key, goal))
            for row in self.db.conjectures(status="proved"):
                roots.append((row["key"], parse_goals_text(row["goal"], style)[0]))
            cands += C.mutations(roots, sp.operators, sp.mutations_per_round, self.cfg.seed + r)
            written = {}
            if self.writes_statements:
                more, written = self.written_candidates(r, model, [x for x in roots if x[0] in pool_keys])
                cands += more
            forbidden_goals = set()
            for a in self.db.attempts_of(["menu-baseline", "eval"]):
                _, nodes, _ = self.db.tree_rows(a["id"])
                forbidden_goals |= {C.normalise(n["goals"]) for n in nodes.values() if n["parent"] is None}
            proposed = C.propose(self.db, cands, backend, r, parents, set(parents), eval_keys, forbidden_goals)
            proposed.update({f"written_{k}": v for k, v in written.items()})
            self.state[f"r{r}.proposed"] = proposed
            self._save()
        proposed = self.state[f"r{r}.proposed"]
        screened = C.screen(self.db, self.cfg.backend, sp.screen_timeout, self.cfg.workers, engine=self.cfg.engine,
                            progress=self.progress)

        def search(problems, label, spec, b):
            return self.search(problems, label, r, spec, expansions=b, desc=f"round {r} {label}")

        selected = C.select(self.db, search, self.model_policy(model, eval_keys), r, sp.attempt_budgets)
        info = {"proposed": proposed, "screened": screened, "selected": selected,
                "seconds": round(time.time() - t0, 1)}
        self.log(f"round {r}: conjectures proposed {proposed['proposed']}, screened {screened}, selected {selected}")
        return info

    def written_candidates(self, r: int, model: str, roots) -> tuple[list, dict]:
        """The ``written`` operator's candidates, and its counts: statements the round's model
        samples for unsolved pool statements (``prover.selfplay.written``)."""
        from prover.policy.model import load_policy
        from prover.selfplay import written
        sp = self.selfplay
        parents = written.frontier(roots, self.db.accepted_problems(), sp.written_parents, self.cfg.seed + r)
        policy = load_policy(model, k=sp.written_per_parent, mode="sample", top_p=0.95,
                             max_new_tokens=sp.written_max_tokens, seed=self.cfg.seed + r)
        cands, counts = written.write(policy, parents, sp.written_per_parent, backends.get(self.cfg.backend).goal_style)
        self.log(f"round {r}: the model wrote {len(cands)} statements for {counts['parents']} unsolved pool "
                 f"statements ({counts['unparsable']} of {counts['sampled']} samples unparsable, "
                 f"{counts['restated']} restating the parent)")
        return cands, {**counts, "candidates": len(cands)}

    def selfplay_columns(self, r: int) -> dict:
        h = self.done(f"r{r}.hindsight") or {}
        cinfo = self.done(f"r{r}.conjecture") or {}
        rows = self.db.conjectures(round=r) if self.selfplay.enabled else []
        status = [x["status"] for x in rows]
        return {
            "hindsight_checked": h.get("checked", 0), "hindsight_accepted": h.get("accepted", 0),
            "conj_proposed": len(rows),
            "conj_elaborated": sum(s not in ("proposed", "not_elaborated", "error") for s in status),
            "conj_trivial": status.count("trivial"),
            "conj_easy": status.count("easy"),
            "conj_kept": status.count("proved") + status.count("kept"),
            "conj_proved": status.count("proved"),
            "selfplay_seconds": round(h.get("seconds", 0) + cinfo.get("seconds", 0), 1),
        }

    def new_pair_columns(self, r: int) -> dict:
        from prover.loop.compare import new_pairs_by_round, pair_columns
        return pair_columns(new_pairs_by_round(self.db).get(r))

    def all_rows(self) -> list[dict]:
        return [r["metrics"] if isinstance(r["metrics"], dict) else json.loads(r["metrics"])
                for r in self.db.rounds(self.run_id)]

    def write_outputs(self, rows: list[dict], baseline: int):
        """rounds.csv and progress.png from the database's rounds, each written whole (a kill
        mid-write leaves the previous file, and the next start rewrites both)."""
        tmp = self.dir / "rounds.csv.tmp"
        with tmp.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=ROUND_FIELDS, extrasaction="ignore")
            w.writeheader()
            w.writerows(rows)
        os.replace(tmp, self.dir / "rounds.csv")
        plot_progress(rows, baseline, self.dir / "progress.png", self.cfg.name)


def _pair_columns(sources: dict) -> dict:
    return {"corpus": sources.get("corpus", 0), "proofs": sources.get("proof", 0),
            "hindsight": sources.get("hindsight", 0), "conjectures": sources.get("conjecture", 0),
            "statements": sources.get("statement", 0)}


def plot_progress(rows: list[dict], baseline: int, path: Path, title: str = ""):
    """Left: proof rates per round (pool cumulative, test, the menu line). Right: where each
    round's training pairs came from (stacked), and the round's kept conjectures."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rounds = [r["round"] for r in rows]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4))
    ax.plot(rounds, [100 * r["valid_proved"] / max(1, r["pool_size"]) for r in rows], "o-",
            label="valid (training pool, cumulative)")
    ax.plot(rounds, [100 * r["test_proved"] / max(1, r["test_size"]) for r in rows], "s-",
            label="test (model of the round)")
    ax.axhline(100 * baseline / max(1, rows[0]["test_size"]), color="gray", ls="--",
               label=f"menu baseline, test ({baseline}/{rows[0]['test_size']})")
    ax.set_xlabel("round")
    ax.set_ylabel("proof rate (%)")
    ax.set_xticks(rounds)
    ax.set_title(f"expert iteration: {title}")
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    bottom = [0] * len(rows)
    new = all("new_pairs" in r for r in rows)  # older runs' rows: the training set's pairs instead
    cols = (("new_pairs_proof", "pool proofs"), ("new_pairs_hindsight", "hindsight"),
            ("new_pairs_conjecture", "conjectures")) if new else (
           ("pairs_proofs", "pool proofs"), ("pairs_hindsight", "hindsight"), ("pairs_conjectures", "conjectures"))
    for col, label in cols:
        vals = [int(r.get(col) or 0) for r in rows]
        bx.bar(rounds, vals, bottom=bottom, label=label)
        bottom = [b + v for b, v in zip(bottom, vals)]
    bx.set_xlabel("round")
    bx.set_ylabel("new distinct verified pairs" if new else "distinct verified training pairs (corpus not shown)")
    bx.set_xticks(rounds)
    bx.set_title("new verified data per round")
    cx = bx.twinx()
    cx.plot(rounds, [int(r.get("conj_kept") or 0) for r in rows], "k^--", label="conjectures kept")
    cx.set_ylabel("conjectures kept")
    h1, l1 = bx.get_legend_handles_labels()
    h2, l2 = cx.get_legend_handles_labels()
    bx.legend(h1 + h2, l1 + l2, loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
