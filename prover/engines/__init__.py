"""Worker-pool engines: where search, evaluation and tracing jobs run.

Every engine has one interface: ``Engine(workers, init, init_args).imap(job, items)``
yields ``(item, result)`` as jobs finish; each worker builds its state once with
``init(*init_args)`` (a prover process and a policy) and runs ``job(state, item)`` per item;
a job that raises, or a worker that dies, gives ``{"error": ...}`` for that item only.
Items carry everything a job needs (a problem and its budget), so one pool serves a run.

A new engine is one file with such a class plus one line in ``ENGINES``; callers pick it by
name with :func:`make_pool`. ``local``: processes on this machine; ``ray``: actors of a Ray
cluster (``RAY_ADDRESS``, or ``--address`` on the command line).
"""
from __future__ import annotations

import importlib
import os
from typing import Callable

ENGINES: dict[str, str] = {
    "local": "prover.engines.local:LocalPool",
    "ray": "prover.engines.ray_pool:RayPool",
}
DEFAULT = "local"


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def make_pool(engine: str, workers: int, init: Callable, init_args: tuple = ()):
    where = ENGINES.get(engine or DEFAULT)
    if where is None:
        raise ValueError(f"unknown engine {engine!r} (expected one of {', '.join(sorted(ENGINES))})")
    module, attr = where.split(":")
    return getattr(importlib.import_module(module), attr)(workers, init, init_args)
