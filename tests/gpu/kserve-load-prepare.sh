#!/usr/bin/env bash
# Prepares the KServe v2 load test (docs/benchmarks/kserve-load.md) for the quiet 16-core GPU machine, which has no
# .NET: publishes samples/Digits.Server (server and typed-client load generator in one program) self-contained for
# linux-x64, copies Debian's `hey` (a Go binary that needs only glibc) and a one-digit JSON request, and puts them with
# kserve-load-device.sh under <main checkout>/.gpu/<sub> (git-ignored; the device tool sends the main checkout).
#
#   tests/gpu/kserve-load-prepare.sh [main-checkout] [sub]        # defaults: /work/main, kserve
#
# Then ONE device call:  carry [".gpu/<sub>"]   command: bash .gpu/<sub>/kserve-load-device.sh .gpu/<sub>
# (env LOAD_SECONDS=30 STREAMS=8 ROWS="..." to change the run; see the device script).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
main="${1:-/work/main}"
sub="${2:-kserve}"
dest="$main/.gpu/$sub"
mkdir -p "$dest"
rm -rf "$dest/app" "$dest/app.tar.xz"
# The build inspects the model with the CLI at its RID-less Release path (TypedTrtToolPath in the project).
dotnet build "$repo/src/TypedTrt.Cli/TypedTrt.Cli.csproj" -c Release -v q -nologo -m:1
dotnet publish "$repo/samples/Digits.Server/Digits.Server.csproj" -c Release -r linux-x64 --self-contained \
  -p:PublishTrimmed=false -p:DebugType=none -o "$dest/app" -v q -nologo -m:1
tar -C "$dest" -cf - app | xz -T2 -6 > "$dest/app.tar.xz"
rm -rf "$dest/app"
cp /usr/bin/hey "$dest/hey"
# One held-out digit (label 2), pixels scaled to 0..1 as the model was trained, as a KServe v2 JSON request.
python3 - "$repo/samples/Digits/model/samples.json" > "$dest/digits1.json" <<'PY'
import json, sys
px = json.load(open(sys.argv[1]))["samples"][0]["pixels"]
print(json.dumps({"inputs": [{"name": "pixels", "shape": [1, 1, 8, 8], "datatype": "FP32", "data": [p / 16 for p in px]}]}, separators=(",", ":")))
PY
cp "$repo/tests/gpu/kserve-load-device.sh" "$dest/kserve-load-device.sh"
git -C "$repo" rev-parse --short HEAD > "$dest/commit.txt"
du -sh "$dest"/*
echo "device call: carry [\".gpu/$sub\"]  command: bash .gpu/$sub/kserve-load-device.sh .gpu/$sub"
