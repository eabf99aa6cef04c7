/*
 * fake_selftest.c - checks libtypedtrt_fake.so against the contract in typedtrt_shim.h and
 * typedtrt_fake.h. Exit status 0 = all checks passed.
 *
 *   cc -shared -fPIC -O1 -o libtypedtrt_fake.so native/fake/fake_shim.c -Inative/include
 *   cc -O1 -o fake_selftest native/fake/fake_selftest.c -Inative/include -L. -ltypedtrt_fake \
 *      -Wl,-rpath,'$ORIGIN' -pthread
 *   ./fake_selftest
 */
#include "typedtrt_fake.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int g_failures = 0;
static int g_checks = 0;

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        ++g_checks;                                                                                                    \
        if (!(cond)) {                                                                                                 \
            ++g_failures;                                                                                              \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                                            \
        }                                                                                                              \
    } while (0)

#define CHECK_STATUS(expr, expected)                                                                                   \
    do {                                                                                                               \
        int32_t st_ = (expr);                                                                                          \
        ++g_checks;                                                                                                    \
        if (st_ != (expected)) {                                                                                       \
            ++g_failures;                                                                                              \
            fprintf(stderr, "FAIL %s:%d: %s returned %d, expected %d (%s)\n", __FILE__, __LINE__, #expr, (int)st_,    \
                (int)(expected), last_error());                                                                        \
        }                                                                                                              \
    } while (0)

#define OK(expr) CHECK_STATUS(expr, TTRT_OK)

static const char* last_error(void)
{
    static _Thread_local char buf[4096];
    ttrt_last_error(buf, (int32_t)sizeof buf, NULL);
    return buf;
}

static int error_contains(const char* needle)
{
    const char* e = last_error();
    if (strstr(e, needle) == NULL) {
        fprintf(stderr, "  error text \"%s\" lacks \"%s\"\n", e, needle);
        return 0;
    }
    return 1;
}

static ttrt_dims dims(int32_t n, int64_t a, int64_t b, int64_t c, int64_t d)
{
    ttrt_dims x;
    memset(&x, 0, sizeof x);
    x.nb_dims = n;
    x.d[0] = a;
    x.d[1] = b;
    x.d[2] = c;
    x.d[3] = d;
    return x;
}

static int dims_eq(const ttrt_dims* x, int32_t n, int64_t a, int64_t b, int64_t c, int64_t d)
{
    ttrt_dims y = dims(n, a, b, c, d);
    if (x->nb_dims != n) {
        return 0;
    }
    for (int32_t i = 0; i < n; ++i) {
        if (x->d[i] != y.d[i]) {
            return 0;
        }
    }
    return 1;
}

/* ---------------------------------------------------------------- logger capture */

static pthread_mutex_t g_log_mutex = PTHREAD_MUTEX_INITIALIZER;
static char g_logged[8192];
static int g_reenter_status = -1;

static void TTRT_CALL on_log(int32_t severity, const char* message, void* user)
{
    (void)user;
    pthread_mutex_lock(&g_log_mutex);
    size_t used = strlen(g_logged);
    snprintf(g_logged + used, sizeof g_logged - used, "%d:%s\n", (int)severity, message);
    pthread_mutex_unlock(&g_log_mutex);
    if (strcmp(message, "reenter") == 0) {
        g_reenter_status = ttrt_set_logger(NULL, NULL, 0);
    }
}

static int logged(const char* needle)
{
    pthread_mutex_lock(&g_log_mutex);
    int found = strstr(g_logged, needle) != NULL;
    pthread_mutex_unlock(&g_log_mutex);
    return found;
}

/* ---------------------------------------------------------------- a full inference on host memory */

static const char k_blob[32] = {'f', 't', 'r', 't'};

static int run_inference(ttrt_engine* engine, int32_t strategy, int32_t profile, int64_t batch, int64_t h,
    int64_t w, int iterations)
{
    int ok = 1;
    ttrt_context* ctx = NULL;
    if (ttrt_context_create(engine, strategy, &ctx) != TTRT_OK) {
        return 0;
    }
    int64_t n = batch * 3 * h * w;
    float* images = (float*)malloc((size_t)n * sizeof(float));
    float* scores = (float*)malloc((size_t)n * sizeof(float));
    int64_t* offset = (int64_t*)malloc((size_t)batch * sizeof(int64_t));
    int32_t* counts = (int32_t*)malloc((size_t)batch * sizeof(int32_t));
    char* devmem = (char*)malloc(4194304);
    ttrt_dims si = dims(4, batch, 3, h, w), so = dims(1, batch, 0, 0, 0);
    ok = ok && ttrt_context_set_profile(ctx, profile, (void*)0x1000) == TTRT_OK;
    ok = ok && ttrt_context_set_input_shape(ctx, "images", &si) == TTRT_OK;
    ok = ok && ttrt_context_set_input_shape(ctx, "offset", &so) == TTRT_OK;
    ok = ok && ttrt_context_infer_shapes(ctx, NULL) == TTRT_OK;
    ok = ok && ttrt_context_set_tensor_address(ctx, "images", images) == TTRT_OK;
    ok = ok && ttrt_context_set_tensor_address(ctx, "offset", offset) == TTRT_OK;
    ok = ok && ttrt_context_set_tensor_address(ctx, "scores", scores) == TTRT_OK;
    ok = ok && ttrt_context_set_tensor_address(ctx, "counts", counts) == TTRT_OK;
    if (strategy == TTRT_ALLOC_USER_MANAGED) {
        ok = ok && ttrt_context_set_device_memory(ctx, devmem, 4194304) == TTRT_OK;
    }
    for (int it = 0; ok && it < iterations; ++it) {
        for (int64_t b = 0; b < batch; ++b) {
            offset[b] = 10 * b + it;
            for (int64_t k = 0; k < 3 * h * w; ++k) {
                /* (b + 1) positive elements per item, the rest negative */
                images[b * 3 * h * w + k] = k <= b ? 1.5f : -0.5f;
            }
        }
        ok = ok && ttrt_context_enqueue(ctx, (void*)0x1000) == TTRT_OK;
        for (int64_t b = 0; ok && b < batch; ++b) {
            ok = counts[b] == (int32_t)(b + 1);
            for (int64_t k = 0; ok && k < 3 * h * w; ++k) {
                float x = images[b * 3 * h * w + k];
                ok = scores[b * 3 * h * w + k] == 2.0f * x + (float)(10 * b + it);
            }
        }
    }
    if (!ok) {
        fprintf(stderr, "  inference failed: %s\n", last_error());
    }
    ok = ttrt_context_destroy(ctx) == TTRT_OK && ok;
    free(images);
    free(scores);
    free(offset);
    free(counts);
    free(devmem);
    return ok;
}

typedef struct worker {
    ttrt_engine* engine;
    int index;
    int ok;
} worker;

static void* worker_main(void* p)
{
    worker* wk = (worker*)p;
    wk->ok = run_inference(wk->engine, wk->index % 3, wk->index % 2, 1 + wk->index % 4, 16, 16 + 8 * (wk->index % 2), 50);
    return NULL;
}

/* ---------------------------------------------------------------- tests */

static void test_versions_and_loading(void)
{
    int32_t header = 0, loaded = -1;
    CHECK(ttrt_abi_version() == ((1 << 16) | 1));
    OK(ttrt_fake_reset());
    {
        char hash[8];
        int32_t hash_len = -1;
        OK(ttrt_source_hash(hash, (int32_t)sizeof hash, &hash_len));
        CHECK(hash_len == 4 && strcmp(hash, "fake") == 0);
    }
    OK(ttrt_versions(&header, &loaded));
    CHECK(header == 101600 && loaded == 0);
    CHECK_STATUS(ttrt_library_path(NULL, 0, NULL), TTRT_E_INVALID_STATE);

    OK(ttrt_fake_fail_next("ttrt_load_library", "libnvinfer.so.10: cannot open shared object file"));
    CHECK_STATUS(ttrt_load_library(NULL), TTRT_E_LIBRARY_NOT_FOUND);
    CHECK(strcmp(last_error(), "libnvinfer.so.10: cannot open shared object file") == 0);
    CHECK(logged("1:libnvinfer.so.10: cannot open shared object file"));

    OK(ttrt_fake_set_loaded_version(110100));
    CHECK_STATUS(ttrt_load_library(NULL), TTRT_E_VERSION_MISMATCH);
    CHECK(error_contains("TensorRT 11.1.0") && error_contains("10.16.0"));
    OK(ttrt_fake_set_loaded_version(101500));
    CHECK_STATUS(ttrt_load_library(NULL), TTRT_E_VERSION_MISMATCH);
    CHECK(error_contains("older than"));
    OK(ttrt_versions(NULL, &loaded));
    CHECK(loaded == 0);

    OK(ttrt_fake_set_loaded_version(101702));
    OK(ttrt_load_library("/opt/tensorrt/lib/libnvinfer.so.10"));
    OK(ttrt_versions(&header, &loaded));
    CHECK(loaded == 101702);
    CHECK(logged("3:fake: loaded TensorRT 10.17.2 from /opt/tensorrt/lib/libnvinfer.so.10"));
    OK(ttrt_load_library(NULL));
    OK(ttrt_load_library("/opt/tensorrt/lib/libnvinfer.so.10"));
    CHECK_STATUS(ttrt_load_library("/elsewhere/libnvinfer.so.10"), TTRT_E_INVALID_STATE);

    char small[8];
    int32_t len = 0;
    CHECK_STATUS(ttrt_library_path(small, (int32_t)sizeof small, &len), TTRT_E_BUFFER_TOO_SMALL);
    CHECK(len == (int32_t)strlen("/opt/tensorrt/lib/libnvinfer.so.10") && strcmp(small, "/opt/te") == 0);
    OK(ttrt_library_path(NULL, 0, &len));
    char* path = (char*)malloc((size_t)len + 1);
    OK(ttrt_library_path(path, len + 1, NULL));
    CHECK(strcmp(path, "/opt/tensorrt/lib/libnvinfer.so.10") == 0);
    free(path);
}

static void test_logger(void)
{
    CHECK_STATUS(ttrt_set_logger(on_log, NULL, 7), TTRT_E_INVALID_ARGUMENT);
    OK(ttrt_fake_emit_log(TTRT_SEVERITY_WARNING, "reenter"));
    CHECK(g_reenter_status == TTRT_E_INVALID_STATE);
    OK(ttrt_fake_emit_log(TTRT_SEVERITY_VERBOSE, "too verbose for max_severity 3"));
    CHECK(!logged("too verbose"));
}

static void test_engine_metadata(ttrt_engine* engine)
{
    int32_t n = 0, len = 0;
    char name[64];
    OK(ttrt_engine_name(engine, name, (int32_t)sizeof name, &len));
    CHECK(strcmp(name, "fake-detector") == 0 && len == 13);
    OK(ttrt_engine_io_count(engine, &n));
    CHECK(n == 4);
    const char* expected[4] = {"images", "offset", "scores", "counts"};
    for (int32_t i = 0; i < 4; ++i) {
        OK(ttrt_engine_io_name(engine, i, name, (int32_t)sizeof name, NULL));
        CHECK(strcmp(name, expected[i]) == 0);
    }
    CHECK_STATUS(ttrt_engine_io_name(engine, 4, name, (int32_t)sizeof name, NULL), TTRT_E_INVALID_ARGUMENT);
    CHECK_STATUS(ttrt_engine_io_name(engine, 0, name, 3, &len), TTRT_E_BUFFER_TOO_SMALL);
    CHECK(len == 6 && strcmp(name, "im") == 0);
    OK(ttrt_engine_profile_count(engine, &n));
    CHECK(n == 2);

    ttrt_tensor_info info;
    OK(ttrt_engine_tensor_info(engine, "images", 1, &info));
    CHECK(info.io_mode == TTRT_IO_INPUT && info.data_type == TTRT_DTYPE_FLOAT && info.profile == 1);
    CHECK(info.location == TTRT_LOCATION_DEVICE && info.format == TTRT_FORMAT_LINEAR && info.vectorized_dim == -1);
    CHECK(dims_eq(&info.shape, 4, -1, 3, -1, -1));
    OK(ttrt_engine_tensor_info(engine, "offset", 0, &info));
    CHECK(info.data_type == TTRT_DTYPE_INT64 && dims_eq(&info.shape, 1, -1, 0, 0, 0));
    OK(ttrt_engine_tensor_info(engine, "counts", 0, &info));
    CHECK(info.io_mode == TTRT_IO_OUTPUT && info.data_type == TTRT_DTYPE_INT32);
    CHECK_STATUS(ttrt_engine_tensor_info(engine, "boxes", 0, &info), TTRT_E_UNKNOWN_TENSOR);
    CHECK(error_contains("no IO tensor named 'boxes'") && error_contains("images, offset, scores, counts"));
    CHECK_STATUS(ttrt_engine_tensor_info(engine, "images", 2, &info), TTRT_E_INVALID_ARGUMENT);
    CHECK_STATUS(ttrt_engine_tensor_info(engine, NULL, 0, &info), TTRT_E_INVALID_ARGUMENT);

    ttrt_dims mn, opt, mx;
    OK(ttrt_engine_profile_shape(engine, "images", 0, &mn, &opt, &mx));
    CHECK(dims_eq(&mn, 4, 1, 3, 8, 8) && dims_eq(&opt, 4, 2, 3, 16, 16) && dims_eq(&mx, 4, 4, 3, 32, 32));
    OK(ttrt_engine_profile_shape(engine, "offset", 1, NULL, &opt, &mx));
    CHECK(dims_eq(&opt, 1, 8, 0, 0, 0) && dims_eq(&mx, 1, 16, 0, 0, 0));
    CHECK_STATUS(ttrt_engine_profile_shape(engine, "scores", 0, &mn, NULL, NULL), TTRT_E_INVALID_ARGUMENT);

    int64_t bytes = 0;
    OK(ttrt_engine_device_memory_size(engine, 0, &bytes));
    CHECK(bytes == 1048576);
    OK(ttrt_engine_device_memory_size(engine, -1, &bytes));
    CHECK(bytes == 4194304);
    CHECK_STATUS(ttrt_engine_device_memory_size(engine, 5, &bytes), TTRT_E_INVALID_ARGUMENT);
}

static void test_context(ttrt_engine* engine)
{
    ttrt_context* ctx = NULL;
    CHECK_STATUS(ttrt_context_create(engine, 3, &ctx), TTRT_E_INVALID_ARGUMENT);
    OK(ttrt_context_create(engine, TTRT_ALLOC_STATIC, &ctx));
    ttrt_dims d = dims(4, 8, 3, 16, 16), out;
    CHECK_STATUS(ttrt_context_set_input_shape(ctx, "images", &d), TTRT_E_TENSORRT); /* batch 8 > profile 0 max 4 */
    CHECK(error_contains("profile 0 allows min [1,3,8,8], max [4,3,32,32]"));
    OK(ttrt_context_set_profile(ctx, 1, NULL));
    OK(ttrt_context_set_input_shape(ctx, "images", &d));
    CHECK_STATUS(ttrt_context_set_input_shape(ctx, "scores", &d), TTRT_E_INVALID_ARGUMENT);
    int32_t missing = -1, all = -1;
    CHECK_STATUS(ttrt_context_infer_shapes(ctx, &missing), TTRT_E_INVALID_STATE);
    CHECK(missing == 1 && error_contains("offset"));
    OK(ttrt_context_all_input_dims_specified(ctx, &all));
    CHECK(all == 0);
    OK(ttrt_context_tensor_shape(ctx, "scores", &out));
    CHECK(dims_eq(&out, 4, -1, 3, -1, -1));
    ttrt_dims o = dims(1, 7, 0, 0, 0);
    OK(ttrt_context_set_input_shape(ctx, "offset", &o));
    CHECK_STATUS(ttrt_context_infer_shapes(ctx, &missing), TTRT_E_TENSORRT);
    CHECK(error_contains("differ"));
    o.d[0] = 8;
    OK(ttrt_context_set_input_shape(ctx, "offset", &o));
    OK(ttrt_context_infer_shapes(ctx, &missing));
    CHECK(missing == 0);
    OK(ttrt_context_tensor_shape(ctx, "scores", &out));
    CHECK(dims_eq(&out, 4, 8, 3, 16, 16));
    OK(ttrt_context_tensor_shape(ctx, "counts", &out));
    CHECK(dims_eq(&out, 1, 8, 0, 0, 0));
    CHECK_STATUS(ttrt_context_enqueue(ctx, NULL), TTRT_E_INVALID_ARGUMENT);
    CHECK(error_contains("default CUDA stream"));
    CHECK_STATUS(ttrt_context_enqueue(ctx, (void*)0x2), TTRT_E_INVALID_ARGUMENT);
    CHECK_STATUS(ttrt_context_enqueue(ctx, (void*)0x1000), TTRT_E_TENSORRT);
    CHECK(error_contains("no address was set for tensor 'images'"));
    CHECK_STATUS(ttrt_context_set_device_memory(ctx, (void*)0x1000, 1 << 22), TTRT_E_INVALID_STATE);

    /* destruction order */
    ttrt_engine* as_engine = (ttrt_engine*)(void*)ctx;
    CHECK_STATUS(ttrt_engine_io_count(as_engine, &missing), TTRT_E_INVALID_HANDLE);
    CHECK(error_contains("of kind 'execution context', not 'engine'"));
    CHECK_STATUS(ttrt_engine_destroy(engine), TTRT_E_INVALID_STATE);
    CHECK(error_contains("1 execution context(s)"));
    OK(ttrt_context_destroy(ctx));
    CHECK_STATUS(ttrt_context_destroy(ctx), TTRT_E_INVALID_HANDLE);
    CHECK_STATUS(ttrt_context_enqueue(ctx, (void*)0x1000), TTRT_E_INVALID_HANDLE);

    /* user-managed memory */
    OK(ttrt_context_create(engine, TTRT_ALLOC_USER_MANAGED, &ctx));
    CHECK_STATUS(ttrt_context_set_device_memory(ctx, (void*)0x1000, 1024), TTRT_E_TENSORRT);
    OK(ttrt_context_destroy(ctx));
}

static void test_injection_and_call_log(ttrt_engine* engine)
{
    OK(ttrt_fake_reset());
    OK(ttrt_fake_fail_next("context_enqueue", "CUDA error 700: an illegal memory access"));
    CHECK_STATUS(ttrt_fake_fail_next("no_such_function", "x"), TTRT_E_INVALID_ARGUMENT);
    ttrt_context* ctx = NULL;
    OK(ttrt_context_create(engine, TTRT_ALLOC_ON_PROFILE_CHANGE, &ctx));
    OK(ttrt_context_set_profile(ctx, 0, (void*)0x1000));
    CHECK_STATUS(ttrt_context_enqueue(ctx, (void*)0x1000), TTRT_E_TENSORRT);
    CHECK(strcmp(last_error(), "CUDA error 700: an illegal memory access") == 0);
    CHECK(logged("1:CUDA error 700"));
    OK(ttrt_fake_fail_next_status("engine_io_count", TTRT_E_INTERNAL, "injected"));
    int32_t n = 0;
    CHECK_STATUS(ttrt_engine_io_count(engine, &n), TTRT_E_INTERNAL);
    OK(ttrt_engine_io_count(engine, &n)); /* one-shot */
    OK(ttrt_context_destroy(ctx));

    char log[512];
    OK(ttrt_fake_call_log(log, (int32_t)sizeof log, NULL));
    const char* want = "context_create(1);context_set_profile(0);context_enqueue;engine_io_count;engine_io_count;"
                       "context_destroy";
    CHECK(strcmp(log, want) == 0);
    if (strcmp(log, want) != 0) {
        fprintf(stderr, "  call log: %s\n", log);
    }
}

int main(void)
{
    OK(ttrt_set_logger(on_log, NULL, TTRT_SEVERITY_INFO));
    test_versions_and_loading();
    test_logger();

    ttrt_runtime* rt = NULL;
    ttrt_engine* engine = NULL;
    OK(ttrt_runtime_create(&rt));
    CHECK_STATUS(ttrt_engine_deserialize(rt, "junk", 4, &engine), TTRT_E_TENSORRT);
    CHECK(error_contains("magic"));
    CHECK_STATUS(ttrt_engine_deserialize(rt, k_blob, 0, &engine), TTRT_E_INVALID_ARGUMENT);
    OK(ttrt_engine_deserialize(rt, k_blob, sizeof k_blob, &engine));
    CHECK(logged("3:fake: deserialized engine 'fake-detector'"));

    test_engine_metadata(engine);
    test_context(engine);
    test_injection_and_call_log(engine);

    CHECK(run_inference(engine, TTRT_ALLOC_STATIC, 0, 3, 8, 8, 3));
    CHECK(run_inference(engine, TTRT_ALLOC_USER_MANAGED, 1, 16, 64, 64, 1));

    worker workers[8];
    pthread_t threads[8];
    for (int i = 0; i < 8; ++i) {
        workers[i].engine = engine;
        workers[i].index = i;
        workers[i].ok = 0;
        pthread_create(&threads[i], NULL, worker_main, &workers[i]);
    }
    for (int i = 0; i < 8; ++i) {
        pthread_join(threads[i], NULL);
        CHECK(workers[i].ok);
    }

    CHECK_STATUS(ttrt_runtime_destroy(rt), TTRT_E_INVALID_STATE);
    CHECK(error_contains("1 engine(s)"));
    OK(ttrt_engine_destroy(engine));
    OK(ttrt_runtime_destroy(rt));
    int32_t r = -1, e = -1, c = -1;
    OK(ttrt_fake_live_handles(&r, &e, &c));
    CHECK(r == 0 && e == 0 && c == 0);
    OK(ttrt_set_logger(NULL, NULL, 0));

    printf("%s: %d checks, %d failed\n", g_failures == 0 ? "PASS" : "FAIL", g_checks, g_failures);
    return g_failures == 0 ? 0 : 1;
}
