#!/usr/bin/env bash
# Prepares the GPU test run: publishes tests/TypedTrt.Runtime.GpuTests self-contained for linux-x64 (the GPU machine
# has no .NET) into <main checkout>/.gpu/gpu-tests, packs it as .gpu/gpu-tests.tar.xz (the device tool carries at most
# 64 MiB), and copies the native reference pipeline and the device-side script next to it.
#
#   tests/gpu/run-gpu-tests.sh [main-checkout]        # default: /work/main (the tree the device tool sends)
#
# Then run on the device machine (the `run` tool, carry [".gpu"]):   bash .gpu/device-run.sh
# It unpacks, builds native-pipeline.cu with nvcc, runs the GPU tests (TYPEDTRT_BENCH=1 includes the benchmark) and
# leaves gpu-tests.log (JSON lines), native.jsonl and the test output under $OUT.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
main="${1:-/work/main}"
dest="$main/.gpu"
mkdir -p "$dest"
rm -rf "$dest/gpu-tests" "$dest/gpu-tests.tar.xz"
dotnet publish "$repo/tests/TypedTrt.Runtime.GpuTests/TypedTrt.Runtime.GpuTests.csproj" \
  -c Release -r linux-x64 --self-contained -p:PublishTrimmed=false -p:DebugType=none \
  -o "$dest/gpu-tests" -v q -nologo
tar -C "$dest" -cJf "$dest/gpu-tests.tar.xz" gpu-tests
rm -rf "$dest/gpu-tests"
native="${NATIVE_PIPELINE:-/work/shared/bench/native-pipeline.cu}"
if [ -f "$native" ]; then cp "$native" "$dest/native-pipeline.cu"; fi
cp "$repo/tests/gpu/device-run.sh" "$dest/device-run.sh"
du -sh "$dest"
echo "device command: bash .gpu/device-run.sh   (carry: [\".gpu\"])"
