"""Policies: given proof states, propose candidate tactics with log-probabilities.

The search asks a policy for candidates per state; it never knows whether they come from a
fixed menu or a language model. A policy is described by data (:class:`PolicySpec`: a
generator, candidate sources, a scorer) and built by :func:`build_policy`.

  base.py       Candidate, the Policy and CandidateSource protocols
  spec.py       PolicySpec, the named policies, build_policy
  sources.py    the candidate-source registry (one line per source)
  menu.py       the menu source          templates.py  the hypothesis-template source
  fixed.py      the fixed scorer (MenuPolicy, the floor)
  model.py      the model: generator and scorer (ModelPolicy)
"""
from prover.policy.base import Candidate, CandidateSource, Policy
from prover.policy.fixed import FixedPolicy, MenuPolicy, scored_menu
from prover.policy.spec import NAMED, PolicySpec, build_policy, model_spec

__all__ = ["Candidate", "CandidateSource", "Policy", "FixedPolicy", "MenuPolicy", "scored_menu",
           "NAMED", "PolicySpec", "build_policy", "model_spec"]
