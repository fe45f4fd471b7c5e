# Two commands do all the set-up:  `make run`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
RAG    := $(VENV)/bin/rag
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test install install-test chromium unit fuzz bench clean models

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test chromium

# Browser tests drive Debian's chromium (Playwright's own download does not work offline).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; }

# Installs, builds the index from seeds/ if there is none, and serves http://$RAG_HOST:$RAG_PORT
run: install
	$(RAG) serve

test: install-test
	$(PY) -m pytest -q

# Fuzzes the API with new random inputs (the suite's fuzzing repeats the same draws).
fuzz: install-test
	HYPOTHESIS_PROFILE=explore $(PY) -m pytest -q tests/server/test_fuzz_api.py

unit: install-test
	$(PY) -m pytest -q -m "not integration and not browser"

# Retrains the verifier (about 35 minutes on 2 cores); the weights in models/ are committed.
TRAINING_DATA ?= ../shared/data/training
models: install
	$(RAG) train verifier --data $(TRAINING_DATA) --out models/verifier

bench: install
	$(PY) bench/bench_ask.py

clean:
	rm -rf $(VENV) data .pytest_cache test-output
