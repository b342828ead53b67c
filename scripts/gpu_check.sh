#!/usr/bin/env bash
# Every GPU check in one go, for a machine with an NVIDIA GPU and no network:
#   1. the GPU tests, with MINIGRAD_REQUIRE_CUDA=1 so that none can pass by skipping;
#   2. one epoch of examples/lenet_fashion.py on the GPU;
#   3. the GPU benchmarks (LeNet step/epoch vs PyTorch eager and CUDA graph; layers; GEMM
#      vs cuBLAS);
# then a short table. It installs nothing: it uses the python3 on PATH, which must have
# CuPy, NumPy, PyTorch and pytest, and runs minigrad from this checkout (PYTHONPATH=.).
# Fashion-MNIST comes from $MINIGRAD_DATA, or ./data/fashion-mnist when that exists
# (copy the four .gz files there; data/ is git-ignored). Logs go to $OUT when it is set.
# Takes about 2-3 minutes on an H200; usage: bash scripts/gpu_check.sh  (or make gpu-check)
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
if [ -z "${MINIGRAD_DATA:-}" ] && [ -d data/fashion-mnist ]; then
  export MINIGRAD_DATA="$PWD/data/fashion-mnist"
fi
LOG="${OUT:-$(mktemp -d)}"
mkdir -p "$LOG"
PY="${PYTHON:-python3}"
status=0

echo "== GPU: $(nvidia-smi -L 2>/dev/null | head -1)"
"$PY" -c "import minigrad, numpy, cupy, torch; r = minigrad.cuda.unavailable_reason(); \
print('minigrad', minigrad.__version__, '| numpy', numpy.__version__, '| cupy', cupy.__version__, \
'| torch', torch.__version__, '| cuda usable:', r is None, r or '')" || status=1

echo "== 1. GPU tests (MINIGRAD_REQUIRE_CUDA=1)"
MINIGRAD_REQUIRE_CUDA=1 timeout 240 "$PY" -m pytest -q -m cuda -p no:cacheprovider tests \
  2>&1 | tee "$LOG/gpu_tests.log" | tail -25
[ "${PIPESTATUS[0]}" = 0 ] || status=1
tests_line=$(grep -E "passed|failed|error" "$LOG/gpu_tests.log" | tail -1)

echo "== 2. one epoch of LeNet on the GPU"
timeout 120 "$PY" examples/lenet_fashion.py --device cuda --epochs 1 --out "$LOG/run" \
  2>&1 | tee "$LOG/example.log"
[ "${PIPESTATUS[0]}" = 0 ] || status=1
epoch_line=$(grep -E "^epoch 1," "$LOG/example.log" | tail -1)

echo "== 3. benchmarks on the GPU"
timeout 240 "$PY" -m benchmarks.bench_lenet --device all --repeats 7 --epochs 2 \
  --out "$LOG" 2>&1 | tee "$LOG/bench_lenet.log"
[ "${PIPESTATUS[0]}" = 0 ] || status=1
timeout 180 "$PY" -m benchmarks.bench_ops --device cuda --repeats 5 --out "$LOG" \
  2>&1 | tee "$LOG/bench_ops.log"
[ "${PIPESTATUS[0]}" = 0 ] || status=1

echo
echo "================ minigrad GPU check ================"
echo "GPU tests:      ${tests_line:-(no result)}"
echo "LeNet on GPU:   ${epoch_line:-(no epoch line)}"
sed -n '/^| configuration/,/^$/p' "$LOG/bench_lenet.log"
sed -n '/^| GEMM/,/^$/p' "$LOG/bench_ops.log"
echo "logs and JSON: $LOG"
[ "$status" = 0 ] && echo "RESULT: all GPU checks passed" || echo "RESULT: FAILED (see above)"
exit "$status"
