"""Self-play: more verified data per round than the problems' own proofs give.

  hindsight.py    every goal a training-pool tree solved, failed searches included, checked
                  as a standalone lemma: its (state, tactic) pairs train
  conjecture.py   statements the loop poses itself (stuck subgoals, named mutations), screened
                  (elaborates, not trivial, new, not from the evaluation split) and selected
                  STP-style (barely provable ones are kept)
  written.py      the optional ``written`` operator: the model, trained on statements too,
                  writes conjectures for unsolved pool statements

``prover iterate`` runs them when the preset's ``selfplay`` section enables them
(:class:`SelfPlayConfig`); ``--no-selfplay`` runs the same preset without.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields


@dataclass
class SelfPlayConfig:
    enabled: bool = False
    hindsight: bool = True               # lemmas from solved goals of training-pool trees
    hindsight_share: float = 0.3         # their share of the non-corpus training pairs
    hindsight_max_checks: int = 300      # lemmas checked per round at most (shortest first)
    conjectures: bool = True
    operators: list = field(default_factory=lambda: ["stuck", "drop_hyp", "perturb_const", "specialise", "weaken"])
    stuck_per_round: int = 30            # stuck subgoals proposed per round
    stuck_per_problem: int = 2
    mutations_per_round: int = 30        # mutations proposed per round
    screen_timeout: float = 1.0          # seconds per menu tactic when screening (trivial?)
    attempt_budgets: list = field(default_factory=lambda: [1, 2, 4])  # growing: STP-style selection
    # the ``written`` operator: on when ``operators`` lists it (no preset does: the CPU model
    # writes nothing that elaborates, data/results/written_offline_long.md)
    statement_share: float = 0.1         # share of statement-writing examples among the non-corpus pairs
    written_parents: int = 10            # unsolved pool statements the model writes for, per round
    written_per_parent: int = 4          # statements sampled per parent (nucleus, de-duplicated)
    written_max_tokens: int = 160        # the longest statement it may write, in tokens
    retire_after: int = 2                # a kept conjecture unproved by this many pool rounds leaves the pool

    @classmethod
    def from_dict(cls, d: dict | None) -> "SelfPlayConfig":
        d = dict(d or {})
        known = {f.name for f in fields(cls)}
        bad = sorted(set(d) - known)
        if bad:
            raise ValueError(f"unknown selfplay keys {', '.join(bad)} (expected {', '.join(sorted(known))})")
        cfg = cls(**d)
        from prover.selfplay.conjecture import OPERATORS
        unknown = [o for o in cfg.operators if o not in OPERATORS]
        if unknown:
            raise ValueError(f"unknown conjecture operator {unknown[0]!r} (expected {', '.join(OPERATORS)})")
        if not cfg.attempt_budgets or sorted(cfg.attempt_budgets) != list(cfg.attempt_budgets):
            raise ValueError("attempt_budgets must be a non-empty growing list of expansions")
        for name in ("hindsight_share", "statement_share"):
            if not 0 <= getattr(cfg, name) < 1:
                raise ValueError(f"{name} must be in [0, 1)")
        return cfg

    def as_dict(self) -> dict:
        return asdict(self)
