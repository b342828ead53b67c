# make demo: set up .venv, find or fetch Fashion-MNIST, train LeNet (GPU if there is one).
# make test: set up .venv, lint, run the test suite; make exercises: the learners' tasks.
# make bench: the benchmarks; make gpu-check: the GPU first-run check (scripts/gpu_first_run.py:
# what matters first, a verdict per line in $OUT/summary.txt; installs nothing), for a
# machine with an NVIDIA GPU; make test-emulated: the GPU tests on the CPU through a host
# emulator of the kernels (no GPU needed, slow). make build STEP=n: step n of the
# build-it-yourself track (docs/build/README.md) on your code.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# CUDA extra for the demo: cuda13 or cuda12 by what the driver supports, none without a GPU.
CUDA_EXTRA := $(shell nvidia-smi 2>/dev/null | sed -n 's/.*CUDA Version: \([0-9]*\).*/\1/p' \
                | awk '{ if ($$1 >= 13) print ",cuda13"; else if ($$1 >= 12) print ",cuda12" }')

.PHONY: demo test test-slow test-emulated lint bench gpu-check data clean exercises build

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.test-ready: setup.py pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

$(VENV)/.demo-ready: setup.py pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[demo$(CUDA_EXTRA)]'
	touch $@

# The real CuPy and NVIDIA's NVRTC, for tests/test_real_cupy.py's checks without a GPU (every
# kernel through NVRTC with CuPy's options, every CuPy name minigrad uses): wheels of about
# 130 MB (cupy-cuda13x 70, nvidia-cuda-nvrtc 58, nvidia-cuda-runtime 2.5), 340 MB unpacked,
# installed into a folder of their own that only those tests put on sys.path, so that the
# rest of the suite still sees no CuPy. NVRTC 13.0: the CUDA of the GPU we measure on. If
# they cannot be installed, those tests skip and say why.
CUPY_API := $(VENV)/cupy-api
CUPY_API_WHEELS := 'cupy-cuda13x==14.2.*' 'nvidia-cuda-nvrtc==13.0.*' \
                   'nvidia-cuda-runtime==13.0.*' 'cuda-pathfinder==1.*'
$(CUPY_API)/.ready: | $(PY)
	$(PY) -m pip install -q --no-deps --upgrade --target $(CUPY_API) $(CUPY_API_WHEELS) && \
	  touch $@ || echo "could not install the real CuPy and NVRTC: tests/test_real_cupy.py will skip"

lint: $(VENV)/.test-ready
	$(PY) -m ruff check minigrad tests examples benchmarks scripts build_track

# make test leaves out the end-to-end runs marked slow (whole epochs on the real data: minutes
# each); make test-slow runs just those.
test: lint $(CUPY_API)/.ready
	$(PY) -m pytest --timeout=600 -m "not slow" $(PYTEST_ARGS)

test-slow: $(VENV)/.test-ready
	$(PY) -m pytest --timeout=1800 -m slow $(PYTEST_ARGS)

# The tasks of docs/exercises.md: each test fails until its exercise is done (make test
# leaves them out).
exercises: $(VENV)/.test-ready
	$(PY) -m pytest -m exercise tests/exercises $(PYTEST_ARGS)

# The build-it-yourself track: step STEP's tests on your code in build_track/learner/ (copied
# from build_track/skeleton/ on the first run); REFERENCE=3,5 takes steps 3 and 5 from the
# reference solutions instead, and the run's header says so. OpenBLAS on one thread: the
# tests' arrays are tiny. make test checks the track itself (tests/test_build_track.py).
build: $(VENV)/.test-ready
	@case "$(STEP)" in [1-9]) ;; *) echo "usage: make build STEP=n [REFERENCE=3,5], n from 1 to 9 \
	  (docs/build/README.md)"; exit 2;; esac
	OPENBLAS_NUM_THREADS=1 MINIGRAD_BUILD=learner MINIGRAD_BUILD_REFERENCE=$(REFERENCE) \
	  $(PY) -m pytest -p no:cacheprovider -m "not slow" build_track/tests/test_step0$(STEP)_*.py \
	  $(PYTEST_ARGS)

# Every GPU test without a GPU: CuPy replaced by the host emulator in minigrad/emulate, the
# kernels built with AddressSanitizer and UBSan (python -m minigrad.emulate preloads their runtime),
# the device reporting an H200's 132 multiprocessors; then the backend tests again with every
# memory access recorded for races (but the three sized past 65,535 blocks, which the first pass
# ran: they check grid arithmetic, and take minutes with every access recorded). A per-test
# timeout turns a hang into a failure.
EMU_TIMEOUT ?= 900
test-emulated: $(VENV)/.test-ready
	$(PY) -m minigrad.emulate --sanitize --sms 132 -m pytest -m cuda -p no:cacheprovider \
	  --timeout=$(EMU_TIMEOUT) $(PYTEST_ARGS)
	$(PY) -m minigrad.emulate --racecheck -m pytest -m cuda -p no:cacheprovider \
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

# GPU_CHECK_ARGS: e.g. --deadline 300, --out DIR (default $OUT), --first-part-only
gpu-check:
	$(PYTHON) scripts/gpu_first_run.py $(GPU_CHECK_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info runs bench-out
