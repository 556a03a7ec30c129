"""The Coq world's automation as candidates: CoqHammer and Interval (Debian ``libcoq-hammer``
with ``eprover``, ``z3``, ``cvc5``; ``libcoq-interval``), loaded when installed and enabled
(``enabled``: CoqHammer by default, Interval on request).

Why: one ``sauto`` or ``hammer`` call proves miniF2F problems that best-first search over the
menu misses, and ``interval`` decides real inequalities over bounded variables that ``lra`` and
``nra`` cannot. ``scripts/ensure_coq.sh`` installs them.

Two sides, kept apart on purpose:
  * the environment loads ``From Hammer Require Import Hammer.`` (the ``hammer`` tactic, which
    calls the external provers, and the reconstruction tactics) and ``From Interval Require
    Import Tactic.``;
  * a stored proof never calls an external prover: the environment rewrites a successful
    ``hammer`` into the reconstruction tactic CoqHammer reports (``Replace the hammer tactic
    with: ...``), and the checker's file loads only ``From Hammer Require Import Tactics.``
    (reconstruction, no plugin) and Interval's tactic, each only when the proof uses it. The
    checker refuses a proof that still says ``hammer``.
"""
from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from pathlib import Path

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_']*")

# CoqHammer's reconstruction tactics (Hammer.Tactics), as its manual lists them
HAMMER_TACTICS = frozenset({
    "sauto", "hauto", "qauto", "lauto", "sfirstorder", "hfirstorder", "qfirstorder", "ssimpl", "qsimpl",
    "sintuition", "strivial", "qcrush", "scrush", "hcrush", "fcrush", "ecrush", "sdone", "leauto",
    "sblast", "qblast", "hblast", "sprover", "sdauto", "srun", "scongruence",
})
INTERVAL_TACTICS = frozenset({"interval", "interval_intro", "integral", "integral_intro"})

# library folder under user-contrib -> (what the environment imports after a problem's header,
# what a checked file imports, the tactic words that need it, what a fresh coqtop loads once)
LIBRARIES = {
    "Hammer": ("From Hammer Require Import Hammer.", "From Hammer Require Import Tactics.", HAMMER_TACTICS,
               "From Hammer Require Hammer."),
    "Interval": ("From Interval Require Import Tactic.", "From Interval Require Import Tactic.", INTERVAL_TACTICS,
                 "From Interval Require Tactic."),
}
CHECK_IMPORTS = tuple(v[1] for v in LIBRARIES.values())

# external programs that tactics call: csdp (micromega's `psatz`, Debian `coinor-csdp`: without
# it every `psatz` fails), eprover, z3, cvc5 (CoqHammer's `hammer`)
SOLVERS = ("csdp", "eprover", "z3", "cvc5")

_REPLACE = re.compile(r"Replace the hammer tactic with:\s*(.+?)\s*$", re.M)


@functools.lru_cache(maxsize=1)
def installed() -> tuple[str, ...]:
    """The automation libraries this Coq has (folders of ``coqc -where``/user-contrib)."""
    if not shutil.which("coqc"):
        return ()
    try:
        where = subprocess.run(["coqc", "-where"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ()
    return tuple(lib for lib in LIBRARIES if (Path(where) / "user-contrib" / lib).is_dir())


@functools.lru_cache(maxsize=1)
def solvers() -> tuple[str, ...]:
    """The ``SOLVERS`` on this machine's PATH."""
    return tuple(s for s in SOLVERS if shutil.which(s))


DEFAULT = ("Hammer",)
ENV_VAR = "PROVER_COQ_AUTOMATION"


def enabled() -> tuple[str, ...]:
    """The installed libraries the environment loads: ``$PROVER_COQ_AUTOMATION`` (a comma list
    of ``LIBRARIES`` names, "" for none), default CoqHammer alone. Interval is opt-in: it loads
    mathcomp's ssreflect, whose global hints change what ``auto`` proves (in the menu's own
    search, ``auto`` no longer closes ``b + 0 = b`` on nat), so every menu search would change."""
    raw = os.environ.get(ENV_VAR)
    wanted = DEFAULT if raw is None else tuple(w.strip() for w in raw.split(",") if w.strip())
    unknown = [w for w in wanted if w not in LIBRARIES]
    if unknown:
        raise ValueError(f"${ENV_VAR}: unknown automation {', '.join(unknown)} (expected {', '.join(LIBRARIES)})")
    return tuple(lib for lib in installed() if lib in wanted)


def env_prelude() -> str:
    """The sentences the environment loads after the tactic prelude ("" without the libraries)."""
    return " ".join(LIBRARIES[lib][0] for lib in enabled())


def preload() -> str:
    """What a fresh coqtop loads, without importing, before any problem (so that importing it
    after each problem's header costs nothing; loading Interval takes about a second)."""
    return " ".join(LIBRARIES[lib][3] for lib in enabled())


def words(tactic: str) -> set[str]:
    return set(_WORD.findall(tactic))


def check_imports(tactics) -> list[str]:
    """The imports a checked file needs for ``tactics`` (in ``CHECK_IMPORTS`` order)."""
    used = set().union(*(words(t) for t in tactics)) if tactics else set()
    return [v[1] for v in LIBRARIES.values() if used & v[2]]


def uses_hammer(tactic: str) -> bool:
    return "hammer" in words(tactic)


def reconstruct(tactic: str, output: str) -> str | None:
    """``tactic`` with its ``hammer`` replaced by the reconstruction CoqHammer reported in
    ``output``; None when that cannot be done exactly (no report, several different ones, or
    more than one ``hammer`` in the tactic)."""
    found = {" ".join(m.split()).rstrip(".") for m in _REPLACE.findall(output)}
    if len(found) != 1 or len(re.findall(r"\bhammer\b", tactic)) != 1:
        return None
    return re.sub(r"\bhammer\b", lambda _: f"({found.pop()})", tactic)
