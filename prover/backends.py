"""Pick a backend by name: its environment class. The rest of the pipeline asks here."""
from __future__ import annotations


def check_available(backend: str) -> None:
    """Raise EnvError with one line saying what to install when ``backend`` cannot run here."""
    from prover.env import EnvError
    if backend == "coq":
        from coq_env.coqtop import CoqMissing, find_coqtop
        try:
            find_coqtop()
        except CoqMissing as e:
            raise EnvError(str(e)) from None
    elif backend == "lean":
        from lean_env.paths import NOT_INSTALLED, default_repl_command, repl_binary
        if default_repl_command() is None or not repl_binary().exists():
            raise EnvError(NOT_INSTALLED)
    else:
        raise EnvError(f"unknown backend {backend!r} (expected coq or lean)")


def make_env(backend: str, **kw):
    if backend == "coq":
        from coq_env.env import CoqEnv
        return CoqEnv(**kw)
    if backend == "lean":
        from lean_env.env import LeanEnv
        return LeanEnv(**kw)
    raise ValueError(f"unknown backend {backend!r} (expected coq or lean)")
