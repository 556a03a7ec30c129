"""The loop's self-play steps (a mixin of :class:`prover.loop.iterate.Experiment`): hindsight
lemmas from the training trees, conjectures proposed, screened and selected, and the
statements the model writes.

Why apart from the loop: these steps walk the run's trees and make new problems; each one
is resumable in itself and keeps the evaluation split out (``prover.selfplay``).
"""
from __future__ import annotations

import time

from prover import backends


class SelfPlaySteps:
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
            cands += C.mutations(roots, sp.operators, sp.mutations_per_round, self.cfg.seed + r,
                                 order=backend.order_symbols)
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
