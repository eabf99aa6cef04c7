#!/usr/bin/env bash
# Prepares the multi-GPU run (issues 17/18): publishes the pipeline benchmark and the GPU tests self-contained (one
# tar.xz, via run-benchmark.sh) with native-pipeline.cu and device-multi.sh under <main checkout>/.gpu/<sub>.
#
#   tests/gpu/run-multi.sh [main-checkout] [sub]      # defaults: /work/main, multi
#
# Then ONE device call (the `run` tool, any kind: nvidia-h200 shows N=1, nvidia-h200-x2/x4/x8 the multi-GPU table):
#   command: bash .gpu/<sub>/device-multi.sh .gpu/<sub>      carry: [".gpu/<sub>"]
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
main="${1:-/work/main}"
sub="${2:-multi}"
"$repo/tests/gpu/run-benchmark.sh" "$main" "$sub" > /dev/null
rm -f "$main/.gpu/$sub/device-benchmark.sh"
cp "$repo/tests/gpu/device-multi.sh" "$main/.gpu/$sub/device-multi.sh"
du -sh "$main/.gpu/$sub"
echo "device command: bash .gpu/$sub/device-multi.sh .gpu/$sub   (carry: [\".gpu/$sub\"])"
