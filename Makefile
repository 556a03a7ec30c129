# Two commands matter: `make iterate` (the main job) and `make test`. Both install what they need.
PY      := .venv/bin/python
PROVER  := .venv/bin/prover
BACKEND ?= coq
# the Lean loop has its own preset (data/configs/lean.json): a Coq config would read a Coq corpus
CONFIG  ?= $(if $(filter lean,$(BACKEND)),lean,default)
DB      ?= runs/$(CONFIG)/proofs.db
CHECKPOINT ?=  # a Hugging Face model directory to start from (CONFIG=gpu needs one)
STAMP   := .venv/.installed

.PHONY: setup coq venv test test-full iterate bench browse data lean-setup clean

setup: coq venv

coq:  # Coq and its automation, and chromium for the browse-page test (apt-get, as root)
	@bash scripts/ensure_coq.sh

venv: $(STAMP)
$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	@touch $(STAMP)

test: setup
	$(PY) -m pytest -q -ra
	@echo "the Lean tests again, on the REPL recorded at v4.24.0 (the toolchain miniF2F-lean4 pins):"
	PROVER_LEAN_TRANSCRIPTS=v4.24.0 $(PY) -m pytest -q -ra tests/test_lean_*.py tests/test_backend_conformance.py

# the full passes (all of miniF2F) run past the suite's 300 s per test (pyproject.toml)
test-full: setup
	PROVER_FULL=1 $(PY) -m pytest -q -ra --timeout 3600

iterate: setup
	$(PROVER) iterate --config data/configs/$(CONFIG).json --backend $(BACKEND) $(if $(CHECKPOINT),--checkpoint $(CHECKPOINT))

bench: setup
	$(PY) bench/bench_env.py
	$(PY) bench/bench_search.py
	$(PY) bench/bench_speed.py
	$(PY) bench/bench_ray.py
	$(PY) bench/bench_cheats.py
	$(PY) bench/bench_model.py
	$(PY) bench/bench_retrieval.py
	$(PY) bench/bench_ranker.py
	OUT=runs/bench/gpu_check bash scripts/gpu_check.sh --size cpu   # LoRA vs full fine-tuning, batched vs single generation

browse: setup
	$(PY) -m prover.browse $(DB)

data:
	@bash data/fetch.sh

lean-setup:
	@bash lean_env/setup.sh

clean:
	rm -rf .venv .pytest_cache build *.egg-info
