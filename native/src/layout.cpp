// layout.cpp - compile-time checks that the ABI's structs and enum values match TensorRT's; the ABI version and
// the hash of the sources this library was built from.

#include "shim_internal.h"

// Set by the build (CMakeLists.txt, native/build-prebuilt.sh) to what native/source-hash.sh prints.
#ifndef TTRT_SOURCE_SHA256
#define TTRT_SOURCE_SHA256 "unknown"
#endif

namespace {
constexpr char const* kSourceHash = TTRT_SOURCE_SHA256;
} // namespace

using namespace ttrt_detail;

static_assert(nv::Dims64::MAX_DIMS == TTRT_MAX_DIMS, "ttrt_dims must match nvinfer1::Dims64");
static_assert(sizeof(ttrt_dims) == sizeof(nv::Dims64), "ttrt_dims must match nvinfer1::Dims64");
static_assert(offsetof(ttrt_dims, d) == offsetof(nv::Dims64, d), "ttrt_dims must match nvinfer1::Dims64");
static_assert(sizeof(ttrt_dims) == 72, "ttrt_dims layout is part of the ABI");
static_assert(sizeof(ttrt_tensor_info) == 112 && offsetof(ttrt_tensor_info, shape) == 40,
    "ttrt_tensor_info layout is part of the ABI");

#define TTRT_SAME(a, b) static_assert(static_cast<int32_t>(a) == (b), #a " != " #b)
TTRT_SAME(nv::ILogger::Severity::kINTERNAL_ERROR, TTRT_SEVERITY_INTERNAL_ERROR);
TTRT_SAME(nv::ILogger::Severity::kVERBOSE, TTRT_SEVERITY_VERBOSE);
TTRT_SAME(nv::TensorIOMode::kINPUT, TTRT_IO_INPUT);
TTRT_SAME(nv::TensorIOMode::kOUTPUT, TTRT_IO_OUTPUT);
TTRT_SAME(nv::TensorLocation::kHOST, TTRT_LOCATION_HOST);
TTRT_SAME(nv::DataType::kFLOAT, TTRT_DTYPE_FLOAT);
TTRT_SAME(nv::DataType::kHALF, TTRT_DTYPE_HALF);
TTRT_SAME(nv::DataType::kINT8, TTRT_DTYPE_INT8);
TTRT_SAME(nv::DataType::kINT32, TTRT_DTYPE_INT32);
TTRT_SAME(nv::DataType::kBOOL, TTRT_DTYPE_BOOL);
TTRT_SAME(nv::DataType::kUINT8, TTRT_DTYPE_UINT8);
TTRT_SAME(nv::DataType::kFP8, TTRT_DTYPE_FP8);
TTRT_SAME(nv::DataType::kBF16, TTRT_DTYPE_BF16);
TTRT_SAME(nv::DataType::kINT64, TTRT_DTYPE_INT64);
TTRT_SAME(nv::DataType::kINT4, TTRT_DTYPE_INT4);
#if TTRT_TRT_AT_LEAST(10, 8)
TTRT_SAME(nv::DataType::kFP4, TTRT_DTYPE_FP4);
#endif
#if TTRT_TRT_AT_LEAST(10, 12)
TTRT_SAME(nv::DataType::kE8M0, TTRT_DTYPE_E8M0);
#endif
TTRT_SAME(nv::TensorFormat::kLINEAR, TTRT_FORMAT_LINEAR);
TTRT_SAME(nv::ExecutionContextAllocationStrategy::kSTATIC, TTRT_ALLOC_STATIC);
TTRT_SAME(nv::ExecutionContextAllocationStrategy::kON_PROFILE_CHANGE, TTRT_ALLOC_ON_PROFILE_CHANGE);
TTRT_SAME(nv::ExecutionContextAllocationStrategy::kUSER_MANAGED, TTRT_ALLOC_USER_MANAGED);
#undef TTRT_SAME

extern "C" {

TTRT_API int32_t TTRT_CALL ttrt_abi_version(void)
{
    return TTRT_ABI_VERSION;
}

TTRT_API int32_t TTRT_CALL ttrt_source_hash(char* buf, int32_t cap, int32_t* len_out)
{
    return guarded([&]() -> int32_t { return writeString(kSourceHash, buf, cap, len_out, "the source hash"); });
}

} // extern "C"
