#!/usr/bin/env bash
# Runs on the GPU machine from the repository root (see run-benchmark.sh): bash device-benchmark.sh <dir>
set -uo pipefail
dir="${1:-.gpu/bench}"
OUT="${OUT:-/tmp/bench-out}"; mkdir -p "$OUT"
work=/tmp/typedtrt-bench; rm -rf "$work"; mkdir -p "$work"
tar -C "$work" -xJf "$dir/bench.tar.xz"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
export LD_LIBRARY_PATH="/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}" DOTNET_CLI_TELEMETRY_OPTOUT=1
nvcc -O3 -arch=native "$dir/native-pipeline.cu" -o "$work/native-pipeline" || exit 3
ptx=()
if nvcc -O3 -arch=native -ptx "$dir/native-pipeline.cu" -o "$work/pipeline.ptx"; then ptx=(--ptx "$work/pipeline.ptx"); fi
"$work/native-pipeline" 8388608 65536 64 66 512 8 > "$OUT/native-a.jsonl"
"$work/native-pipeline" 602112 4000 16 16 512 8 > "$OUT/native-b.jsonl"
"$work/native-pipeline" 602112 4000 200 33 512 8 > "$OUT/native-c.jsonl"
"$work/native-pipeline" 4 4 0 1 5000 8 > "$OUT/native-tiny.jsonl"
for f in a b c tiny; do echo "--- native $f ---"; cat "$OUT/native-$f.jsonl"; done
echo "--- runner benchmark ---"
timeout 300 "$work/bench/TypedTrt.PipelineBenchmark" --native-dir "$OUT" "${ptx[@]}" --out "$OUT" --gpu-info "$OUT/gpu.txt" > "$OUT/bench.txt" 2>&1
brc=$?
grep -v '^$' "$OUT/bench.txt" | head -150
echo "benchmark exit code: $brc"
if [ "${SKIP_GPU_TESTS:-0}" != 1 ]; then
  echo "--- GPU tests ---"
  TYPEDTRT_GPU_OUT="$OUT" TYPEDTRT_BENCH=0 timeout 200 "$work/bench/TypedTrt.Runtime.GpuTests" --results-directory "$OUT" > "$OUT/gpu-tests.txt" 2>&1
  trc=$?
  tail -15 "$OUT/gpu-tests.txt"
  echo "gpu tests exit code: $trc"
fi
exit "$brc"
