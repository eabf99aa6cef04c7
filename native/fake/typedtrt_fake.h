/*
 * typedtrt_fake.h - test controls of libtypedtrt_fake.so, the TensorRT-free fake of the C ABI in
 * typedtrt_shim.h. The real shim does not export these.
 *
 * Build (what the .NET tests use):
 *   cc -shared -fPIC -O1 -o libtypedtrt_fake.so native/fake/fake_shim.c -Inative/include
 *
 * The fake implements every function of typedtrt_shim.h with the same argument checks, handle
 * registry, destruction-order checks and error texts style as the real shim, but without a GPU:
 * tensor addresses are HOST pointers and ttrt_context_enqueue computes on them synchronously.
 *
 * The engine it serves (for any blob that starts with the 4 bytes "ftrt", the magic that real
 * TensorRT plans start with; anything else fails like a corrupt plan):
 *
 *   name "fake-detector", 2 optimization profiles, 4 IO tensors in this order:
 *     0 images  input  FLOAT [-1,3,-1,-1]  (batch, 3, height, width)
 *     1 offset  input  INT64 [-1]          (one value per batch item)
 *     2 scores  output FLOAT [-1,3,-1,-1]  same shape as images
 *     3 counts  output INT32 [-1]          one value per batch item
 *   All on the device (location 0), LINEAR format, vectorized_dim -1, components_per_element -1,
 *   bytes_per_component -1 (what TensorRT documents for non-vectorized tensors), no shape tensors.
 *
 *   profile 0: images min [1,3,8,8]   opt [2,3,16,16]  max [4,3,32,32];  offset min [1] opt [2] max [4]
 *   profile 1: images min [1,3,16,16] opt [8,3,32,32]  max [16,3,64,64]; offset min [1] opt [8] max [16]
 *   device memory size: profile 0 1048576 bytes, profile 1 4194304 bytes, -1 (max) 4194304.
 *
 *   Shapes: set_input_shape checks rank and the current profile's [min, max] per dimension (fixed
 *   dimensions must match exactly). Outputs resolve once both inputs are set and images' batch
 *   equals offset's length (infer_shapes fails with TTRT_E_TENSORRT otherwise).
 *
 *   Enqueue (host memory, synchronous) for b < batch, every c, y, x:
 *     scores[b,c,y,x] = 2 * images[b,c,y,x] + (float)offset[b]
 *     counts[b]       = number of elements of images[b] (3*H*W of them) that are > 0
 *   It needs: a non-default stream (any pointer value other than 0, 1 and 2: it is never
 *   dereferenced), all input shapes set and consistent, all four addresses non-NULL, and for
 *   TTRT_ALLOC_USER_MANAGED contexts device memory of at least the current profile's size.
 *
 * Library loading: ttrt_load_library accepts any path (nothing is opened), records it as the
 * library path ("libnvinfer.so.10" for NULL/""), and applies the real version rule to the
 * configured loaded version: same major as 10.16.0 and major.minor >= 10.16.
 *
 * Logging: the fake logs through the registered logger: INFO "fake: loaded TensorRT <v> from
 * <path>" on load, INFO "fake: deserialized engine 'fake-detector'" on deserialize, VERBOSE
 * "fake: enqueue batch=<n>" on enqueue, and ERROR with the message for every injected failure.
 *
 * Thread safety: all fake state is behind one recursive mutex, so the logger callback may call
 * back into the fake. The busy-context check of the real shim is mirrored (a context used from
 * two threads at once fails with TTRT_E_INVALID_STATE), though it can only trigger from a logger
 * callback here, since calls are serialized.
 */
#ifndef TYPEDTRT_FAKE_H
#define TYPEDTRT_FAKE_H

#include "typedtrt_shim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The fake's compiled "header" TensorRT version (10.16.0) and default loaded version. */
#define TTRT_FAKE_HEADER_VERSION 101600

/* Call log of this process since the last reset: ABI function names without the "ttrt_" prefix,
 * in call order, separated by ';' (no trailing ';'). Calls taking a tensor name, a profile or an
 * allocation strategy carry it in parentheses: "engine_tensor_info(images)",
 * "context_set_profile(1)", "context_create(2)". Failed calls are logged too.
 * ttrt_abi_version, ttrt_last_error and the ttrt_fake_* functions are not logged.
 * Example: "runtime_create;engine_deserialize;context_create(0);context_set_profile(0);..."
 * String out-parameter convention of typedtrt_shim.h. */
TTRT_API int32_t TTRT_CALL ttrt_fake_call_log(char* buf, int32_t cap, int32_t* len_out);

/* Makes the next call of `function_name` ("engine_deserialize" or "ttrt_engine_deserialize")
 * fail with `message` before it does anything else (it is still logged). Status:
 * TTRT_E_LIBRARY_NOT_FOUND for load_library, TTRT_E_TENSORRT for every other function.
 * One-shot; up to 32 functions may have a pending failure at once (a second injection for the
 * same function replaces the first). TTRT_E_INVALID_ARGUMENT for an unknown function name. */
TTRT_API int32_t TTRT_CALL ttrt_fake_fail_next(const char* function_name, const char* message);

/* Same, with an explicit status (1..TTRT_E_INTERNAL). */
TTRT_API int32_t TTRT_CALL ttrt_fake_fail_next_status(const char* function_name, int32_t status,
                                                      const char* message);

/* The TensorRT version the fake pretends to load (major*10000 + minor*100 + patch; default
 * TTRT_FAKE_HEADER_VERSION). Takes effect at the next load; ttrt_fake_reset unloads. */
TTRT_API int32_t TTRT_CALL ttrt_fake_set_loaded_version(int32_t version);

/* Sends (severity, message) through the registered logger from the calling thread, with the
 * logger's severity filter applied. */
TTRT_API int32_t TTRT_CALL ttrt_fake_emit_log(int32_t severity, const char* message);

/* Number of live runtimes, engines and contexts (leak checks). Any pointer may be NULL. */
TTRT_API int32_t TTRT_CALL ttrt_fake_live_handles(int32_t* runtimes, int32_t* engines, int32_t* contexts);

/* Makes output 'counts' data-dependent (for contexts' shape queries and enqueues from now on): it then lists
 * the counts of only the batch items that have an element > 0, so its length varies per request. Its engine
 * shape stays [-1]; a context's resolved shape of 'counts' is -1 until an enqueue reports it. Enqueue needs an
 * output allocator for it (ttrt_context_set_output_allocator; TTRT_E_TENSORRT otherwise), calls reallocate with
 * max(4 * length, 1) bytes and alignment 256 (NULL or a misaligned pointer fails the enqueue), writes there and
 * calls notify_shape with [length], as TensorRT does for data-dependent outputs. 0 restores the default;
 * ttrt_fake_reset does too. */
TTRT_API int32_t TTRT_CALL ttrt_fake_set_data_dependent_counts(int32_t on);

/* Clears the call log and pending failures, unloads the pretend library and restores the default
 * loaded version. Live handles and the logger are kept. */
TTRT_API int32_t TTRT_CALL ttrt_fake_reset(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TYPEDTRT_FAKE_H */
