#!/usr/bin/env bash
# Prepares the issue-4 benchmark run: publishes tests/TypedTrt.PipelineBenchmark and tests/TypedTrt.Runtime.GpuTests
# self-contained for linux-x64 into one folder (they share the runtime files, so one ~30 MB tar.xz carries both),
# and copies native-pipeline.cu and the device-side script next to it, under <main checkout>/.gpu/<sub>.
#
#   tests/gpu/run-benchmark.sh [main-checkout] [sub]      # defaults: /work/main (the tree the device tool sends), bench
#
# Then ONE device call (the `run` tool):  bash .gpu/<sub>/device-benchmark.sh .gpu/<sub>
#   carry: [".gpu/<sub>"]
# It builds native-pipeline.cu (binary and PTX) with nvcc, runs it for the three workloads and the host-overhead
# case, runs the C# runner on the same PTX, writes pipeline-results.md/.jsonl and tune-pipeline.svg under $OUT, then
# runs the GPU tests (TYPEDTRT_BENCH=0).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
main="${1:-/work/main}"
sub="${2:-bench}"
dest="$main/.gpu/$sub"
mkdir -p "$dest"
rm -rf "$dest/bench" "$dest/bench.tar.xz"
for p in tests/TypedTrt.PipelineBenchmark/TypedTrt.PipelineBenchmark.csproj tests/TypedTrt.Runtime.GpuTests/TypedTrt.Runtime.GpuTests.csproj; do
  dotnet publish "$repo/$p" -c Release -r linux-x64 --self-contained -p:PublishTrimmed=false -p:DebugType=none \
    -o "$dest/bench" -v q -nologo -m:1
done
tar -C "$dest" -cJf "$dest/bench.tar.xz" bench
rm -rf "$dest/bench"
cp "${NATIVE_PIPELINE:-/work/shared/bench/native-pipeline.cu}" "$dest/native-pipeline.cu"
cp "$repo/tests/gpu/device-benchmark.sh" "$dest/device-benchmark.sh"
du -sh "$dest"
echo "device command: bash .gpu/$sub/device-benchmark.sh .gpu/$sub   (carry: [\".gpu/$sub\"])"
