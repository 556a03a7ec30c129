"""Where the Lean installation lives, in one place: ``setup.sh``, the environment and the
checker must agree on it.

Layout (``PROVER_LEAN_HOME``, default ``<repo>/../lean``)::

    <home>/repl/.lake/build/bin/repl     the REPL binary (built by setup.sh)
    <home>/project/                      a Lake project that requires Mathlib
                                         (``PROVER_LEAN_PROJECT`` overrides this one)
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NOT_INSTALLED = "lean is not installed: run `make lean-setup`"


def lean_home() -> Path:
    return Path(os.environ.get("PROVER_LEAN_HOME") or (REPO.parent / "lean"))


def lean_project() -> Path:
    env = os.environ.get("PROVER_LEAN_PROJECT")
    return Path(env) if env else lean_home() / "project"


def repl_binary() -> Path:
    return lean_home() / "repl" / ".lake" / "build" / "bin" / "repl"


def lake() -> str | None:
    """The ``lake`` executable: on PATH, or in elan's default bin directory."""
    found = shutil.which("lake")
    if found:
        return found
    elan = Path(os.environ.get("ELAN_HOME") or Path.home() / ".elan") / "bin" / "lake"
    return str(elan) if elan.exists() else None


def default_repl_command() -> list[str] | None:
    """``lake env <home>/repl/.lake/build/bin/repl``, or None when lake is missing."""
    exe = lake()
    if exe is None:
        return None
    return [exe, "env", str(repl_binary())]
