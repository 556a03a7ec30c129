"""Browse a proof database in the web browser with datasette (``make browse DB=...``).

Datasette gets the project's table descriptions and canned queries
(``data/datasette/metadata.json``) and the project's pages (``prover/datasette_plugins``: the
run, each problem, each attempt's search tree drawn, each state). Canned queries belong to a database name, which
datasette takes from the file name, so the metadata is re-keyed for the file served.
"""
from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from prover.db import DBError, ProofDB

METADATA = Path(__file__).resolve().parent.parent / "data" / "datasette" / "metadata.json"
PLUGINS = Path(__file__).resolve().parent / "datasette_plugins"  # the run, problem, attempt and state pages
TEMPLATE_NAME = "proofs"  # the database key used in METADATA


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def metadata_for(db_path: str | Path) -> Path:
    """The metadata file to serve ``db_path`` with: the template, re-keyed to its name."""
    name = Path(db_path).stem
    if name == TEMPLATE_NAME:
        return METADATA
    metadata = json.loads(METADATA.read_text(encoding="utf-8"))
    metadata["databases"] = {name: metadata["databases"][TEMPLATE_NAME]}
    handle, path = tempfile.mkstemp(prefix=f"datasette-{name}-", suffix=".json")
    with open(handle, "w", encoding="utf-8") as fp:
        json.dump(metadata, fp)
    return Path(path)


def serve(db_path: str | Path, port: int | None = None, host: str = "127.0.0.1",
          **popen_kwargs) -> subprocess.Popen:
    """Start datasette on ``db_path`` and return the process (the caller stops it).

    The chosen port is on the returned object as ``.port`` and the address as ``.url``.
    """
    port = port or free_port(host)
    command = [sys.executable, "-m", "datasette", str(db_path),
               "--metadata", str(metadata_for(db_path)), "--plugins-dir", str(PLUGINS),
               "-h", host, "-p", str(port)]
    proc = subprocess.Popen(command, **popen_kwargs)
    proc.port = port
    proc.url = f"http://{host}:{port}/"
    proc.pages = f"http://{host}:{port}/-/prover/run"
    return proc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m prover.browse",
                                     description="Browse a proof database with datasette.")
    parser.add_argument("db", metavar="DB", help="the proof database (runs/NAME/proofs.db)")
    parser.add_argument("--port", type=int, default=None, help="default: a free port")
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    try:
        ProofDB(args.db, create=False).close()
    except DBError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    proc = serve(args.db, port=args.port, host=args.host)
    print(f"datasette: {proc.url}  the run: {proc.pages}  (Ctrl-C stops it)", file=sys.stderr)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        proc.wait(timeout=10)
        return 0


if __name__ == "__main__":
    sys.exit(main())
