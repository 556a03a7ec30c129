#!/usr/bin/env bash
# The device check of a lent GPU machine, one command in at most 8 minutes (issue 39):
# LoRA fine-tuning of a Qwen2-architecture checkpoint for a few hundred steps, beam generation
# for a few hundred states (batched, and one state per call), written into $OUT:
# gpu_check.json (tokens per second, peak GPU memory, versions), loss.png, train_metrics.json, log.txt.
#   device:  bash scripts/gpu_check.sh            (its python3 holds torch, transformers, peft)
#   CPU:     bash scripts/gpu_check.sh --size cpu  (the same steps at the CPU model size; --tiny: seconds)
#   OUT defaults to runs/gpu_check
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-runs/gpu_check}"
mkdir -p "$OUT"
PY=python3
[ -x .venv/bin/python ] && PY=.venv/bin/python
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
timeout 480 "$PY" scripts/gpu_check.py --out "$OUT" "$@" 2>&1 | tee "$OUT/log.txt"
exit "${PIPESTATUS[0]}"
