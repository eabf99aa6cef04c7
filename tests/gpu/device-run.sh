#!/usr/bin/env bash
# Runs on the GPU machine from the repository root (see run-gpu-tests.sh). Writes results under $OUT.
set -uo pipefail
OUT="${OUT:-/tmp/gpu-out}"; mkdir -p "$OUT"
work=/tmp/typedtrt-gpu; rm -rf "$work"; mkdir -p "$work"
tar -C "$work" -xJf .gpu/gpu-tests.tar.xz
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
export LD_LIBRARY_PATH="/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
export TYPEDTRT_GPU_OUT="$OUT" TYPEDTRT_BENCH="${TYPEDTRT_BENCH:-1}" DOTNET_CLI_TELEMETRY_OPTOUT=1
if [ -f .gpu/native-pipeline.cu ] && command -v nvcc >/dev/null; then
  nvcc -O3 -arch=native .gpu/native-pipeline.cu -o "$work/native-pipeline" && "$work/native-pipeline" > "$OUT/native.jsonl"
  echo "--- native (C++ reference) ---"; cat "$OUT/native.jsonl"
fi
echo "--- GPU tests ---"
"$work/gpu-tests/TypedTrt.Runtime.GpuTests" --results-directory "$OUT" 2>&1 | tee "$OUT/gpu-tests.txt"
rc=${PIPESTATUS[0]}
echo "--- gpu-tests.log ---"; cat "$OUT/gpu-tests.log" 2>/dev/null
echo "gpu tests exit code: $rc"
exit "$rc"
