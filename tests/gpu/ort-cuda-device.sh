#!/usr/bin/env bash
# On the GPU machine, from the repository root (see ort-cuda-prepare.sh): bash ort-cuda-device.sh <dir>
# Joins ONNX Runtime's CUDA build (parts sent by the earlier calls + part3 carried now) into /tmp/ortlib, unpacks the
# published programs, puts the CUDA build next to them, then runs the GPU tests, the benchmark and the Digits sample.
set -uo pipefail
dir="${1:-.gpu/cuda}"
OUT="${OUT:-/tmp/ort-cuda-out}"; mkdir -p "$OUT"
mkdir -p /tmp/ortparts && for f in "$dir"/ort/part*; do [ -f "$f" ] && cp -n "$f" /tmp/ortparts/; done
bash "$dir/ort/assemble.sh" || exit 3
work=/tmp/typedtrt-ortcuda; rm -rf "$work"; mkdir -p "$work/tr"
tar -C "$work" -xJf "$dir/app.tar.xz"
cp -a /tmp/ortlib/. "$work/app/"
export LD_LIBRARY_PATH="$work/app:/usr/local/cuda/lib64:/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}" DOTNET_CLI_TELEMETRY_OPTOUT=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$work/gpu.txt"
nproc
echo "--- GPU tests ---"
TYPEDTRT_GPU_OUT="$OUT" timeout "${TESTS_TIMEOUT:-170}" "$work/app/TypedTrt.OnnxRuntime.Cuda.Tests" --results-directory "$work/tr" > "$OUT/ort-cuda-tests.txt" 2>&1
trc=$?
grep -E "^failed|^\s*(total|failed|succeeded|skipped):" "$OUT/ort-cuda-tests.txt" | head -40
echo "tests exit code: $trc"
echo "--- benchmark ---"
# One process per phase: a failure (e.g. a CUDA graph capture) cannot leave state behind for the next measurements.
brc=0; : > "$OUT/bench.txt"
for phase in plain graph memory tune; do
  timeout "${BENCH_TIMEOUT:-150}" "$work/app/TypedTrt.OnnxRuntime.Cuda.Benchmark" --phase "$phase" --models "$work/app/models" --out "$OUT" --gpu-info "$work/gpu.txt" --seconds "${BENCH_SECONDS:-0.8}" >> "$OUT/bench.txt" 2>&1
  rc=$?; echo "phase $phase exit code: $rc"; [ $rc -eq 0 ] || brc=$rc
done
grep -E "req/s|FAILED|per extra slot|Recommended" "$OUT/bench.txt" | grep -v "^  " | head -60
echo "benchmark exit code: $brc"
echo "--- digits --cuda ---"
(cd "$work/app" && timeout 40 ./digits --cuda --timing --streams 2) > "$OUT/digits-cuda.txt" 2>&1
drc=$?
tail -25 "$OUT/digits-cuda.txt"
echo "digits exit code: $drc"
exit $(( trc != 0 ? 1 : (brc != 0 ? 2 : (drc != 0 ? 4 : 0)) ))
