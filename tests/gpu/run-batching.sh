#!/usr/bin/env bash
# Prepares the issue-14 batching run (tiny workload and workload b, 64 single-row callers) for ONE device call:
# publishes tests/TypedTrt.PipelineBenchmark and tests/TypedTrt.Runtime.GpuTests self-contained for linux-x64 into one
# folder, optionally the same benchmark over a baseline runtime (BASELINE_SRC: a source tree, e.g. `git archive main`,
# whose TypedTrt.* assemblies replace the new ones in a copy: "old" numbers from the same device call), and copies
# native-pipeline.cu and the device-side script next to it, under <main checkout>/.gpu/<sub>.
#
#   [BASELINE_SRC=/tmp/old-src | BASELINE_PUB=<its publish folder>] tests/gpu/run-batching.sh [main-checkout] [sub]   # defaults: /work/main, batch
#
# Then ONE device call (the `run` tool):  bash .gpu/<sub>/device-batching.sh .gpu/<sub>      carry: [".gpu/<sub>"]
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
main="${1:-/work/main}"
sub="${2:-batch}"
dest="$main/.gpu/$sub"
mkdir -p "$dest"
rm -rf "$dest/bench" "$dest/old" "$dest"/*.tar.xz
for p in tests/TypedTrt.PipelineBenchmark/TypedTrt.PipelineBenchmark.csproj tests/TypedTrt.Runtime.GpuTests/TypedTrt.Runtime.GpuTests.csproj; do
  dotnet publish "$repo/$p" -c Release -r linux-x64 --self-contained -p:PublishTrimmed=false -p:DebugType=none \
    -o "$dest/bench" -v q -nologo -m:1
done
tar -C "$dest" -cJf "$dest/bench.tar.xz" bench
rm -rf "$dest/bench"
if [ -n "${BASELINE_SRC:-}${BASELINE_PUB:-}" ]; then
  pub="${BASELINE_PUB:-$dest/old-full}"
  [ -n "${BASELINE_PUB:-}" ] || dotnet publish "$BASELINE_SRC/tests/TypedTrt.PipelineBenchmark/TypedTrt.PipelineBenchmark.csproj" -c Release -r linux-x64 \
    --self-contained -p:PublishTrimmed=false -p:DebugType=none -o "$pub" -v q -nologo -m:1
  mkdir -p "$dest/old"
  cp "$pub"/TypedTrt.*.dll "$dest/old/"
  rm -f "$dest/old/TypedTrt.PipelineBenchmark.dll" # the baseline runs this branch's benchmark program and harness over its libraries
  tar -C "$dest" -cJf "$dest/old.tar.xz" old
  rm -rf "$dest/old" "$dest/old-full"
fi
cp "${NATIVE_PIPELINE:-/work/shared/bench/native-pipeline.cu}" "$dest/native-pipeline.cu"
cp "$repo/tests/gpu/device-batching.sh" "$dest/device-batching.sh"
du -sh "$dest"
echo "device command: bash .gpu/$sub/device-batching.sh .gpu/$sub   (carry: [\".gpu/$sub\"])"
