"""Pick a backend by name: its environment class. The rest of the pipeline asks here."""
from __future__ import annotations


def make_env(backend: str, **kw):
    if backend == "coq":
        from coq_env.env import CoqEnv
        return CoqEnv(**kw)
    if backend == "lean":
        from lean_env.env import LeanEnv
        return LeanEnv(**kw)
    raise ValueError(f"unknown backend {backend!r} (expected coq or lean)")
