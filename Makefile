# make demo: set up .venv, find or fetch Fashion-MNIST, train LeNet (GPU if there is one).
# make test: set up .venv, lint, run the test suite; make exercises: the learners' tasks.
# make bench: the benchmarks; make gpu-check: every GPU test and the GPU benchmarks, for a
# machine with an NVIDIA GPU (installs nothing); make test-emulated: the GPU tests on the
# CPU through a host emulator of the kernels (no GPU needed, slow).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# CUDA extra for the demo: cuda13 or cuda12 by what the driver supports, none without a GPU.
CUDA_EXTRA := $(shell nvidia-smi 2>/dev/null | sed -n 's/.*CUDA Version: \([0-9]*\).*/\1/p' \
                | awk '{ if ($$1 >= 13) print ",cuda13"; else if ($$1 >= 12) print ",cuda12" }')

.PHONY: demo test test-emulated lint bench gpu-check data clean exercises

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.test-ready: setup.py pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

$(VENV)/.demo-ready: setup.py pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[demo$(CUDA_EXTRA)]'
	touch $@

lint: $(VENV)/.test-ready
	$(PY) -m ruff check minigrad tests examples benchmarks

test: lint
	$(PY) -m pytest --timeout=600 $(PYTEST_ARGS)

# The tasks of docs/exercises.md: each test fails until its exercise is done (make test
# leaves them out).
exercises: $(VENV)/.test-ready
	$(PY) -m pytest -m exercise tests/exercises $(PYTEST_ARGS)

# Every GPU test without a GPU: CuPy replaced by the host emulator in tests/cuda_emu, the
# kernels built with AddressSanitizer and UBSan (python -m cuda_emu preloads their runtime),
# the device reporting an H200's 132 multiprocessors; then the backend tests again with every
# memory access recorded for races (but the three sized past 65,535 blocks, which the first pass
# ran: they check grid arithmetic, and take minutes with every access recorded). A per-test
# timeout turns a hang into a failure.
EMU_TIMEOUT ?= 900
test-emulated: $(VENV)/.test-ready
	PYTHONPATH=tests $(PY) -m cuda_emu --sanitize --sms 132 -m cuda -p no:cacheprovider \
	  --timeout=$(EMU_TIMEOUT) $(PYTEST_ARGS)
	PYTHONPATH=tests $(PY) -m cuda_emu --racecheck -m cuda -p no:cacheprovider \
	  --timeout=$(EMU_TIMEOUT) -k "not more_than" tests/test_cuda.py tests/test_ladder.py \
	  tests/test_backend_forms.py $(PYTEST_ARGS)

# Debian's package dataset-fashion-mnist, when we may install it; else the official files.
data: $(VENV)/.demo-ready
	@$(PY) -m minigrad.data --no-download >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's dataset-fashion-mnist"; \
	    apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1; } || \
	    echo "apt-get could not install it; downloading instead"; \
	  fi; }
	$(PY) -m minigrad.data

demo: data
	$(PY) examples/lenet_fashion.py $(DEMO_ARGS)

bench: $(VENV)/.test-ready
	$(PY) -m benchmarks.bench_ops --device all
	$(PY) -m benchmarks.bench_lenet --device all

gpu-check:
	bash scripts/gpu_check.sh

clean:
	rm -rf $(VENV) build *.egg-info runs bench-out
