"""Active selection: where each round spends its search budget.

Expert iteration stalls when it keeps re-solving what it already solves. Each round this
policy reads the attempt history and gives:
  * problems never tried: ``base`` expansions;
  * unsolved problems whose last search ran out of budget (or time): ``growth`` times the
    largest budget they were tried with (capped at ``max_budget``): the frontier gets more
    search every time it resists;
  * unsolved problems whose last search *exhausted* its tree (every candidate at every open
    node failed, well inside the budget): only ``exhausted_retry`` expansions, since more
    budget buys nothing with the same candidates; a new model may propose new ones;
  * solved problems whose best proof is longer than ``short_enough`` tactics: a small
    ``solved_retry`` budget, to find shorter proofs (shorter proofs are better training data);
  * solved problems with a proof of ``short_enough`` tactics or fewer: nothing.
The whole policy lives here; ``report`` says what a round spent where.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from prover.search.best_first import EXPANSIONS


@dataclass
class BudgetPolicy:
    base: int = EXPANSIONS
    growth: float = 2.0
    max_budget: int = 128
    solved_retry: int = 2
    short_enough: int = 1
    exhausted_retry: int = 1

    def as_dict(self) -> dict:
        return asdict(self)

    def budgets(self, keys: list[str], history: dict[str, dict]) -> dict[str, int]:
        """``history[key]``: {"budget": largest expansions budget tried, "best": shortest
        accepted proof length or None, "exhausted": the last search failed with its tree
        exhausted}. Returns expansions per key (0: skip this round)."""
        out = {}
        for k in keys:
            h = history.get(k)
            if h is None:
                out[k] = self.base
            elif h["best"] is None and h.get("exhausted"):
                out[k] = self.exhausted_retry
            elif h["best"] is None:
                out[k] = min(self.max_budget, max(self.base, int(round(h["budget"] * self.growth))))
            elif h["best"] > self.short_enough:
                out[k] = self.solved_retry
            else:
                out[k] = 0
        return out


def _fresh() -> dict:
    return {"budget": 0, "best": None, "exhausted": False}


def history(db, keys: list[str], policies: tuple[str, ...]) -> dict[str, dict]:
    """Largest expansions budget each problem was tried with by ``policies``, whether its
    latest such search exhausted its tree (outcome ``failed``), and its shortest accepted
    proof (found by any policy)."""
    hist: dict[str, dict] = {}
    for r in db.attempt_history(policies):
        b = r["budget"]
        b = b if isinstance(b, dict) else json.loads(b or "{}")
        n = int(b.get("max_expansions", 0))
        h = hist.setdefault(r["problem"], _fresh())
        h["budget"] = max(h["budget"], n)
        h["exhausted"] = r["outcome"] == "failed"  # the latest attempt decides
    for problem, best in db.shortest_lengths().items():
        if problem in hist or problem in keys:
            hist.setdefault(problem, _fresh())["best"] = best
    return {k: v for k, v in hist.items() if k in set(keys)}


def report(budgets: dict[str, int], hist: dict[str, dict]) -> dict:
    solved = {k for k, h in hist.items() if h["best"] is not None}
    return {
        "budget_unsolved": sum(v for k, v in budgets.items() if k not in solved),
        "budget_solved": sum(v for k, v in budgets.items() if k in solved),
        "problems_unsolved": sum(1 for k, v in budgets.items() if k not in solved and v > 0),
        "problems_exhausted": sum(1 for k, h in hist.items() if h["best"] is None and h.get("exhausted")),
        "problems_solved_retried": sum(1 for k, v in budgets.items() if k in solved and v > 0),
        "problems_skipped": sum(1 for v in budgets.values() if v == 0),
    }
