"""Shared helpers for the Lean tests: a LeanRepl / LeanEnv wired to the transcript stand-in."""
from __future__ import annotations

import sys
from pathlib import Path

from lean_env.env import LeanEnv
from lean_env.repl import LeanRepl

FAKE = str(Path(__file__).resolve().parent / "lean_fake_repl.py")


def fake_command(base: str, *extra: str) -> list[str]:
    from lean_transcripts import TRANSCRIPTS
    return [sys.executable, FAKE, str(TRANSCRIPTS / base), *extra]


def fake_repl(base: str, *extra: str, timeout: float = 20.0, memory_limit_mb=None) -> LeanRepl:
    return LeanRepl(fake_command(base, *extra), timeout=timeout, memory_limit_mb=memory_limit_mb)


def fake_env(base: str, *extra: str, timeout: float = 20.0, memory_limit_mb=None) -> LeanEnv:
    repl = fake_repl(base, *extra, timeout=timeout, memory_limit_mb=memory_limit_mb)
    env = LeanEnv(repl, timeout=timeout)
    env._own_repl = True
    return env
