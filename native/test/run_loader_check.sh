#!/usr/bin/env bash
# Builds the real shim against the TensorRT headers in $1 (and CUDA headers in $2, or a 3-line
# stand-in for cuda_runtime_api.h when $2 is omitted: the shim uses only the cudaStream_t type),
# then checks library loading with stand-in libnvinfer builds (native/test/stub_nvinfer.c).
# Needs no GPU and no TensorRT libraries. Usage: native/test/run_loader_check.sh <trt-include> [cuda-include]
# With TTRT_SHIM_SO=<file> it checks that built shim instead of building one (the headers then only give the version).
set -euo pipefail
trt_inc=${1:?usage: $0 <tensorrt-include-dir> [cuda-include-dir]}
here=$(cd "$(dirname "$0")" && pwd)
native=$(dirname "$here")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [[ $# -ge 2 ]]; then
    cuda_inc=$2
else
    cuda_inc=$work/cuda
    mkdir -p "$cuda_inc"
    printf '%s\n' '#pragma once' 'typedef struct CUstream_st* cudaStream_t;' \
        'typedef struct CUevent_st* cudaEvent_t;' >"$cuda_inc/cuda_runtime_api.h"
fi
major=$(sed -nE 's/^#define (NV_TENSORRT_MAJOR|TRT_MAJOR_ENTERPRISE) ([0-9]+).*/\2/p' "$trt_inc/NvInferVersion.h" | head -1)
minor=$(sed -nE 's/^#define (NV_TENSORRT_MINOR|TRT_MINOR_ENTERPRISE) ([0-9]+).*/\2/p' "$trt_inc/NvInferVersion.h" | head -1)
[[ -n $major && -n $minor ]] || { echo "cannot read the version from $trt_inc/NvInferVersion.h" >&2; exit 2; }
same=$((major * 10000 + minor * 100 + 3))
newer_minor=$((major * 10000 + (minor + 1) * 100))
other_major=$(((major + 1) * 10000 + 100))
if [[ -n ${TTRT_SHIM_SO:-} ]]; then
    # check an already built shim (native/build-prebuilt.sh does, for the binaries it ships)
    echo "== TensorRT headers $major.$minor: checking the built shim $TTRT_SHIM_SO"
    cp "$TTRT_SHIM_SO" "$work/libtypedtrt_shim.so"
else
    echo "== TensorRT headers $major.$minor: building the shim"
    g++ -std=c++17 -Wall -Wextra -Werror -fvisibility=hidden -fPIC -shared -o "$work/libtypedtrt_shim.so" \
        "$native"/src/*.cpp -I"$native/include" -isystem "$trt_inc" -isystem "$cuda_inc" -ldl
fi
cc -O1 -o "$work/loader_check" "$here/loader_check.c" -I"$native/include" -L"$work" -ltypedtrt_shim \
    -Wl,-rpath,"$work"
stub() { cc -shared -fPIC -o "$work/$1" "$here/stub_nvinfer.c" "${@:2}"; }
stub libnvinfer_same.so -DSTUB_VERSION=$same
stub libnvinfer_newer.so -DSTUB_VERSION=$newer_minor
stub libnvinfer_major.so -DSTUB_VERSION=$other_major
stub libnvinfer_nocreate.so -DSTUB_VERSION=$same -DSTUB_NO_CREATE
fails=0
check() { echo "-- $*"; "$work/loader_check" "$@" || fails=$((fails + 1)); }
check "$work/does-not-exist.so" 6 "LD_LIBRARY_PATH"
check "$work/libnvinfer_nocreate.so" 6 "createInferRuntime_INTERNAL"
check "$work/libnvinfer_major.so" 7 "needs TensorRT $major.x"
check "$work/libnvinfer_same.so" 0 ""
check "$work/libnvinfer_newer.so" 0 ""
if [[ $minor -gt 0 ]]; then
    stub libnvinfer_older.so -DSTUB_VERSION=$((major * 10000 + (minor - 1) * 100))
    check "$work/libnvinfer_older.so" 7 "older than"
fi
# the default name, resolved through LD_LIBRARY_PATH
mkdir -p "$work/ld"
cp "$work/libnvinfer_same.so" "$work/ld/libnvinfer.so.$major"
echo "-- default name via LD_LIBRARY_PATH"
LD_LIBRARY_PATH="$work/ld" "$work/loader_check" "" 0 "" || fails=$((fails + 1))
echo "== $fails scenario(s) failed"
[[ $fails -eq 0 ]]
