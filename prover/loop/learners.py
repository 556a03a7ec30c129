"""The loop's learned scorers, retrained every round: the candidate ranker and the frontier's
value (a mixin of :class:`prover.loop.iterate.Experiment`).

Why apart from the loop: each learner reads every training tree so far, never an evaluation
tree (the evaluation problems are denied and evaluation labels skipped), and writes its model
under ``models/``; the round's searches pick it up through the run's state.
"""
from __future__ import annotations

import time

from prover import backends


class LearnerSteps:
    def ranker_step(self, r: int | str, eval_keys: set[str]) -> dict:
        """Train the candidate ranker on every edge of every training tree so far (never an
        evaluation tree: evaluation labels and the evaluation problems are left out), after
        round ``r``'s search (``"seed"``: after the seed search); round ``r``'s evaluation and
        the next round's search use it."""
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
        """tries_per_problem of the round's evaluation (of its search in a transductive run, which
        has no evaluation), ranker_recall of its ranker (held out)."""
        label = "model" if self.cfg.transductive else "eval"
        tries = [int(a.get("tries") or 0) for a in self.db.attempts_of([label], round=r)]
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
