#!/usr/bin/env bash
# Runs on the GPU machine from the repository root (see run-multi.sh): bash device-multi.sh <dir>
# Issues 17/18 in ONE device call, on every visible GPU: native-pipeline.cu on each device alone
# (CUDA_VISIBLE_DEVICES=d) for workloads (b) and (c) at 1, 2, 4 streams; the runner on all devices at once
# (TypedTrt.PipelineBenchmark --devices all); then the GPU test suite with every visible GPU.
# Brings back under $OUT: native-multi.jsonl, multi-bench.txt, multi-device-results.md, multi-device-results.jsonl,
# gpu-tests.txt, gpu-tests.log.
set -uo pipefail
dir="${1:-.gpu/multi}"
OUT="${OUT:-/tmp/multi-out}"; mkdir -p "$OUT"
work=/tmp/typedtrt-multi; rm -rf "$work"; mkdir -p "$work/res" "$work/native" "$work/tests"
tar -C "$work" -xJf "$dir/bench.tar.xz"
nvidia-smi --query-gpu=index,name,driver_version,memory.total,pci.bus_id --format=csv,noheader | tee "$work/gpu.txt"
nvidia-smi topo -m 2>/dev/null | head -20
export LD_LIBRARY_PATH="/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}" DOTNET_CLI_TELEMETRY_OPTOUT=1
nvcc -O3 -arch=native "$dir/native-pipeline.cu" -o "$work/native-pipeline" || exit 3
ptx=()
if nvcc -O3 -arch=native -ptx "$dir/native-pipeline.cu" -o "$work/pipeline.ptx"; then ptx=(--ptx "$work/pipeline.ptx"); fi
count=$(nvidia-smi -L | grep -c '^GPU ')
n="$work/native"
: > "$OUT/native-multi.jsonl"
for d in $(seq 0 $((count - 1))); do
  CUDA_VISIBLE_DEVICES=$d "$work/native-pipeline" 602112 4000 16 16 512 4 > "$n/native-b-dev$d.jsonl"
  CUDA_VISIBLE_DEVICES=$d "$work/native-pipeline" 602112 4000 200 33 512 4 > "$n/native-c-dev$d.jsonl"
  for f in b c; do sed "s/^{/{\"workload\":\"$f\",\"device\":$d,/" "$n/native-$f-dev$d.jsonl"; done >> "$OUT/native-multi.jsonl"
done
grep '"pipeline"' "$OUT/native-multi.jsonl"
echo "--- runner on devices: all ($count) ---"
timeout 300 "$work/bench/TypedTrt.PipelineBenchmark" --devices "${DEVICES:-all}" --native-dir "$n" "${ptx[@]}" --out "$work/res" --gpu-info "$work/gpu.txt" > "$OUT/multi-bench.txt" 2>&1
brc=$?
cp "$work/res/multi-device-results.md" "$work/res/multi-device-results.jsonl" "$OUT/" 2>/dev/null
grep -E "^\(|Bottleneck|device [0-9]+:|PCIe-bound" "$OUT/multi-bench.txt" | head -60
echo "benchmark exit code: $brc"
if [ "${SKIP_GPU_TESTS:-0}" != 1 ]; then
  echo "--- GPU tests (every visible GPU) ---"
  TYPEDTRT_GPU_OUT="$work/tests" TYPEDTRT_BENCH=0 timeout 240 "$work/bench/TypedTrt.Runtime.GpuTests" --results-directory "$work/tests" > "$OUT/gpu-tests.txt" 2>&1
  trc=$?
  cp "$work/tests/gpu-tests.log" "$OUT/" 2>/dev/null
  grep -E "^failed|failed:|succeeded:|skipped:|total:" "$OUT/gpu-tests.txt" | head -30
  grep '"multi_device' "$work/tests/gpu-tests.log" 2>/dev/null
  echo "gpu tests exit code: $trc"
fi
exit "$brc"
