"""Where the project finds third-party data: ``../shared/data`` beside the repository,
or ``$PROVER_DATA_DIR``; ``make data`` downloads the same repositories there for users
who have no shared folder (see ``data/fetch.sh``)."""
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
    return data_dir() / name
