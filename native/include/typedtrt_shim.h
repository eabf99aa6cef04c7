/*
 * typedtrt_shim.h - the C ABI between TypedTrt (.NET) and NVIDIA TensorRT.
 *
 * Two libraries implement exactly this header:
 *   - libtypedtrt_trt.so / typedtrt_trt.dll (native/src, shim_internal.h): a thin layer over the
 *     TensorRT 10.x C++ API (also compiles against 11.x), loading libnvinfer lazily at run time;
 *   - libtypedtrt_fake.so (native/fake/fake_shim.c): a TensorRT-free fake for tests, which also
 *     exports the test controls declared in native/fake/typedtrt_fake.h.
 *
 * Conventions (hold for every function unless its comment says otherwise)
 *   - Plain C, fixed-width types, no exceptions cross the boundary, calling convention TTRT_CALL
 *     (cdecl on Windows x86-64, the platform default elsewhere).
 *   - Every function returns an int32_t status: TTRT_OK (0) or one of TTRT_E_*. Exceptions:
 *     ttrt_abi_version() returns the version itself.
 *   - Each call clears this thread's error text first; on failure it sets it. Read it with
 *     ttrt_last_error() (which does not clear it) before making another ttrt_ call on the same thread.
 *   - Out-parameters are written only on TTRT_OK, except len_out of string functions (below).
 *   - Strings in and out are NUL-terminated UTF-8. String out-parameters use (buf, cap, len_out):
 *       *len_out (if len_out != NULL) always receives the string's length in bytes, without the NUL;
 *       buf == NULL && cap == 0 is a size query and returns TTRT_OK;
 *       if cap < length + 1 the call returns TTRT_E_BUFFER_TOO_SMALL and, when cap > 0, writes a
 *       truncated NUL-terminated copy; retry with cap = *len_out + 1.
 *   - Handles are opaque pointers. The library keeps a registry of live handles: a destroyed,
 *     foreign or wrong-kind handle gives TTRT_E_INVALID_HANDLE instead of a crash (a freed address
 *     that is reused by a new handle of the same kind cannot be told apart; don't rely on this).
 *   - Shapes use ttrt_dims, the layout of nvinfer1::Dims64. -1 in a dimension means "dynamic" in
 *     engine metadata and "not yet resolved" in a context's resolved shape.
 *   - Enum-like values (data type, io mode, location, format, severity, allocation strategy) are
 *     TensorRT's own enum values, passed through unchanged.
 *
 * Object lifetimes (the caller's duty, checked where cheap)
 *   runtime -> engine(s) -> execution context(s). Destroy in the reverse order:
 *   contexts, then the engine, then the runtime. Destroying an engine that still has live contexts,
 *   or a runtime that still has live engines, returns TTRT_E_INVALID_STATE and destroys nothing.
 *   A handle that another thread is using at that moment is not destroyed either
 *   (TTRT_E_INVALID_STATE). The logger callback must stay callable until it is replaced or the
 *   process ends.
 *
 * Thread-safety rules
 *   - Process-wide functions (library loading, versions, logger) may be called from any thread.
 *   - One runtime may be used from many threads at once (create engines concurrently).
 *   - One engine may be used from many threads at once: metadata queries and ttrt_context_create.
 *   - An execution context must be used by one thread at a time and with one CUDA stream at a time.
 *     The shim detects two threads inside calls on the same context at once and fails the second
 *     call with TTRT_E_INVALID_STATE; it does not serialize them for you.
 *   - The logger callback may be invoked from any thread, including TensorRT's own threads; calls
 *     are serialized (one at a time). It must not call ttrt_set_logger (that returns
 *     TTRT_E_INVALID_STATE), must not wait for other threads that are calling into this library
 *     (they may be waiting to log), and should return quickly. Messages raised while it runs on
 *     the same thread are dropped.
 *
 * ABI versioning rule
 *   TTRT_ABI_VERSION = (MAJOR << 16) | MINOR. MAJOR changes on any incompatible change (a function
 *   removed or its signature or meaning changed, a struct layout or a constant changed). MINOR
 *   changes when something is only added (a new function, a new status code, a new enum value).
 *   A caller built for (M, m) accepts a library whose ttrt_abi_version() has major == M and
 *   minor >= m.
 */
#ifndef TYPEDTRT_SHIM_H
#define TYPEDTRT_SHIM_H

#include <stdint.h>

#if defined(_WIN32)
#define TTRT_CALL __cdecl
#if defined(TTRT_BUILDING)
#define TTRT_API __declspec(dllexport)
#else
#define TTRT_API __declspec(dllimport)
#endif
#else
#define TTRT_CALL
#define TTRT_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- versions and statuses */

#define TTRT_ABI_VERSION_MAJOR 1
#define TTRT_ABI_VERSION_MINOR 1 /* 1.1: ttrt_context_set_output_allocator, ttrt_source_hash */
#define TTRT_ABI_VERSION ((TTRT_ABI_VERSION_MAJOR << 16) | TTRT_ABI_VERSION_MINOR)

#define TTRT_OK 0
#define TTRT_E_INVALID_ARGUMENT 1  /* null pointer, index/enum out of range, bad dims, bad name   */
#define TTRT_E_BUFFER_TOO_SMALL 2  /* string did not fit; *len_out holds the needed length       */
#define TTRT_E_INVALID_HANDLE 3    /* not a live handle of the expected kind                      */
#define TTRT_E_INVALID_STATE 4     /* wrong order or use: live children, busy context, missing    */
                                   /* input shapes, user memory on a non-user-managed context ... */
#define TTRT_E_UNKNOWN_TENSOR 5    /* the engine has no IO tensor of that name                    */
#define TTRT_E_LIBRARY_NOT_FOUND 6 /* libnvinfer could not be loaded or lacks a needed symbol     */
#define TTRT_E_VERSION_MISMATCH 7  /* loaded TensorRT is not compatible with the compiled headers */
#define TTRT_E_TENSORRT 8          /* a TensorRT call failed; the text holds TensorRT's own error */
#define TTRT_E_OUT_OF_MEMORY 9     /* host allocation failed inside the shim                      */
#define TTRT_E_INTERNAL 10         /* bug in the shim (unexpected exception)                      */

/* Maximum rank of a tensor (nvinfer1::Dims64::MAX_DIMS). */
#define TTRT_MAX_DIMS 8

/* nvinfer1::ILogger::Severity */
#define TTRT_SEVERITY_INTERNAL_ERROR 0
#define TTRT_SEVERITY_ERROR 1
#define TTRT_SEVERITY_WARNING 2
#define TTRT_SEVERITY_INFO 3
#define TTRT_SEVERITY_VERBOSE 4

/* nvinfer1::TensorIOMode */
#define TTRT_IO_NONE 0
#define TTRT_IO_INPUT 1
#define TTRT_IO_OUTPUT 2

/* nvinfer1::TensorLocation */
#define TTRT_LOCATION_DEVICE 0
#define TTRT_LOCATION_HOST 1

/* nvinfer1::DataType (INT4 and FP4 pack two elements per byte) */
#define TTRT_DTYPE_FLOAT 0
#define TTRT_DTYPE_HALF 1
#define TTRT_DTYPE_INT8 2
#define TTRT_DTYPE_INT32 3
#define TTRT_DTYPE_BOOL 4
#define TTRT_DTYPE_UINT8 5
#define TTRT_DTYPE_FP8 6
#define TTRT_DTYPE_BF16 7
#define TTRT_DTYPE_INT64 8
#define TTRT_DTYPE_INT4 9
#define TTRT_DTYPE_FP4 10
#define TTRT_DTYPE_E8M0 11

/* nvinfer1::TensorFormat: only LINEAR is named here; other values pass through unchanged. */
#define TTRT_FORMAT_LINEAR 0

/* nvinfer1::ExecutionContextAllocationStrategy */
#define TTRT_ALLOC_STATIC 0            /* TensorRT allocates the max over all profiles up front */
#define TTRT_ALLOC_ON_PROFILE_CHANGE 1 /* TensorRT reallocates when the profile changes          */
#define TTRT_ALLOC_USER_MANAGED 2      /* caller provides memory: ttrt_context_set_device_memory */

/* ---------------------------------------------------------------- types */

typedef struct ttrt_runtime ttrt_runtime; /* nvinfer1::IRuntime + its error recorder        */
typedef struct ttrt_engine ttrt_engine;   /* nvinfer1::ICudaEngine + its error recorder     */
typedef struct ttrt_context ttrt_context; /* nvinfer1::IExecutionContext + its recorder     */

/* Layout of nvinfer1::Dims64: 72 bytes, 8-byte aligned (offsets: nb_dims 0, d 8). */
typedef struct ttrt_dims {
    int32_t nb_dims;  /* rank, 0..TTRT_MAX_DIMS; -1 when TensorRT reports an invalid/unknown shape */
    int32_t reserved; /* padding, write 0 */
    int64_t d[TTRT_MAX_DIMS];
} ttrt_dims;

/* Everything the engine says about one IO tensor, for one optimization profile.
 * 112 bytes, 8-byte aligned; field offsets in bytes are given on the right. */
typedef struct ttrt_tensor_info {
    int32_t io_mode;                /*  0  TTRT_IO_INPUT or TTRT_IO_OUTPUT                          */
    int32_t data_type;              /*  4  TTRT_DTYPE_*                                             */
    int32_t location;               /*  8  TTRT_LOCATION_*  (shape tensors live on the host)        */
    int32_t is_shape_inference_io;  /* 12  1 if this is a shape tensor (values needed at shape time) */
    int32_t format;                 /* 16  TensorFormat for `profile`                               */
    int32_t vectorized_dim;         /* 20  vectorized dimension for `profile`, -1 if not vectorized  */
    int32_t components_per_element; /* 24  components per vector for `profile`              (*)      */
    int32_t bytes_per_component;    /* 28  bytes per vector component for `profile`        (*)      */
    int32_t profile;                /* 32  the profile the four fields above were queried for        */
    int32_t reserved;               /* 36  0                                                        */
    ttrt_dims shape;                /* 40  engine-level shape, -1 = dynamic                          */
} ttrt_tensor_info;
/* (*) passed through from TensorRT, which documents -1 for tensors that are not vectorized
 *     (vectorized_dim == -1); treat any value when vectorized_dim == -1 as "one component of the
 *     data type's size". For vectorized formats (e.g. CHW32) the vectorized dimension is padded,
 *     so a buffer's byte size is not volume x element size. */

/* Logger callback: severity is TTRT_SEVERITY_*, message is valid only during the call. */
typedef void(TTRT_CALL* ttrt_log_fn)(int32_t severity, const char* message, void* user_data);

/* ---------------------------------------------------------------- process-wide */

/* The ABI version this library implements (see the versioning rule above). Never fails. */
TTRT_API int32_t TTRT_CALL ttrt_abi_version(void);

/* This thread's error text from the last failed ttrt_ call ("" if it succeeded). Does not clear
 * it. String out-parameter convention (see above). */
TTRT_API int32_t TTRT_CALL ttrt_last_error(char* buf, int32_t cap, int32_t* len_out);

/* Loads libnvinfer and checks its version. path: NULL or "" for the default name
 * (libnvinfer.so.<major> / nvinfer_<major>.dll, found through the loader's search path:
 * LD_LIBRARY_PATH and ldconfig on Linux, the DLL search path and PATH on Windows), or a full path.
 * Idempotent: once loaded, a call with NULL/"" or the same path succeeds; a different path gives
 * TTRT_E_INVALID_STATE. TTRT_E_LIBRARY_NOT_FOUND when it cannot be loaded or lacks
 * createInferRuntime_INTERNAL / getInferLibVersion; TTRT_E_VERSION_MISMATCH (and the library is
 * unloaded again) when its major version differs from the compiled headers' or its major.minor is
 * older than theirs. ttrt_runtime_create calls this with NULL when nothing is loaded yet. */
TTRT_API int32_t TTRT_CALL ttrt_load_library(const char* path);

/* Versions as major*10000 + minor*100 + patch (TensorRT's encoding, e.g. 101600 = 10.16.0).
 * header_version: NV_TENSORRT_VERSION the shim was compiled against. loaded_version: what the
 * loaded library's getInferLibVersion() reports, 0 if no library is loaded. Either pointer may be
 * NULL. */
TTRT_API int32_t TTRT_CALL ttrt_versions(int32_t* header_version, int32_t* loaded_version);

/* Full path of the loaded TensorRT library; TTRT_E_INVALID_STATE if none is loaded. */
TTRT_API int32_t TTRT_CALL ttrt_library_path(char* buf, int32_t cap, int32_t* len_out);

/* The SHA-256 (64 lowercase hex digits) of the shim sources this library was compiled from, as
 * native/source-hash.sh computes it over native/include/typedtrt_shim.h and native/src/ (the
 * prebuilt shims' manifest records the same value, and a test compares it with the tree's
 * sources); "unknown" when the build did not define TTRT_SOURCE_SHA256; "fake" for the fake.
 * String out-parameter convention. Needs no TensorRT library. Since ABI 1.1. */
TTRT_API int32_t TTRT_CALL ttrt_source_hash(char* buf, int32_t cap, int32_t* len_out);

/* Sets the one process-wide logger. Every TensorRT message with severity <= max_severity is passed
 * to fn (messages of TTRT_SEVERITY_ERROR and worse are also kept in the failing call's error text).
 * fn == NULL removes the callback. When this returns, no call to the previous callback is running
 * or will start. max_severity: TTRT_SEVERITY_INTERNAL_ERROR..TTRT_SEVERITY_VERBOSE. */
TTRT_API int32_t TTRT_CALL ttrt_set_logger(ttrt_log_fn fn, void* user_data, int32_t max_severity);

/* ---------------------------------------------------------------- runtime */

/* Creates an IRuntime (loading the library with the default name first if needed). */
TTRT_API int32_t TTRT_CALL ttrt_runtime_create(ttrt_runtime** out);

/* TTRT_E_INVALID_STATE if engines deserialized from it are still alive. */
TTRT_API int32_t TTRT_CALL ttrt_runtime_destroy(ttrt_runtime* runtime);

/* ---------------------------------------------------------------- engine */

/* Deserializes a plan from memory. The bytes may be freed when this returns. Engines built by
 * another TensorRT version or for another GPU fail with TTRT_E_TENSORRT and TensorRT's reason. */
TTRT_API int32_t TTRT_CALL ttrt_engine_deserialize(ttrt_runtime* runtime, const void* data, uint64_t size,
                                                   ttrt_engine** out);

/* TTRT_E_INVALID_STATE if execution contexts created from it are still alive. */
TTRT_API int32_t TTRT_CALL ttrt_engine_destroy(ttrt_engine* engine);

/* The engine's name (may be ""). String out-parameter convention. */
TTRT_API int32_t TTRT_CALL ttrt_engine_name(ttrt_engine* engine, char* buf, int32_t cap, int32_t* len_out);

TTRT_API int32_t TTRT_CALL ttrt_engine_io_count(ttrt_engine* engine, int32_t* count);

/* Name of IO tensor `index` (0 <= index < io_count). String out-parameter convention. */
TTRT_API int32_t TTRT_CALL ttrt_engine_io_name(ttrt_engine* engine, int32_t index, char* buf, int32_t cap,
                                               int32_t* len_out);

/* Number of optimization profiles (>= 1). */
TTRT_API int32_t TTRT_CALL ttrt_engine_profile_count(ttrt_engine* engine, int32_t* count);

/* Full info for one IO tensor; profile selects the format-related fields (0 <= profile < count).
 * TTRT_E_UNKNOWN_TENSOR for a name the engine does not have (checked with getTensorIOMode first,
 * since TensorRT's other queries return defaults for unknown names). */
TTRT_API int32_t TTRT_CALL ttrt_engine_tensor_info(ttrt_engine* engine, const char* name, int32_t profile,
                                                   ttrt_tensor_info* out);

/* Min/opt/max shape of input `name` in `profile`. Any of the three pointers may be NULL.
 * TTRT_E_INVALID_ARGUMENT for an output tensor (profiles constrain inputs only). For shape
 * tensors this is the shape of the shape tensor, not its values (not covered by ABI 1.0). */
TTRT_API int32_t TTRT_CALL ttrt_engine_profile_shape(ttrt_engine* engine, const char* name, int32_t profile,
                                                     ttrt_dims* min, ttrt_dims* opt, ttrt_dims* max);

/* Device (activation) memory an execution context needs for `profile`, in bytes;
 * profile == -1: the maximum over all profiles (what TTRT_ALLOC_STATIC allocates). */
TTRT_API int32_t TTRT_CALL ttrt_engine_device_memory_size(ttrt_engine* engine, int32_t profile, int64_t* bytes);

/* ---------------------------------------------------------------- execution context */

/* Creates a context with TTRT_ALLOC_* strategy; it starts on profile 0. With
 * TTRT_ALLOC_USER_MANAGED, call ttrt_context_set_device_memory before enqueueing. */
TTRT_API int32_t TTRT_CALL ttrt_context_create(ttrt_engine* engine, int32_t allocation_strategy,
                                               ttrt_context** out);

TTRT_API int32_t TTRT_CALL ttrt_context_destroy(ttrt_context* context);

/* Selects an optimization profile (before setting input shapes). stream: a cudaStream_t; the
 * switch is ordered on it (NULL = the default stream, allowed here but it synchronizes). */
TTRT_API int32_t TTRT_CALL ttrt_context_set_profile(ttrt_context* context, int32_t profile, void* stream);

/* Sets the runtime shape of input `name`. TTRT_E_INVALID_ARGUMENT for an output; TTRT_E_TENSORRT
 * (message names the profile's min and max) when the shape is outside the current profile. */
TTRT_API int32_t TTRT_CALL ttrt_context_set_input_shape(ttrt_context* context, const char* name,
                                                        const ttrt_dims* dims);

/* Runs shape inference. TTRT_OK when every output shape is known. TTRT_E_INVALID_STATE when inputs
 * are insufficiently specified (the text names them; *missing_count gets their number), and
 * TTRT_E_TENSORRT for other errors. missing_count may be NULL; it is written also on
 * TTRT_E_INVALID_STATE. */
TTRT_API int32_t TTRT_CALL ttrt_context_infer_shapes(ttrt_context* context, int32_t* missing_count);

/* *specified = 1 if every input shape is set, else 0. */
TTRT_API int32_t TTRT_CALL ttrt_context_all_input_dims_specified(ttrt_context* context, int32_t* specified);

/* Resolved shape of tensor `name` under the shapes set so far (-1 for dimensions not yet known). */
TTRT_API int32_t TTRT_CALL ttrt_context_tensor_shape(ttrt_context* context, const char* name, ttrt_dims* out);

/* Binds tensor `name` to memory: a device pointer (256-byte aligned; cudaMalloc is) for device
 * tensors, a host pointer for host (shape) tensors. The memory must stay valid until the last
 * enqueue using it has finished on its stream. */
TTRT_API int32_t TTRT_CALL ttrt_context_set_tensor_address(ttrt_context* context, const char* name, void* address);

/* Gives a TTRT_ALLOC_USER_MANAGED context its activation memory (device pointer, 256-byte
 * aligned, at least ttrt_engine_device_memory_size(profile) bytes). TTRT_E_INVALID_STATE for
 * contexts created with another strategy. */
TTRT_API int32_t TTRT_CALL ttrt_context_set_device_memory(ttrt_context* context, void* memory, int64_t size);

/* Enqueues inference on stream (a cudaStream_t). The default stream is refused
 * (NULL, cudaStreamLegacy, cudaStreamPerThread: TTRT_E_INVALID_ARGUMENT): it forces extra
 * synchronization. Returns once the work is queued, not finished. */
TTRT_API int32_t TTRT_CALL ttrt_context_enqueue(ttrt_context* context, void* stream);

/* Output allocation (ABI 1.1), TensorRT's IOutputAllocator: for an output whose shape is known only
 * during enqueue (data-dependent shapes: NonZero, NMS...), TensorRT asks for memory and then reports
 * the shape, both on the thread that calls ttrt_context_enqueue, before it returns.
 *   reallocate: return device memory of at least `size` bytes (always > 0, even for an empty
 *     tensor) aligned to `alignment`, for tensor `name`: `current_memory` if it is big enough, or
 *     NULL to fail the enqueue. The memory must stay valid until the enqueue's work has finished.
 *   notify_shape: the tensor's shape in this enqueue.
 * Both must not throw or call back into this library for the same context. */
typedef void*(TTRT_CALL* ttrt_reallocate_fn)(void* user_data, const char* name, void* current_memory, uint64_t size,
                                            uint64_t alignment, void* stream);
typedef void(TTRT_CALL* ttrt_notify_shape_fn)(void* user_data, const char* name, const ttrt_dims* dims);

/* Sets (both callbacks non-NULL) or removes (both NULL) the output allocator of output `name`.
 * TTRT_E_INVALID_ARGUMENT for an input or for only one NULL callback. user_data is passed back
 * unchanged and must stay valid while the allocator is set or the context lives. */
TTRT_API int32_t TTRT_CALL ttrt_context_set_output_allocator(ttrt_context* context, const char* name,
                                                             ttrt_reallocate_fn reallocate,
                                                             ttrt_notify_shape_fn notify_shape, void* user_data);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TYPEDTRT_SHIM_H */
