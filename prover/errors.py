"""The error a backend raises when it cannot go on (``EnvError``), in a module that imports
nothing, so that the backends' registry (``prover.backends``) and the environment protocol
(``prover.env``, which re-exports it) can both use it without importing each other."""
from __future__ import annotations


class EnvError(RuntimeError):
    """The backend cannot continue (proof assistant missing, problem does not elaborate...)."""
