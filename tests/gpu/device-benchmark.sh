#!/usr/bin/env bash
# Runs on the GPU machine from the repository root (see run-benchmark.sh): bash device-benchmark.sh <dir>
# Brings back 8 files under $OUT (the device tool returns at most 8): native.jsonl, bench.txt,
# pipeline-results.md, pipeline-results.jsonl, tune-pipeline.svg, tune-batching.svg, gpu-tests.txt, gpu-tests.log.
# The runner benchmark also runs native-pipeline itself, pre-batched at the batch sizes its dynamic batcher formed.
set -uo pipefail
dir="${1:-.gpu/bench}"
OUT="${OUT:-/tmp/bench-out}"; mkdir -p "$OUT"
work=/tmp/typedtrt-bench; rm -rf "$work"; mkdir -p "$work/res" "$work/native" "$work/tests"
tar -C "$work" -xJf "$dir/bench.tar.xz"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$work/gpu.txt"
export LD_LIBRARY_PATH="/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}" DOTNET_CLI_TELEMETRY_OPTOUT=1
nvcc -O3 -arch=native "$dir/native-pipeline.cu" -o "$work/native-pipeline" || exit 3
ptx=()
if nvcc -O3 -arch=native -ptx "$dir/native-pipeline.cu" -o "$work/pipeline.ptx"; then ptx=(--ptx "$work/pipeline.ptx"); fi
n="$work/native"
"$work/native-pipeline" 8388608 65536 64 66 512 8 > "$n/native-a.jsonl"
"$work/native-pipeline" 602112 4000 16 16 512 8 > "$n/native-b.jsonl"
"$work/native-pipeline" 602112 4000 200 33 512 8 > "$n/native-c.jsonl"
"$work/native-pipeline" 4 4 0 1 5000 8 > "$n/native-tiny.jsonl"
for f in a b c tiny; do sed "s/^{/{\"workload\":\"$f\",/" "$n/native-$f.jsonl"; done > "$OUT/native.jsonl"
cat "$OUT/native.jsonl"
echo "--- runner benchmark ---"
timeout 420 "$work/bench/TypedTrt.PipelineBenchmark" --native-dir "$n" --native-bin "$work/native-pipeline" "${ptx[@]}" --out "$work/res" --gpu-info "$work/gpu.txt" > "$OUT/bench.txt" 2>&1
brc=$?
cp "$work/res/pipeline-results.md" "$work/res/pipeline-results.jsonl" "$work/res/tune-pipeline.svg" "$work/res/tune-batching.svg" "$OUT/" 2>/dev/null
sed -n '1,/^# Pipeline benchmark/p' "$OUT/bench.txt" | grep -v '^$' | head -150
echo "benchmark exit code: $brc"
if [ "${SKIP_GPU_TESTS:-0}" != 1 ]; then
  echo "--- GPU tests ---"
  TYPEDTRT_GPU_OUT="$work/tests" TYPEDTRT_BENCH=0 timeout 200 "$work/bench/TypedTrt.Runtime.GpuTests" --results-directory "$work/tests" > "$OUT/gpu-tests.txt" 2>&1
  trc=$?
  cp "$work/tests/gpu-tests.log" "$OUT/" 2>/dev/null
  grep -E "^failed|failed:|succeeded:|skipped:|total:" "$OUT/gpu-tests.txt" | head -30
  echo "gpu tests exit code: $trc"
fi
exit "$brc"
