#!/usr/bin/env bash
# Builds the prebuilt TensorRT shims that TypedTrt.TensorRT ships in runtimes/linux-x64/native/:
#   libtypedtrt_trt10.so  against the oldest TensorRT 10 headers (v10.0.0): loads with every TensorRT 10.x
#   libtypedtrt_trt11.so  against the oldest TensorRT 11 headers (v11.0):   loads with every TensorRT 11.x
# and checks them (exports, undefined symbols, NEEDED libraries, the glibc they need, the loader scenarios
# with stand-in libnvinfer builds), and runs the -Werror compile check (native/test/gpu_compile_check.sh)
# against the tags in COMPILE_CHECK_TAGS (default v10.0.0 v10.16 v11.1). Meant for the GPU machine (g++, nvcc, CUDA headers); needs no GPU and no
# TensorRT library.
#
# Usage: native/build-prebuilt.sh <headers-root> <out-dir>
#   headers-root  holds <tag>/include/NvInferVersion.h (native/fetch-tensorrt-headers.sh makes it:
#                 native/third_party/tensorrt)
#   out-dir       gets linux-x64/{libtypedtrt_trt10.so,libtypedtrt_trt11.so,manifest.json} (copy them over the
#                 repository's native/prebuilt/linux-x64/) and logs/.
# Exit status 0 only when every build and check passed.
set -uo pipefail
native=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
hdrs=$(cd "${1:?usage: $0 <headers-root> <out-dir>}" && pwd)
out=${2:?usage: $0 <headers-root> <out-dir>}
mkdir -p "$out/linux-x64" "$out/logs"
out=$(cd "$out" && pwd)
dest=$out/linux-x64
TARGETS=("10 v10.0.0" "11 v11.0")

cuda_inc=${CUDA_INC:-/usr/local/cuda/include}
if [[ ! -f $cuda_inc/cuda_runtime_api.h ]] && command -v nvcc >/dev/null; then
    cuda_inc=$(dirname "$(command -v nvcc)")/../include
fi
if [[ ! -f $cuda_inc/cuda_runtime_api.h ]]; then
    echo "no CUDA headers (cuda_runtime_api.h) in '$cuda_inc'; set CUDA_INC" >&2
    exit 2
fi
cuda_inc=$(cd "$cuda_inc" && pwd)
cuda_version=$(sed -nE 's/^#define CUDART_VERSION ([0-9]+).*/\1/p' "$cuda_inc/cuda_runtime_api.h" | head -1)
cuda_note=${cuda_version:+CUDA runtime headers $cuda_version}
cuda_note=${cuda_note:-a stand-in cuda_runtime_api.h without CUDART_VERSION (the shim uses only cudaStream_t)}
source_hash=$(bash "$native/source-hash.sh")
compiler=$(g++ --version | head -1)
os=$( (. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME") || uname -sr)
glibc_here=$(ldd --version 2>/dev/null | head -1 | awk '{print $NF}')
# -static-libstdc++: the shims must not need a newer libstdc++ than the user's system has (libgcc_s stays
# shared: every system has it, and its static unwinder would need glibc 2.35's _dl_find_object);
# TTRT_PORTABLE_GLIBC: src/glibc_compat.cpp (no glibc 2.38 symbol from the static libstdc++);
# gc-sections + -s keep them small; -z defs fails the link on any undefined symbol that no NEEDED library
# provides (libnvinfer is dlopen'ed, never linked).
# The version script exports the ttrt_ functions only (libstdc++.a's own symbols stay hidden, so the garbage
# collection can drop what the shim does not use).
map=$(mktemp)
trap 'rm -f "$map"' EXIT
printf '%s\n' '{' '  global: ttrt_*;' '  local: *;' '};' >"$map"
FLAGS=(-std=c++17 -O2 -Wall -Wextra -Werror -fPIC -shared -fvisibility=hidden -ffunction-sections -fdata-sections
    -DTTRT_PORTABLE_GLIBC -static-libstdc++ -Wl,--exclude-libs,ALL -Wl,--version-script="$map" -Wl,--gc-sections
    -Wl,-z,defs -Wl,-z,now -Wl,-z,relro -Wl,--as-needed -s)
# The oldest glibc the shims may need (docs/tensorrt.md): 2.34 moved dlopen and pthread into libc.
GLIBC_FLOOR=2.34
api_count=$(grep -cE '^TTRT_API .* TTRT_CALL ttrt_' "$native/include/typedtrt_shim.h")

# The -Werror compile check runs alongside the builds (the GPU machine has the cores for it).
CHECK_TAGS=(${COMPILE_CHECK_TAGS:-v10.0.0 v10.16 v11.1})
if [[ ${TTRT_SKIP_COMPILE_CHECK:-0} != 1 ]]; then
    CUDA_INC=$cuda_inc bash "$native/test/gpu_compile_check.sh" "$native" "$hdrs" "${CHECK_TAGS[@]}" \
        >"$out/logs/compile-check.log" 2>&1 &
    check_pid=$!
fi

fails=0
result() { # name ok|FAILED
    echo "RESULT $1: $2"
    [[ $2 == ok ]] || fails=$((fails + 1))
}
echo "### prebuilt shims: sources $source_hash, $compiler, $os (glibc $glibc_here), CUDA headers $cuda_inc"
entries=()
for target in "${TARGETS[@]}"; do
    read -r major tag <<<"$target"
    inc=$hdrs/$tag/include
    so=$dest/libtypedtrt_trt$major.so
    echo
    echo "### TensorRT $major shim from headers $tag"
    if [[ ! -f $inc/NvInferVersion.h ]]; then
        echo "missing $inc/NvInferVersion.h (run native/fetch-tensorrt-headers.sh)"
        result "trt$major build" FAILED
        continue
    fi
    header_version=$(sed -nE 's/^#define (NV_TENSORRT_(MAJOR|MINOR|PATCH)|TRT_(MAJOR|MINOR|PATCH)_ENTERPRISE) ([0-9]+).*/\4/p' \
        "$inc/NvInferVersion.h" | head -3 | paste -sd.)
    echo "+ g++ ${FLAGS[*]//$map/exports.map} -DTTRT_SOURCE_SHA256=\"$source_hash\" -I native/include -isystem $inc -isystem $cuda_inc -o $so native/src/*.cpp -ldl"
    if ! g++ "${FLAGS[@]}" -DTTRT_SOURCE_SHA256="\"$source_hash\"" -I"$native/include" -isystem "$inc" -isystem "$cuda_inc" \
        -o "$so" "$native"/src/*.cpp -ldl; then
        result "trt$major build" FAILED
        continue
    fi
    result "trt$major build" ok
    exports=$(nm -D --defined-only "$so" | awk '$2 == "T" && $3 ~ /^ttrt_/ {print $3}' | wc -l)
    other_exports=$(nm -D --defined-only "$so" | awk '$3 !~ /^(ttrt_|GLIBC_|GCC_)/ {print $3}' | paste -sd' ')
    undefined=$(nm -D --undefined-only "$so" | awk '{print $2}' | paste -sd' ')
    needed=$(objdump -p "$so" | awk '/NEEDED/{print $2}' | paste -sd' ')
    glibc_min=$(objdump -T "$so" | grep -oE 'GLIBC_[0-9.]+' | sed 's/GLIBC_//' | sort -V | tail -1)
    echo "exported ttrt_ functions: $exports (typedtrt_shim.h declares $api_count); other exports: ${other_exports:-none}"
    echo "undefined: $undefined"
    echo "NEEDED: $needed; newest glibc symbol version: $glibc_min"
    [[ $exports -eq $api_count && -z $other_exports ]] && result "trt$major exports" ok || result "trt$major exports" FAILED
    if grep -qiE 'nvinfer|_INTERNAL|GLIBCXX|CXXABI' <<<"$undefined"; then result "trt$major undefined" FAILED; else result "trt$major undefined" ok; fi
    bad_needed=$(tr ' ' '\n' <<<"$needed" | grep -vE '^(libc\.so\.6|libm\.so\.6|libgcc_s\.so\.1|libdl\.so\.2|libpthread\.so\.0|ld-linux-x86-64\.so\.2)$' | paste -sd' ')
    if [[ $(printf '%s\n' "$glibc_min" "$GLIBC_FLOOR" | sort -V | tail -1) == "$GLIBC_FLOOR" ]]; then
        result "trt$major glibc <= $GLIBC_FLOOR" ok
    else
        echo "needs glibc $glibc_min: $(tr ' ' '\n' <<<"$undefined" | grep -E "GLIBC_$glibc_min\$" | paste -sd' ')"
        result "trt$major glibc <= $GLIBC_FLOOR" FAILED
    fi
    [[ -z $bad_needed ]] && result "trt$major needed" ok || { echo "unexpected NEEDED: $bad_needed"; result "trt$major needed" FAILED; }
    TTRT_SHIM_SO=$so bash "$native/test/run_loader_check.sh" "$inc" "$cuda_inc" >"$out/logs/loader_trt$major.log" 2>&1
    rc=$?
    tail -1 "$out/logs/loader_trt$major.log"
    [[ $rc -eq 0 ]] && result "trt$major loader" ok || result "trt$major loader" FAILED
    sha=$(sha256sum "$so" | cut -d' ' -f1)
    bytes=$(stat -c %s "$so")
    entries+=("$(printf '    {\n      "file": "libtypedtrt_trt%s.so",\n      "tensorRtMajor": %s,\n      "headerTag": "%s",\n      "headerVersion": "%s",\n      "sha256": "%s",\n      "bytes": %s,\n      "needed": "%s",\n      "minimumGlibc": "%s"\n    }' \
        "$major" "$major" "$tag" "$header_version" "$sha" "$bytes" "$needed" "$glibc_min")")
done

json_escape() { sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' <<<"$1"; }
{
    echo "{"
    echo "  \"comment\": \"Made by native/build-prebuilt.sh from the sources whose hash is sourceSha256 (native/source-hash.sh); headers from github.com/NVIDIA/TensorRT at headerTag. Do not edit: rebuild.\","
    echo "  \"sourceSha256\": \"$source_hash\","
    echo "  \"compiler\": \"$(json_escape "$compiler")\","
    echo "  \"flags\": \"$(json_escape "${FLAGS[*]//$map/<exports.map: ttrt_* global, rest local>} -DTTRT_SOURCE_SHA256=<sourceSha256> -ldl")\","
    echo "  \"cudaHeaders\": \"$(json_escape "$cuda_inc: $cuda_note")\","
    echo "  \"builtOn\": \"$(json_escape "$os, glibc $glibc_here")\","
    echo "  \"builtAt\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\","
    echo "  \"shims\": ["
    for i in "${!entries[@]}"; do
        [[ $i -gt 0 ]] && echo ","
        printf '%s' "${entries[$i]}"
    done
    echo
    echo "  ]"
    echo "}"
} >"$dest/manifest.json"
echo
cat "$dest/manifest.json"

if [[ ${TTRT_SKIP_COMPILE_CHECK:-0} != 1 ]]; then
    echo
    echo "### -Werror compile check (g++, nvcc, CMake, loader) against ${CHECK_TAGS[*]} (log: logs/compile-check.log)"
    wait "$check_pid"
    rc=$?
    grep -E '^(RESULT|###)' "$out/logs/compile-check.log"
    [[ $rc -eq 0 ]] && result "compile check" ok || result "compile check" FAILED
fi
echo
echo "### $fails check(s) failed"
[[ $fails -eq 0 ]]
