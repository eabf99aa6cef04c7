#!/usr/bin/env bash
# Runs on the GPU machine from the repository root (see run-batching.sh): bash device-batching.sh <dir>
# 1. CPU proxy of the batching path (host engine doing no work, the machine's cores) for the new runtime and, when
#    run-batching.sh packed one, the baseline;
# 2. the benchmark's batching section (tiny + b, 64 single-row callers, native-pipeline pre-batched at the formed k)
#    with `typedtrt tune` over batching, for the new runtime; the same section (no tune) for the baseline;
# 3. the GPU batching tests (SKIP_GPU_TESTS=1 skips them).
# QUICK=1: only the tiny workload (all four S × MaxBatchSize points, (i) without batching, (ii) native pre-batched) of
#   the new runtime and, when packed, the baseline's; then the GPU batching tests (about 40 s, 70 s with a baseline).
# Brings back at most 8 files under $OUT.
set -uo pipefail
dir="${1:-.gpu/batch}"
OUT="${OUT:-/tmp/batch-out}"; mkdir -p "$OUT"
work=/tmp/typedtrt-batch; rm -rf "$work"; mkdir -p "$work"/{new,old,proxy-new,proxy-old,tests}
tar -C "$work" -xJf "$dir/bench.tar.xz"
have_old=0
if [ -f "$dir/old.tar.xz" ]; then
  cp -a "$work/bench" "$work/oldbench"; tar -C "$work" -xJf "$dir/old.tar.xz"; cp "$work"/old/TypedTrt.*.dll "$work/oldbench/"; have_old=1
fi
log="$OUT/summary.txt"
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; nproc; date -u; } | tee "$work/gpu.txt" "$log"
export LD_LIBRARY_PATH="/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}" DOTNET_CLI_TELEMETRY_OPTOUT=1
nvcc -O3 -arch=native "$dir/native-pipeline.cu" -o "$work/native-pipeline" || exit 3
nvcc -O3 -arch=native -ptx "$dir/native-pipeline.cu" -o "$work/pipeline.ptx" || exit 3
common=(--batching-only --native-bin "$work/native-pipeline" --ptx "$work/pipeline.ptx" --gpu-info "$work/gpu.txt")
step() { echo "=== $1 ($(date -u +%T))" | tee -a "$log"; }
gpu_tests() {
  if [ "${SKIP_GPU_TESTS:-0}" != 1 ]; then
    step "GPU batching tests"
    TYPEDTRT_GPU_OUT="$work/tests" TYPEDTRT_BENCH=0 timeout 60 "$work/bench/TypedTrt.Runtime.GpuTests" --results-directory "$work/tests" --filter-class "*BatchingGpuTests" > "$OUT/gpu-tests.txt" 2>&1
    echo "gpu tests exit code: $?" | tee -a "$log"; grep -E "failed|succeeded:|skipped:|total:" "$OUT/gpu-tests.txt" | head -20 | tee -a "$log"
  fi
}
if [ "${QUICK:-0}" = 1 ]; then
  step "new (tiny)"; timeout 50 "$work/bench/TypedTrt.PipelineBenchmark" "${common[@]}" --batching-workloads tiny --no-tune --out "$work/new" 2>&1 | grep -E '^batching|^native' | tee -a "$log"
  cp "$work/new/pipeline-results.md" "$OUT/batching-new.md"
  if [ $have_old = 1 ]; then
    step "old (tiny)"; timeout 50 "$work/oldbench/TypedTrt.PipelineBenchmark" "${common[@]}" --batching-workloads tiny --no-tune --out "$work/old" 2>&1 | grep -E '^batching|^native' | tee -a "$log"
    cp "$work/old/pipeline-results.md" "$OUT/batching-old.md"
  fi
  gpu_tests; step "done"; exit 0
fi
step "proxy new"; timeout 60 "$work/bench/TypedTrt.PipelineBenchmark" --cpu-proxy --proxy-only ThreadPool --out "$work/proxy-new" 2>&1 | grep '^proxy' | tee -a "$log"
if [ $have_old = 1 ]; then step "proxy old"; timeout 60 "$work/oldbench/TypedTrt.PipelineBenchmark" --cpu-proxy --proxy-only ThreadPool --out "$work/proxy-old" 2>&1 | grep '^proxy' | tee -a "$log"; fi
step "batching new (tiny, b, tune)"; timeout 170 "$work/bench/TypedTrt.PipelineBenchmark" "${common[@]}" --out "$work/new" 2>&1 | grep -E '^batching|^native|^ *[*~]? *[0-9]+ +[0-9]+ |^Pareto|^Recommended' | tee -a "$log"
cp "$work/new/pipeline-results.md" "$OUT/batching-new.md"; cp "$work/new/tune-batching.svg" "$OUT/" 2>/dev/null
if [ $have_old = 1 ]; then step "batching old (tiny, b)"; timeout 80 "$work/oldbench/TypedTrt.PipelineBenchmark" "${common[@]}" --no-tune --out "$work/old" 2>&1 | grep -E '^batching|^native' | tee -a "$log"; cp "$work/old/pipeline-results.md" "$OUT/batching-old.md"; fi
cat "$work"/proxy-new/batching-cpu-proxy.md "$work"/proxy-old/batching-cpu-proxy.md > "$OUT/proxy.md" 2>/dev/null
cat "$work"/new/pipeline-results.jsonl "$work"/proxy-new/batching-cpu-proxy.jsonl > "$OUT/results-new.jsonl" 2>/dev/null
gpu_tests
step "done"
