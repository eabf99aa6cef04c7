#!/usr/bin/env bash
# Prepares the ONNX Runtime CUDA run (docs/onnxruntime-cuda.md): fetches the PaddleOCR models, publishes the CUDA
# backend's tests, its benchmark and the Digits sample self-contained for linux-x64 WITHOUT ONNX Runtime's natives
# (one ~30 MB tar.xz), and stages ONNX Runtime's CUDA build (185 MiB as .tar.xz) in four parts, under
# <main checkout>/.gpu/<sub> (the tree the device tool sends; .gpu/ is git-ignored).
#
#   tests/gpu/ort-cuda-prepare.sh [main-checkout] [sub]        # defaults: /work/main, cuda
#
# Then FIVE device calls, strictly back to back (the machine forgets /tmp when it goes cold, 30 s after a call):
#   1-4. carry [".gpu/<sub>/ort/partN"]   command: mkdir -p /tmp/ortparts && cp .gpu/<sub>/ort/partN /tmp/ortparts/   (N = 0, 1, 2)
#   5.   carry [".gpu/<sub>/ort/part3", ".gpu/<sub>/ort/assemble.sh", ".gpu/<sub>/app.tar.xz", ".gpu/<sub>/ort-cuda-device.sh"]
#        command: bash .gpu/<sub>/ort-cuda-device.sh .gpu/<sub>
# (parts 0-2 are 55 MiB each, so they cannot share a call with the 30 MB payload; part 3 can.)
# The last call joins the parts into /tmp/ortlib, runs the tests, the benchmark and `digits --cuda --timing`, and brings
# back ort-cuda-tests.txt/.log, bench.txt, ort-cuda-results.md/.jsonl, tune-ocr-cls.svg and digits-cuda.txt.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
main="${1:-/work/main}"
sub="${2:-cuda}"
dest="$main/.gpu/$sub"
mkdir -p "$dest"
bash "$repo/tests/fetch-ocr-models.sh"
rm -rf "$dest/app" "$dest/app.tar.xz"
# The build inspects the models with the CLI at its RID-less Release path (TypedTrtToolPath in the projects).
dotnet build "$repo/src/TypedTrt.Cli/TypedTrt.Cli.csproj" -c Release -v q -nologo -m:1
for p in tests/TypedTrt.OnnxRuntime.Cuda.Tests/TypedTrt.OnnxRuntime.Cuda.Tests.csproj \
         tests/TypedTrt.OnnxRuntime.Cuda.Benchmark/TypedTrt.OnnxRuntime.Cuda.Benchmark.csproj \
         samples/Digits/Digits.csproj; do
  dotnet publish "$repo/$p" -c Release -r linux-x64 --self-contained -p:PublishTrimmed=false -p:DebugType=none \
    -o "$dest/app" -v q -nologo -m:1
done
# ONNX Runtime's natives travel separately (the CUDA build replaces the CPU build there).
rm -f "$dest/app"/libonnxruntime*.so*
tar -C "$dest" -cJf "$dest/app.tar.xz" app
rm -rf "$dest/app"
if [[ ! -f "$dest/ort/part3" ]]; then
  stage="$(mktemp -d)"; mkdir -p "$stage/.git/info"
  bash "${STAGE_ORT:-/work/shared/device/stage-ort-cuda.sh}" "$stage"
  mkdir -p "$dest/ort" && cp "$stage/.gpu/ort/"* "$dest/ort/" && rm -rf "$stage"
fi
cp "$repo/tests/gpu/ort-cuda-device.sh" "$dest/ort-cuda-device.sh"
du -sh "$dest"/* "$dest"/ort/*
echo "device calls: parts 0-2 one each, then: bash .gpu/$sub/ort-cuda-device.sh .gpu/$sub"
