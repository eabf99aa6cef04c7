#!/usr/bin/env bash
# Compile check of the shim against real TensorRT headers and real CUDA headers, as run on the GPU
# machine (no TensorRT installed there either). Usage:
#   gpu_compile_check.sh <native-src-dir> <headers-root> [tag ...]   (headers-root/<tag>/include/NvInfer.h;
#   default: every tag folder there)
# Prints compiler versions, then for each header tag: g++ build, nvcc build, CMake build, the
# undefined nvinfer symbols (nm -u), and the loader check with stand-in libnvinfer builds.
set -uo pipefail
src=${1:?native source dir}
hdrs=${2:?headers root}
shift 2
if [[ $# -gt 0 ]]; then
    dirs=()
    for t in "$@"; do dirs+=("$hdrs/$t/"); done
else
    dirs=("$hdrs"/*/)
fi
work=$(mktemp -d)
cuda_inc=${CUDA_INC:-/usr/local/cuda/include}
if [[ ! -f $cuda_inc/cuda_runtime_api.h ]] && command -v nvcc >/dev/null; then
    cuda_inc=$(dirname "$(command -v nvcc)")/../include
fi
echo "### toolchain"
g++ --version | head -1
nvcc --version | tail -2
cmake --version | head -1
echo "cuda include: $cuda_inc ($(ls "$cuda_inc/cuda_runtime_api.h" 2>&1))"
fails=0
step() { # name, command...
    local name=$1
    shift
    echo "+ $*"
    if "$@"; then echo "RESULT $name: ok"; else echo "RESULT $name: FAILED"; fails=$((fails + 1)); fi
}
for dir in "${dirs[@]}"; do
    tag=$(basename "$dir")
    inc=$dir/include
    echo
    echo "### TensorRT headers $tag ($(grep -hE '^#define (NV_TENSORRT|TRT)_(MAJOR|MINOR|PATCH)' "$inc/NvInferVersion.h" | awk '{print $3}' | head -3 | paste -sd.))"
    step "$tag g++" g++ -std=c++17 -Wall -Wextra -Werror -fPIC -shared -fvisibility=hidden \
        -I"$src/include" -isystem "$inc" -isystem "$cuda_inc" -o "$work/gxx_$tag.so" "$src"/src/*.cpp -ldl
    if [[ -f $work/gxx_$tag.so ]]; then
        echo "nm -u (nvinfer/Infer symbols):"
        nm -u -C "$work/gxx_$tag.so" | grep -iE 'nvinfer|infer|_INTERNAL' || echo "  (none: libnvinfer is only dlopen'ed)"
        echo "exported ttrt_ functions: $(nm -D --defined-only "$work/gxx_$tag.so" | grep -c ' T ttrt_')"
        echo "NEEDED: $(objdump -p "$work/gxx_$tag.so" | awk '/NEEDED/{print $2}' | paste -sd' ')"
    fi
    step "$tag nvcc" nvcc -std=c++17 -Xcompiler -Wall,-Wextra,-Werror,-fPIC,-fvisibility=hidden -shared \
        -I"$src/include" -isystem "$inc" -o "$work/nvcc_$tag.so" "$src"/src/*.cpp -ldl
    step "$tag cmake" bash -c "cmake -S '$src' -B '$work/cmake_$tag' -DTensorRT_ROOT='$dir' >'$work/cmake_$tag.log' 2>&1 \
        && grep 'typedtrt' '$work/cmake_$tag.log'; cmake --build '$work/cmake_$tag' -j 8 2>&1 | tail -4 \
        && test -f '$work/cmake_$tag/libtypedtrt_trt.so' && (cd '$work/cmake_$tag' && ctest --output-on-failure 2>&1 | tail -3; exit \${PIPESTATUS[0]})"
    step "$tag loader" bash "$src/test/run_loader_check.sh" "$inc" "$cuda_inc"
done
echo
echo "### fake recipe"
step "fake" bash -c "cc -shared -fPIC -O1 -o '$work/libtypedtrt_fake.so' '$src/fake/fake_shim.c' -I'$src/include' \
    && cc -O1 -o '$work/fake_selftest' '$src/fake/fake_selftest.c' -I'$src/include' -L'$work' -ltypedtrt_fake \
       -Wl,-rpath,'$work' -pthread && '$work/fake_selftest'"
echo
echo "### $fails step(s) failed"
rm -rf "$work"
[[ $fails -eq 0 ]]
