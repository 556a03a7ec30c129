"""Where the project finds third-party data, for every backend: ``$PROVER_DATA_DIR``, else
``../shared/data`` beside the repository, else ``data/external``, where ``make data``
downloads the same repositories for users who have no shared folder (``data/fetch.sh``)."""
from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    env = os.environ.get("PROVER_DATA_DIR")
    if env:
        return Path(env)
    shared = REPO.parent / "shared" / "data"
    if shared.is_dir():
        return shared
    return REPO / "data" / "external"


def dataset(name: str) -> Path:
    """The folder of one data set (``minif2f-coq``, ``minif2f-lean4``...)."""
    return data_dir() / name
