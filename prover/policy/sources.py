"""Candidate sources: the registry a policy spec names its sources from.

A source offers tactics at a state besides what the policy's generator proposes; the
policy's scorer orders them (``prover.policy.spec``). A new source (retrieval comes next) is
one file with a class like :class:`prover.policy.menu.MenuSource` (``name``, ``tag``,
``static``, ``candidates(state)``) plus one line here.
"""
from __future__ import annotations

import importlib

SOURCES: dict[str, str] = {
    "menu": "prover.policy.menu:MenuSource",
    "templates": "prover.policy.templates:TemplateSource",
    "retrieval": "prover.policy.retrieval:RetrievalSource",
    "macros": "prover.policy.macros:MacroSource",
    "hints": "prover.policy.hints:HintSource",
    "cases": "prover.policy.cases:CaseSource",
    "witnesses": "prover.policy.witnesses:WitnessSource",
    "premises": "prover.policy.premises:PremiseSource",
    "lemmas": "prover.policy.lemmas:LemmaSource",
    "instances": "prover.policy.instances:InstanceSource",
    "numerals": "prover.policy.numerals:NumeralSource",
    "denominators": "prover.policy.denominators:DenominatorSource",
    "compute": "prover.policy.compute:ComputeSource",
    "logs": "prover.policy.logs:LogSource",
}


def source_class(name: str):
    where = SOURCES.get(name)
    if where is None:
        raise ValueError(f"unknown candidate source {name!r} (expected one of {', '.join(sorted(SOURCES))})")
    module, attr = where.split(":")
    return getattr(importlib.import_module(module), attr)


def make_source(name: str, backend, **options):
    """The source ``name`` for ``backend`` (a name or a Backend)."""
    from prover import backends
    return source_class(name)(backends.get(backend), **options)
