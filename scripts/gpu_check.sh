#!/usr/bin/env bash
# Every GPU check in one go, for a machine with an NVIDIA GPU and no network:
#   1. tests    every GPU test with MINIGRAD_REQUIRE_CUDA=1 (none can pass by skipping): the
#               ops against PyTorch, the backend against NumPy (also with the block cap
#               forced to 1, 3 and 7), a batch-256 LeNet step against the NumPy backend, a
#               real fault named by MINIGRAD_CUDA_SYNC=1;
#   2. memcheck, racecheck, synccheck, initcheck: the backend tests (float32, the "cuda"
#               case) under NVIDIA's compute-sanitizer, the four tools side by side, when
#               its binary is found: on PATH, in $CUDA_HOME/bin or /usr/local/cuda/bin, or
#               in the nvidia-cuda-sanitizer-api wheel put in .whl/ (git-ignored), which
#               this script unpacks into a temporary folder (docs/cuda.md says how to bring
#               it along); without it these parts say "absent", not "pass";
#   3. example  one epoch of examples/lenet_fashion.py on the GPU (its step captured as a
#               CUDA graph, the default), and one with --eager;
#   4. bench    the GPU benchmarks (LeNet step/epoch: minigrad eager and graph vs PyTorch
#               eager and graph; layers; each kernel of a step; the GEMM ladder,
#               bench_ops --ladder; the CPU side is `make bench`'s);
# then a table, one line per part, and last the four-way LeNet table and the two HEADLINE
# lines: minigrad's eager and captured ms/step against the GPU targets. It installs
# nothing: it uses the python3 on PATH, which
# must have CuPy, NumPy, PyTorch and pytest, and runs minigrad from this checkout
# (PYTHONPATH=.). Fashion-MNIST comes from $MINIGRAD_DATA, or ./data/fashion-mnist when that
# exists (copy the four .gz files there; data/ is git-ignored). Logs go to $OUT when set.
# Each part has its own time limit; together they add up to 590 s (60 + 150 + 120 + 90 + 170).
# Usage: bash scripts/gpu_check.sh   (or make gpu-check)
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
if [ -z "${MINIGRAD_DATA:-}" ] && [ -d data/fashion-mnist ]; then
  export MINIGRAD_DATA="$PWD/data/fashion-mnist"
fi
LOG="${OUT:-$(mktemp -d)}"
mkdir -p "$LOG"
PY="${PYTHON:-python3}"
PYTEST=("$PY" -m pytest -q -p no:cacheprovider)
declare -A RESULT DETAIL
PARTS=(setup tests memcheck racecheck synccheck initcheck example bench)

# run PART SECONDS COMMAND...: run it with a time limit, log to $LOG/PART.log, keep pass/fail
run() {
  local part=$1 limit=$2; shift 2
  echo "== $part (limit ${limit}s): $*"
  timeout "$limit" "$@" >"$LOG/$part.log" 2>&1
  local rc=$?
  tail -15 "$LOG/$part.log"
  if [ $rc = 0 ]; then RESULT[$part]=pass; else RESULT[$part]=FAIL; fi
  [ $rc = 124 ] && DETAIL[$part]="timed out after ${limit}s"
  [ $rc != 0 ] && [ $rc != 124 ] && DETAIL[$part]="exit $rc: see $LOG/$part.log"
  return 0
}
summary_of() {    # the last pytest summary line of a log
  grep -E "[0-9]+ (passed|failed|error)" "$LOG/$1.log" | tail -1 | sed 's/=//g; s/^ *//'
}

echo "== GPU: $(nvidia-smi -L 2>/dev/null | head -1)"
run setup 60 "$PY" -c "import minigrad, numpy, cupy, torch; r = minigrad.cuda.unavailable_reason()
print('minigrad', minigrad.__version__, '| numpy', numpy.__version__, '| cupy', cupy.__version__,
      '| torch', torch.__version__, '| cuda usable:', r is None, r or '')
assert r is None, r"
DETAIL[setup]=$(grep -E "^minigrad|Error" "$LOG/setup.log" | tail -1)

# 1. every GPU test
run tests 150 env MINIGRAD_REQUIRE_CUDA=1 "${PYTEST[@]}" -m cuda tests
DETAIL[tests]="$(summary_of tests) ${DETAIL[tests]:-}"

# 2. compute-sanitizer: find the binary, or unpack it from the wheel in .whl/
SANITIZER=$(command -v compute-sanitizer || true)
for d in "${CUDA_HOME:-/usr/local/cuda}/bin" /usr/local/cuda/bin; do
  [ -z "$SANITIZER" ] && [ -x "$d/compute-sanitizer" ] && SANITIZER="$d/compute-sanitizer"
done
WHEEL=$(ls .whl/nvidia_cuda_sanitizer_api-*.whl 2>/dev/null | tail -1)
if [ -z "$SANITIZER" ] && [ -n "$WHEEL" ]; then
  UNPACKED=$(mktemp -d)
  "$PY" - "$WHEEL" "$UNPACKED" <<'EOF'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:       # a wheel is a zip; keep the exec bits
    for member in wheel.infolist():
        if "/docs/" not in member.filename:
            path = wheel.extract(member, sys.argv[2])
            os.chmod(path, (member.external_attr >> 16) & 0o777 or 0o644)
EOF
  SANITIZER=$(ls "$UNPACKED"/nvidia/cu*/bin/compute-sanitizer 2>/dev/null | head -1)
fi
SAN_TESTS=(-m cuda -k "not cap and not float64 and not lenet and not real_fault" tests/test_cuda.py)
if [ -n "$SANITIZER" ]; then
  echo "== compute-sanitizer: $SANITIZER ($("$SANITIZER" --version 2>&1 | tail -1))"
  declare -A PIDS
  for tool in memcheck racecheck synccheck initcheck; do
    extra=()
    [ $tool = memcheck ] && extra=(--leak-check no)
    ( MINIGRAD_REQUIRE_CUDA=1 timeout 120 "$SANITIZER" --tool $tool "${extra[@]}" \
        --error-exitcode 99 --target-processes all "${PYTEST[@]}" "${SAN_TESTS[@]}" \
        >"$LOG/$tool.log" 2>&1; echo $? >"$LOG/$tool.rc" ) &
    PIDS[$tool]=$!
  done
  for tool in memcheck racecheck synccheck initcheck; do
    wait "${PIDS[$tool]}"
    rc=$(cat "$LOG/$tool.rc")
    echo "-- $tool (exit $rc)"; grep -E "ERROR SUMMARY|RACECHECK SUMMARY|passed|failed" \
      "$LOG/$tool.log" | tail -3
    if [ "$rc" = 0 ]; then RESULT[$tool]=pass; else RESULT[$tool]=FAIL; fi
    case $rc in 99) DETAIL[$tool]="sanitizer errors: see $LOG/$tool.log" ;;
                124) DETAIL[$tool]="timed out after 120s" ;;
                *) DETAIL[$tool]="$(summary_of $tool) (exit $rc: see $LOG/$tool.log)" ;;
    esac
    [ "$rc" = 0 ] && DETAIL[$tool]="$(summary_of $tool), no sanitizer error"
  done
else
  for tool in memcheck racecheck synccheck initcheck; do
    RESULT[$tool]=absent
    DETAIL[$tool]="no compute-sanitizer: put the nvidia-cuda-sanitizer-api wheel in .whl/"
  done
fi

# 3. one epoch of the example
run example 90 bash -c "'$PY' examples/lenet_fashion.py --device cuda --epochs 1 \
  --out '$LOG/run' && '$PY' examples/lenet_fashion.py --device cuda --epochs 1 --eager \
  --out '$LOG/run-eager'"
[ "${RESULT[example]}" = pass ] && DETAIL[example]=$(grep -E "^epoch 1," "$LOG/example.log" |
  sed 's/, time [^,]*//' | paste -sd ';' -)

# 4. benchmarks
run bench 170 bash -c "'$PY' -m benchmarks.bench_lenet --device cuda --repeats 5 --epochs 2 \
  --out '$LOG' && '$PY' -m benchmarks.bench_ops --device cuda --repeats 5 --out '$LOG' \
  && '$PY' -m benchmarks.bench_ops --ladder --repeats 3 --out '$LOG'"
sed -n '/^| configuration/,/^$/p' "$LOG/bench.log"
sed -n '/^| GEMM/,/^$/p' "$LOG/bench.log"
sed -n '/^| kernel of one eager/,/^$/p' "$LOG/bench.log"

echo
echo "================ minigrad GPU check ================"
status=0
for part in "${PARTS[@]}"; do
  printf "%-10s %-6s %s\n" "$part" "${RESULT[$part]:-FAIL}" "${DETAIL[$part]:-}"
  [ "${RESULT[$part]:-FAIL}" = FAIL ] && status=1
done
echo "logs and JSON: $LOG"
[ "$status" = 0 ] && echo "RESULT: every part that ran passed" || echo "RESULT: FAILED"

echo
echo "================ LeNet step on the GPU: minigrad vs PyTorch ================"
sed -n '/^| configuration/,/^$/p' "$LOG/bench.log"
grep -E "^HEADLINE" "$LOG/bench.log" ||
  echo "HEADLINE: no GPU step timings (the bench part did not finish: see $LOG/bench.log)"
exit "$status"
