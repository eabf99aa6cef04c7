#!/usr/bin/env bash
# Puts the include/ folder of public NVIDIA/TensorRT tags into native/third_party/tensorrt/<tag>/include
# (git-ignored: TensorRT headers are never committed). These are what native/build-prebuilt.sh and
# native/test/gpu_compile_check.sh compile against.
#
# Usage: native/fetch-tensorrt-headers.sh [--repo <TensorRT git dir or URL>] [tag ...]
#   --repo  a local clone or bare mirror of github.com/NVIDIA/TensorRT (default: clones that URL,
#           one shallow clone per tag)
#   tags    default: the tags the prebuilt shims and the compile check use (see TAGS below)
set -euo pipefail
native=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=https://github.com/NVIDIA/TensorRT.git
if [[ ${1:-} == --repo ]]; then
    repo=${2:?--repo needs a value}
    shift 2
fi
# v10.0.0 / v11.0: the oldest headers of each major (the prebuilt shims); v10.16 / v11.1: the newest,
# compile-checked with -Werror; v10.1.0: the other side of the 10.1 gate (getDeviceMemorySizeV2).
TAGS=(v10.0.0 v10.1.0 v10.16 v11.0 v11.1)
[[ $# -gt 0 ]] && TAGS=("$@")
dest_root=$native/third_party/tensorrt
for tag in "${TAGS[@]}"; do
    dest=$dest_root/$tag
    rm -rf "$dest"
    mkdir -p "$dest"
    if [[ -d $repo ]]; then
        git --git-dir="$(git -C "$repo" rev-parse --absolute-git-dir 2>/dev/null || echo "$repo")" archive "$tag" include | tar -x -C "$dest"
    else
        tmp=$(mktemp -d)
        git clone --quiet --depth 1 --branch "$tag" "$repo" "$tmp/trt"
        cp -r "$tmp/trt/include" "$dest/"
        rm -rf "$tmp"
    fi
    version=$(sed -nE 's/^#define (NV_TENSORRT_(MAJOR|MINOR|PATCH)|TRT_(MAJOR|MINOR|PATCH)_ENTERPRISE) ([0-9]+).*/\4/p' \
        "$dest/include/NvInferVersion.h" | head -3 | paste -sd.)
    echo "$tag -> $dest/include (TensorRT $version)"
done
