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
            ranker (``ranker: "learned"``): retrain the candidate ranker on every training
            tree so far (round 0's search uses one trained on the seed search's trees, if any);
            conjecture (self-play): propose, screen and select conjectures
            (``prover.selfplay.conjecture``);
            eval: model r on the evaluation split at a fixed budget;
            report: a row in the database and ``rounds.csv``, and ``progress.png``.

Every step is recorded in ``state.json`` when it ends, and every step is resumable in
itself (search attempts are committed one by one, training resumes from checkpoints), so a
killed run continues from where it stopped with no proof lost or counted twice.

The evaluation split never enters a training set, a training search, a hindsight harvest,
a conjecture or a retrieval index: ``LeakError``, or refused and counted.

This module is the orchestration; the rest of the loop is one module per concern: the
preset's schema (``config``), a round's training set and the firewall (``training``), the
learned scorers (``learners``), the self-play steps (``selfplay_steps``), the budget per
problem (``selection``) and the run's reports (``report``).
"""
from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

from prover import backends
from prover.labels import LeakError
from prover.loop.config import ConfigError, IterateConfig
from prover.loop.learners import LearnerSteps
from prover.loop.report import pair_columns, plot_progress, write_rounds_csv
from prover.loop.selection import BudgetPolicy, history, report
from prover.loop.selfplay_steps import SelfPlaySteps
from prover.loop.training import source_counts, statement_signature, write_round_data
from prover.policy.spec import PolicySpec, model_spec
from prover.backends import load_problems
from prover.search import SearchConfig

RUNS = Path("runs")


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


class Experiment(LearnerSteps, SelfPlaySteps):
    """One run of the loop in ``runs/NAME/`` (see the module docstring); ``run`` is the loop."""

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
        """The pool and the evaluation problems; a transductive run's pool is its target, and it
        has no evaluation problems (a malformed target file is skipped with one line)."""
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
        if c.transductive:
            if not pool:
                raise ConfigError(f"target {c.target}: no problem to prove (neither a split of {c.backend}'s "
                                  f"dataset nor a directory of problem files with one that parses)")
            return pool, []
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
            write_round_data(self, r, pool_keys, eval_keys, data_file)
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
        if (c.tactic_model and not backend.auto_trace and not c.model_init and not (Path(c.corpus) / "train.jsonl").exists()
                and not c.bootstrap_menu_expansions):
            raise ConfigError(f"a {c.backend} run needs model_init (a trained model), a corpus of "
                              f"{c.backend} (goal, tactic) pairs at {c.corpus}/train.jsonl, or "
                              f"bootstrap_menu_expansions > 0 (seed proofs from the menu)")
        pool, evalp = self.load_sets()
        pool_keys, eval_keys = {p.key for p in pool}, {p.key for p in evalp}
        if c.transductive:
            self.log(f"transductive: {len(pool)} target problems ({c.target}), at most {c.rounds} rounds")
        else:
            self.log(f"{len(pool)} pool problems, {len(evalp)} evaluation problems, {c.rounds} rounds")
        if evalp and not self.done("baseline"):
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
            tinfo = self.done(f"r{r}.train") or (self.train_round(r, pool_keys, eval_keys) if c.tactic_model else
                                                 {"train_seconds": 0.0, "training_pairs": 0, "model": None})
            if not self.done(f"r{r}.train"):
                self.mark(f"r{r}.train", tinfo)
            model = tinfo["model"]
            if self.search_cfg.node_scorer == "value" and not self.done(f"r{r}.value"):
                self.mark(f"r{r}.value", self.value_step(r, eval_keys))
            if c.ranker == "learned" and r == 0 and not self.done("seed.ranker"):  # the seed search's trees
                self.mark("seed.ranker", self.ranker_step("seed", eval_keys))
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
            if c.ranker == "learned" and not self.done(f"r{r}.ranker"):  # for this round's evaluation and the next search
                self.mark(f"r{r}.ranker", self.ranker_step(r, eval_keys))
            if self.selfplay.enabled and self.selfplay.conjectures and not self.done(f"r{r}.conjecture"):
                self.mark(f"r{r}.conjecture", self.conjecture_step(r, model, pool, evalp))
            if evalp and not self.done(f"r{r}.eval"):
                s = self.search(evalp, "eval", r, self.model_policy(model, eval_keys), expansions=c.eval_expansions,
                                desc=f"round {r} eval")
                self.mark(f"r{r}.eval", {"seconds": s.seconds})
            sinfo = self.done(f"r{r}.search")
            row = {
                "round": r,
                "mode": "transductive" if c.transductive else "inductive",
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
                **{f"pairs_{k}": v for k, v in pair_columns(tinfo.get("sources", {})).items()},
                **self.selfplay_columns(r),
                **self.new_pair_columns(r),
                **self.ranker_columns(r),
            }
            self.db.record_round(self.run_id, r, row)
            rows.append(row)
            self.write_outputs(self.all_rows(), baseline)
            if c.transductive:
                self.log(f"round {r}: target proved {row['valid_proved']}/{len(pool)} (+{row['new_proofs']})")
            else:
                self.log(f"round {r}: pool proved {row['valid_proved']}/{len(pool)} (+{row['new_proofs']}), "
                         f"test proved {row['test_proved']}/{len(evalp)} (menu baseline {baseline})")
            stale = [x["new_proofs"] for x in self.all_rows()][-c.stop_after_stale:] if c.stop_after_stale else []
            if len(stale) == c.stop_after_stale and stale and not any(stale):
                self.log(f"stopped after round {r}: {c.stop_after_stale} round(s) in a row proved nothing new")
                break
        self.db.finish_run(self.run_id)
        return rows

    def model_policy(self, model: str | None, eval_keys: set[str]) -> PolicySpec:
        """The round's model policy (the preset's ``decode``); a retrieval source indexes the
        corpus and this run's database, a macro source this run's database, never the
        evaluation problems, a lemma source this run's own lemmas. Without a tactic model
        (``tactic_model: false``) the policy is the decode sources alone, in the ranker's order."""
        spec = model_spec(model, self.cfg.decode)
        if not self.cfg.tactic_model:
            spec = PolicySpec(sources=spec.sources, options=spec.options, decode=spec.decode)
        ranker = self.cfg.ranker
        if ranker == "learned":  # the newest ranker trained in this run (none yet: the sources' order)
            ranker = self.state.get("ranker_model") or "fixed"
        if ranker and ranker != "fixed":
            spec = replace(spec, ranker=ranker)
        spec = spec.with_options("macros", db=str(self.db.path), deny=sorted(eval_keys))
        spec = spec.with_options("lemmas", db=str(self.db.path), deny=sorted(eval_keys))  # own lemmas
        return spec.with_options("retrieval", corpus=self.cfg.corpus, db=str(self.db.path),
                                 deny=sorted(eval_keys))

    def new_pair_columns(self, r: int) -> dict:
        from prover.loop.compare import new_pairs_by_round, pair_columns
        return pair_columns(new_pairs_by_round(self.db).get(r))

    def all_rows(self) -> list[dict]:
        return [r["metrics"] if isinstance(r["metrics"], dict) else json.loads(r["metrics"])
                for r in self.db.rounds(self.run_id)]

    def write_outputs(self, rows: list[dict], baseline: int):
        """rounds.csv and progress.png from the database's rounds, each written whole (a kill
        mid-write leaves the previous file, and the next start rewrites both)."""
        write_rounds_csv(rows, self.dir / "rounds.csv")
        plot_progress(rows, baseline, self.dir / "progress.png", self.cfg.name)
