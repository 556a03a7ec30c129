"""Training on many processes through accelerate's own launcher (issue #15): a 2-process CPU run
(gloo, data/accelerate/cpu.yaml) follows the loss curve of a 1-process run on the same data and
config, and resumes from its checkpoint to the same model as the run that was not stopped."""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from prover.train import toy_examples

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CONFIG = ROOT / "data" / "configs" / "model_tiny.json"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(data, out, steps, processes=2):
    if processes == 1:
        cmd = [str(BIN / "prover"), "train"]
    else:
        cmd = [str(BIN / "accelerate"), "launch", "--config_file", str(ROOT / "data" / "accelerate" / "cpu.yaml"),
               "--num_processes", str(processes), "--main_process_port", str(_port()), str(BIN / "prover"), "train"]
    r = subprocess.run(cmd + ["--data", str(data), "--out", str(out), "--config", str(CONFIG), "--steps", str(steps),
                              "--quiet"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    return json.loads((Path(out) / "metrics.json").read_text())


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    if not (BIN / "accelerate").exists():
        pytest.skip("accelerate's launcher is not installed (make setup)")
    path = tmp_path_factory.mktemp("toy") / "train.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in toy_examples(240, seed=1)))
    return path


def test_two_processes_follow_the_single_process_curve_and_resume(data, tmp_path):
    one = _launch(data, tmp_path / "one", 60, processes=1)
    two = _launch(data, tmp_path / "two", 60)
    assert one["processes"] == 1 and two["processes"] == 2
    a = [loss for _, loss in one["history"]["train"]]
    b = [loss for _, loss in two["history"]["train"]]
    assert len(a) == len(b) == 60
    # the same shape: both fall by far more than the gap between them, step for step
    assert a[-1] < a[0] / 5 and b[-1] < b[0] / 5
    assert all(abs(x - y) < 0.35 * max(x, y) + 0.15 for x, y in zip(a[::5], b[::5]))
    assert abs(one["heldout_loss"] - two["heldout_loss"]) < 0.25
    # stopped after its checkpoint at step 30 (the later checkpoint and the final model gone), then
    # resumed: the uninterrupted run's history and model
    stopped = tmp_path / "resumed"
    shutil.copytree(tmp_path / "two", stopped)
    for ck in (stopped / "checkpoints").iterdir():
        if ck.name != "step-0000030":
            shutil.rmtree(ck)
    (stopped / "metrics.json").unlink()
    resumed = _launch(data, stopped, 60)
    assert resumed["resumed_from"] == 30 and resumed["steps"] == 60 and resumed["processes"] == 2
    r = [loss for _, loss in resumed["history"]["train"]]
    assert r[:30] == b[:30]                        # the history up to the checkpoint is kept
    assert r[30:] == pytest.approx(b[30:], rel=1e-3, abs=1e-3)  # ... and the same batches follow
    assert resumed["heldout_loss"] == pytest.approx(two["heldout_loss"], rel=1e-3, abs=1e-3)
