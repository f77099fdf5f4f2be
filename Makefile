# Two commands on a fresh machine: `make run` (the app) and `make test` (the whole suite).
# Both create and reuse .venv. llama-cpp-python is compiled once with portable CPU flags
# (a native build crashes on AMX Xeons and would not run on older desktops) into a wheel
# cache outside the repository, so later installs never pick up a native build.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
LLAMA_VERSION := 0.3.36
WHEEL_DIR ?= $(HOME)/.cache/desktop-rag/wheels
PORTABLE_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
LLAMA_WHEEL_STAMP := $(WHEEL_DIR)/.llama-cpp-python-$(LLAMA_VERSION)-portable
STAMP := $(VENV)/.installed
PIP := $(BIN)/python -m pip

.PHONY: setup run test test-fast bench clean bundle bundle-test

setup: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(LLAMA_WHEEL_STAMP): | $(BIN)/python
	mkdir -p $(WHEEL_DIR)
	@echo "Building llama-cpp-python $(LLAMA_VERSION) with portable CPU flags (about 5 minutes, once)..."
	CMAKE_ARGS="$(PORTABLE_CMAKE_ARGS)" $(PIP) wheel --no-deps --no-cache-dir -w $(WHEEL_DIR) llama-cpp-python==$(LLAMA_VERSION)
	touch $@

# torch first: installed after llama-cpp-python (whose numpy and diskcache come with the project),
# pip printed "ERROR: ... dependency conflicts" although the install then completed
$(STAMP): pyproject.toml $(LLAMA_WHEEL_STAMP) | $(BIN)/python
	$(PIP) install torch==2.13.0
	$(PIP) install --no-index --find-links $(WHEEL_DIR) --no-deps llama-cpp-python==$(LLAMA_VERSION)
	$(PIP) install --find-links $(WHEEL_DIR) -e ".[test]"
	touch $@

run: setup
	$(BIN)/python -m desktop_rag

test: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

test-fast: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -m "not integration"

bench: setup
	$(BIN)/python benchmarks/bench_ingest.py

# The desktop bundle (packaging/README.md): dist/desktop-rag-<version>-linux-<arch>.tar.gz, about
# 2 minutes. PyInstaller goes into the build venv only; the app never imports it.
PYINSTALLER_VERSION := 6.22.3
bundle: setup
	$(PIP) install --quiet pyinstaller==$(PYINSTALLER_VERSION)
	nice -n 5 packaging/build-bundle.sh $(BIN)/python

# Unpacks the newest bundle and runs it end to end in a clean environment (needs `make bundle` first).
bundle-test:
	PYTHON=$(BIN)/python packaging/bundle-test.sh

clean:
	rm -rf $(VENV) build *.egg-info
