/*
 * fake_shim.c - a TensorRT-free implementation of typedtrt_shim.h for tests (see typedtrt_fake.h
 * for the engine it serves and the test controls).
 *
 *   cc -shared -fPIC -O1 -o libtypedtrt_fake.so native/fake/fake_shim.c -Inative/include
 *
 * Plain C11 + POSIX threads (in glibc's libc since 2.34, so no -lpthread is needed there).
 */
#if !defined(_WIN32) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* PTHREAD_MUTEX_RECURSIVE under -std=c11 */
#endif

#define TTRT_BUILDING 1
#include "typedtrt_fake.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(_WIN32)
#include <windows.h>
#define FAKE_THREAD_LOCAL __declspec(thread)
#else
#include <pthread.h>
#define FAKE_THREAD_LOCAL _Thread_local
#endif

#if defined(__GNUC__)
#define FAKE_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define FAKE_PRINTF(fmt, args)
#endif

_Static_assert(sizeof(ttrt_dims) == 72 && offsetof(ttrt_dims, d) == 8, "ttrt_dims layout is part of the ABI");
_Static_assert(sizeof(ttrt_tensor_info) == 112 && offsetof(ttrt_tensor_info, shape) == 40,
    "ttrt_tensor_info layout is part of the ABI");

/* ---------------------------------------------------------------- lock (recursive: the logger
 * callback may call back into the fake) */

#if defined(_WIN32)
static INIT_ONCE g_once = INIT_ONCE_STATIC_INIT;
static CRITICAL_SECTION g_lock;
static BOOL CALLBACK init_lock(PINIT_ONCE once, PVOID param, PVOID* ctx)
{
    (void)once;
    (void)param;
    (void)ctx;
    InitializeCriticalSection(&g_lock);
    return TRUE;
}
static void lock(void)
{
    InitOnceExecuteOnce(&g_once, init_lock, NULL, NULL);
    EnterCriticalSection(&g_lock);
}
static void unlock(void)
{
    LeaveCriticalSection(&g_lock);
}
#else
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t g_lock;
static void init_lock(void)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&g_lock, &attr);
    pthread_mutexattr_destroy(&attr);
}
static void lock(void)
{
    pthread_once(&g_once, init_lock);
    pthread_mutex_lock(&g_lock);
}
static void unlock(void)
{
    pthread_mutex_unlock(&g_lock);
}
#endif

/* ---------------------------------------------------------------- the engine served */

#define N_IO 4
#define N_INPUTS 2
#define N_PROFILES 2
#define IDX_IMAGES 0
#define IDX_OFFSET 1
#define IDX_SCORES 2
#define IDX_COUNTS 3

static const char* const k_io_names[N_IO] = {"images", "offset", "scores", "counts"};
static const int32_t k_io_mode[N_IO] = {TTRT_IO_INPUT, TTRT_IO_INPUT, TTRT_IO_OUTPUT, TTRT_IO_OUTPUT};
static const int32_t k_io_dtype[N_IO] = {TTRT_DTYPE_FLOAT, TTRT_DTYPE_INT64, TTRT_DTYPE_FLOAT, TTRT_DTYPE_INT32};
static const ttrt_dims k_io_shape[N_IO] = {
    {4, 0, {-1, 3, -1, -1}},
    {1, 0, {-1}},
    {4, 0, {-1, 3, -1, -1}},
    {1, 0, {-1}},
};
/* [profile][input][min, opt, max] */
static const ttrt_dims k_profile_shape[N_PROFILES][N_INPUTS][3] = {
    {
        {{4, 0, {1, 3, 8, 8}}, {4, 0, {2, 3, 16, 16}}, {4, 0, {4, 3, 32, 32}}},
        {{1, 0, {1}}, {1, 0, {2}}, {1, 0, {4}}},
    },
    {
        {{4, 0, {1, 3, 16, 16}}, {4, 0, {8, 3, 32, 32}}, {4, 0, {16, 3, 64, 64}}},
        {{1, 0, {1}}, {1, 0, {8}}, {1, 0, {16}}},
    },
};
static const int64_t k_device_memory[N_PROFILES] = {1048576, 4194304};
static const char k_engine_name[] = "fake-detector";

/* ---------------------------------------------------------------- handles */

enum { KIND_RUNTIME = 1, KIND_ENGINE = 2, KIND_CONTEXT = 3 };

typedef struct hdr {
    int32_t kind;
    int32_t in_flight; /* context calls in progress (the busy check) */
    int32_t children;
    struct hdr* next; /* registry of live handles */
} hdr;

struct ttrt_runtime {
    hdr h;
};

struct ttrt_engine {
    hdr h;
    ttrt_runtime* parent;
};

struct ttrt_context {
    hdr h;
    ttrt_engine* parent;
    int32_t strategy;
    int32_t profile;
    int32_t shape_set[N_INPUTS];
    ttrt_dims shape[N_INPUTS];
    void* address[N_IO];
    void* device_memory;
    int64_t device_memory_size;
    /* Output allocators (ttrt_context_set_output_allocator) and the data-dependent 'counts' of the last enqueue. */
    ttrt_reallocate_fn realloc_fn[N_IO];
    ttrt_notify_shape_fn notify_fn[N_IO];
    void* alloc_user[N_IO];
    int32_t counts_known;
    int64_t counts_len;
};

/* ---------------------------------------------------------------- global state (under the lock) */

#define MAX_INJECTIONS 32

typedef struct injection {
    char function[64];
    int32_t status;
    char* message;
} injection;

static hdr* g_live = NULL;
static int32_t g_live_count[4] = {0, 0, 0, 0};
static char* g_log = NULL;
static size_t g_log_len = 0;
static size_t g_log_cap = 0;
static injection g_inject[MAX_INJECTIONS];
static int32_t g_loaded = 0;
static int32_t g_data_dependent = 0; /* ttrt_fake_set_data_dependent_counts */
static int32_t g_loaded_version = TTRT_FAKE_HEADER_VERSION;
static int32_t g_next_loaded_version = TTRT_FAKE_HEADER_VERSION;
static char g_library_path[1024] = "";
static ttrt_log_fn g_log_fn = NULL;
static void* g_log_user = NULL;
static int32_t g_log_max = TTRT_SEVERITY_WARNING;

static FAKE_THREAD_LOCAL char t_error[2048];
static FAKE_THREAD_LOCAL int t_in_log_callback = 0;

static const char* const k_functions[] = {"load_library", "versions", "library_path", "set_logger", "runtime_create",
    "runtime_destroy", "engine_deserialize", "engine_destroy", "engine_name", "engine_io_count", "engine_io_name",
    "engine_profile_count", "engine_tensor_info", "engine_profile_shape", "engine_device_memory_size",
    "context_create", "context_destroy", "context_set_profile", "context_set_input_shape", "context_infer_shapes",
    "context_all_input_dims_specified", "context_tensor_shape", "context_set_tensor_address",
    "context_set_device_memory", "context_enqueue", "context_set_output_allocator"};

/* ---------------------------------------------------------------- helpers */

static void emit(int32_t severity, const char* message)
{
    if (g_log_fn != NULL && severity <= g_log_max && !t_in_log_callback) {
        t_in_log_callback = 1;
        g_log_fn(severity, message, g_log_user);
        t_in_log_callback = 0;
    }
}

static int32_t fail(int32_t status, const char* fmt, ...) FAKE_PRINTF(2, 3);
static int32_t fail(int32_t status, const char* fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(t_error, sizeof t_error, fmt, args);
    va_end(args);
    return status;
}

static void log_append(const char* s)
{
    size_t n = strlen(s);
    if (g_log_len + n + 1 > g_log_cap) {
        size_t cap = g_log_cap == 0 ? 4096 : g_log_cap;
        while (g_log_len + n + 1 > cap) {
            cap *= 2;
        }
        char* grown = (char*)realloc(g_log, cap);
        if (grown == NULL) {
            return; /* out of memory: the log loses entries, the call itself goes on */
        }
        g_log = grown;
        g_log_cap = cap;
    }
    memcpy(g_log + g_log_len, s, n + 1);
    g_log_len += n;
}

/* Logs the call and applies a pending injected failure. Call with the lock held. */
static int32_t enter(const char* function, const char* arg)
{
    char entry[160];
    if (arg != NULL) {
        snprintf(entry, sizeof entry, "%s%s(%.64s)", g_log_len != 0 ? ";" : "", function, arg);
    } else {
        snprintf(entry, sizeof entry, "%s%s", g_log_len != 0 ? ";" : "", function);
    }
    log_append(entry);
    for (int i = 0; i < MAX_INJECTIONS; ++i) {
        injection* inj = &g_inject[i];
        if (inj->function[0] != '\0' && strcmp(inj->function, function) == 0) {
            int32_t status = inj->status;
            fail(status, "%s", inj->message != NULL ? inj->message : "");
            free(inj->message);
            memset(inj, 0, sizeof *inj);
            emit(TTRT_SEVERITY_ERROR, t_error);
            return status;
        }
    }
    return TTRT_OK;
}

static const char* int_arg(char* buf, size_t cap, int32_t v)
{
    snprintf(buf, cap, "%d", (int)v);
    return buf;
}

static int32_t write_string(const char* s, char* buf, int32_t cap, int32_t* len_out, const char* what)
{
    size_t len = strlen(s);
    if (len_out != NULL) {
        *len_out = (int32_t)len;
    }
    if (cap < 0 || (buf == NULL && cap != 0)) {
        return fail(TTRT_E_INVALID_ARGUMENT, "buffer for %s: cap must be >= 0 and buf non-NULL when cap > 0", what);
    }
    if (buf == NULL) {
        return TTRT_OK;
    }
    if ((size_t)cap < len + 1) {
        if (cap > 0) {
            memcpy(buf, s, (size_t)cap - 1);
            buf[cap - 1] = '\0';
        }
        return fail(TTRT_E_BUFFER_TOO_SMALL, "buffer for %s too small: %zu bytes needed, %d given", what, len + 1,
            (int)cap);
    }
    memcpy(buf, s, len + 1);
    return TTRT_OK;
}

static const char* kind_name(int32_t kind)
{
    switch (kind) {
    case KIND_RUNTIME: return "runtime";
    case KIND_ENGINE: return "engine";
    case KIND_CONTEXT: return "execution context";
    default: return "handle";
    }
}

static int32_t check_handle(const void* p, int32_t kind)
{
    if (p == NULL) {
        return fail(TTRT_E_INVALID_ARGUMENT, "the %s handle is NULL", kind_name(kind));
    }
    for (hdr* h = g_live; h != NULL; h = h->next) {
        if ((const void*)h == p) {
            if (h->kind != kind) {
                return fail(TTRT_E_INVALID_HANDLE, "%p is a handle of kind '%s', not '%s'", (void*)h,
                    kind_name(h->kind), kind_name(kind));
            }
            if (kind == KIND_CONTEXT && h->in_flight != 0) {
                return fail(TTRT_E_INVALID_STATE,
                    "the execution context is in use by another thread right now; a context must be used by one "
                    "thread at a time (create one context per thread or stream)");
            }
            return TTRT_OK;
        }
    }
    return fail(TTRT_E_INVALID_HANDLE, "%p is not a live %s handle (destroyed already, or never created)", p,
        kind_name(kind));
}

static void register_handle(hdr* h, int32_t kind)
{
    h->kind = kind;
    h->next = g_live;
    g_live = h;
    g_live_count[kind]++;
}

static int32_t unregister_for_destroy(void* p, int32_t kind, const char* child_name)
{
    int32_t st = check_handle(p, kind);
    if (st != TTRT_OK) {
        return st;
    }
    hdr* h = (hdr*)p;
    if (h->in_flight != 0) {
        return fail(TTRT_E_INVALID_STATE, "cannot destroy the %s: another thread is using it right now",
            kind_name(kind));
    }
    if (h->children != 0) {
        return fail(TTRT_E_INVALID_STATE,
            "cannot destroy the %s: %d %s(s) created from it are still alive; destroy in the order execution "
            "contexts, then engines, then the runtime",
            kind_name(kind), (int)h->children, child_name);
    }
    for (hdr** link = &g_live; *link != NULL; link = &(*link)->next) {
        if (*link == h) {
            *link = h->next;
            break;
        }
    }
    g_live_count[kind]--;
    return TTRT_OK;
}

static int32_t find_tensor(const char* name)
{
    for (int32_t i = 0; i < N_IO; ++i) {
        if (strcmp(name, k_io_names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

static int32_t check_tensor(const char* name, int32_t* index)
{
    if (name == NULL) {
        return fail(TTRT_E_INVALID_ARGUMENT, "the tensor name is NULL");
    }
    int32_t i = find_tensor(name);
    if (i < 0) {
        return fail(TTRT_E_UNKNOWN_TENSOR,
            "engine '%s' has no IO tensor named '%.256s' (its IO tensors: images, offset, scores, counts)",
            k_engine_name, name);
    }
    *index = i;
    return TTRT_OK;
}

static int32_t check_profile(int32_t profile)
{
    if (profile < 0 || profile >= N_PROFILES) {
        return fail(TTRT_E_INVALID_ARGUMENT, "optimization profile %d does not exist: engine '%s' has %d (0..%d)",
            (int)profile, k_engine_name, N_PROFILES, N_PROFILES - 1);
    }
    return TTRT_OK;
}

static void dims_text(const ttrt_dims* d, char* buf, size_t cap)
{
    size_t used = 0;
    if (d->nb_dims < 0 || d->nb_dims > TTRT_MAX_DIMS) {
        snprintf(buf, cap, "<invalid, nbDims=%d>", (int)d->nb_dims);
        return;
    }
    used += (size_t)snprintf(buf, cap, "[");
    for (int32_t i = 0; i < d->nb_dims && used < cap; ++i) {
        used += (size_t)snprintf(buf + used, cap - used, "%s%lld", i != 0 ? "," : "", (long long)d->d[i]);
    }
    if (used < cap) {
        snprintf(buf + used, cap - used, "]");
    }
}

static int32_t version_major(int32_t v)
{
    return v < 10000 ? v / 1000 : v / 10000;
}

static int32_t version_minor(int32_t v)
{
    return v < 10000 ? (v / 100) % 10 : (v / 100) % 100;
}

static void version_text(int32_t v, char* buf, size_t cap)
{
    if (v < 10000) {
        snprintf(buf, cap, "%d.%d.%d", (int)(v / 1000), (int)((v / 100) % 10), (int)(v % 100));
    } else {
        snprintf(buf, cap, "%d.%d.%d", (int)(v / 10000), (int)((v / 100) % 100), (int)(v % 100));
    }
}

static int32_t load(const char* path)
{
    int use_default = path == NULL || path[0] == '\0';
    const char* name = use_default ? "libnvinfer.so.10" : path;
    if (g_loaded) {
        if (use_default || strcmp(name, g_library_path) == 0) {
            return TTRT_OK;
        }
        return fail(TTRT_E_INVALID_STATE,
            "TensorRT is already loaded from '%s'; another library ('%.512s') cannot be loaded into the same process",
            g_library_path, path);
    }
    int32_t v = g_next_loaded_version;
    char have[32], want[32];
    version_text(v, have, sizeof have);
    version_text(TTRT_FAKE_HEADER_VERSION, want, sizeof want);
    if (version_major(v) != version_major(TTRT_FAKE_HEADER_VERSION)) {
        return fail(TTRT_E_VERSION_MISMATCH,
            "TensorRT version mismatch for '%.512s': the library is TensorRT %s but this shim was compiled against "
            "TensorRT %s headers and needs TensorRT 10.x; install the TensorRT 10 runtime (e.g. the libnvinfer10 "
            "package or NVIDIA's TensorRT tar file) and put its lib folder on LD_LIBRARY_PATH, or pass the "
            "library's full path (or use a typedtrt shim built for TensorRT %d)",
            name, have, want, (int)version_major(v));
    }
    if (version_minor(v) < version_minor(TTRT_FAKE_HEADER_VERSION)) {
        return fail(TTRT_E_VERSION_MISMATCH,
            "TensorRT version mismatch for '%.512s': the library is TensorRT %s, older than the TensorRT %s headers "
            "this shim was compiled against; install TensorRT 10.16 or newer 10.x, or use a shim built against "
            "older headers",
            name, have, want);
    }
    g_loaded = 1;
    g_loaded_version = v;
    snprintf(g_library_path, sizeof g_library_path, "%s", name);
    char note[1200];
    snprintf(note, sizeof note, "fake: loaded TensorRT %s from %s", have, g_library_path);
    emit(TTRT_SEVERITY_INFO, note);
    return TTRT_OK;
}

static int64_t volume(const ttrt_dims* d)
{
    int64_t v = 1;
    for (int32_t i = 0; i < d->nb_dims; ++i) {
        v *= d->d[i];
    }
    return v;
}

/* Resolved shape of tensor i under the context's input shapes (-1 where unknown). */
static void resolved_shape(const ttrt_context* c, int32_t i, ttrt_dims* out)
{
    *out = k_io_shape[i];
    int both = c->shape_set[IDX_IMAGES] && c->shape_set[IDX_OFFSET];
    int consistent = both && c->shape[IDX_IMAGES].d[0] == c->shape[IDX_OFFSET].d[0];
    switch (i) {
    case IDX_IMAGES:
    case IDX_OFFSET:
        if (c->shape_set[i]) {
            *out = c->shape[i];
        }
        break;
    case IDX_SCORES:
        if (consistent) {
            *out = c->shape[IDX_IMAGES];
        }
        break;
    case IDX_COUNTS:
        if (g_data_dependent) {
            /* data-dependent: unknown until an enqueue reported it */
            if (c->counts_known) {
                out->d[0] = c->counts_len;
            }
        } else if (consistent) {
            out->d[0] = c->shape[IDX_IMAGES].d[0];
        }
        break;
    default: break;
    }
}

/* Like inferShapes: 0 ok, >0 number of unset inputs, <0 inconsistent shapes (t_error set). */
static int32_t infer(const ttrt_context* c, char* missing, size_t cap)
{
    int32_t n = 0;
    missing[0] = '\0';
    for (int32_t i = 0; i < N_INPUTS; ++i) {
        if (!c->shape_set[i]) {
            size_t used = strlen(missing);
            snprintf(missing + used, cap - used, "%s%s", n != 0 ? ", " : "", k_io_names[i]);
            ++n;
        }
    }
    if (n != 0) {
        return n;
    }
    if (c->shape[IDX_IMAGES].d[0] != c->shape[IDX_OFFSET].d[0]) {
        fail(TTRT_E_TENSORRT, "fake: batch of 'images' (%lld) and length of 'offset' (%lld) differ",
            (long long)c->shape[IDX_IMAGES].d[0], (long long)c->shape[IDX_OFFSET].d[0]);
        return -1;
    }
    return 0;
}

#define TRY(expr)                                                                                                      \
    do {                                                                                                               \
        int32_t try_status_ = (expr);                                                                                  \
        if (try_status_ != TTRT_OK) {                                                                                  \
            unlock();                                                                                                  \
            return try_status_;                                                                                        \
        }                                                                                                              \
    } while (0)

#define REQUIRE(ptr)                                                                                                   \
    do {                                                                                                               \
        if ((ptr) == NULL) {                                                                                           \
            unlock();                                                                                                  \
            return fail(TTRT_E_INVALID_ARGUMENT, "argument '%s' is NULL", #ptr);                                     \
        }                                                                                                              \
    } while (0)

#define RETURN(expr)                                                                                                   \
    do {                                                                                                               \
        int32_t return_status_ = (expr);                                                                               \
        unlock();                                                                                                      \
        return return_status_;                                                                                         \
    } while (0)

#define BEGIN(function, arg)                                                                                           \
    t_error[0] = '\0';                                                                                                 \
    lock();                                                                                                            \
    TRY(enter(function, arg))

/* Context calls hold the busy flag for the call (mirrors the real shim's one-thread-per-context check). */
#define BEGIN_CONTEXT(function, arg)                                                                                   \
    BEGIN(function, arg);                                                                                              \
    TRY(check_handle(context, KIND_CONTEXT));                                                                          \
    context->h.in_flight = 1

#define RETURN_CONTEXT(expr)                                                                                           \
    do {                                                                                                               \
        int32_t return_status_ = (expr);                                                                               \
        context->h.in_flight = 0;                                                                                      \
        unlock();                                                                                                      \
        return return_status_;                                                                                         \
    } while (0)

#define TRY_CONTEXT(expr)                                                                                              \
    do {                                                                                                               \
        int32_t try_status_ = (expr);                                                                                  \
        if (try_status_ != TTRT_OK) {                                                                                  \
            RETURN_CONTEXT(try_status_);                                                                               \
        }                                                                                                              \
    } while (0)

/* ---------------------------------------------------------------- process-wide */

TTRT_API int32_t TTRT_CALL ttrt_abi_version(void)
{
    return TTRT_ABI_VERSION;
}

TTRT_API int32_t TTRT_CALL ttrt_last_error(char* buf, int32_t cap, int32_t* len_out)
{
    char copy[sizeof t_error];
    memcpy(copy, t_error, sizeof copy);
    return write_string(copy, buf, cap, len_out, "the error text");
}

TTRT_API int32_t TTRT_CALL ttrt_load_library(const char* path)
{
    BEGIN("load_library", NULL);
    RETURN(load(path));
}

TTRT_API int32_t TTRT_CALL ttrt_versions(int32_t* header_version, int32_t* loaded_version)
{
    BEGIN("versions", NULL);
    if (header_version != NULL) {
        *header_version = TTRT_FAKE_HEADER_VERSION;
    }
    if (loaded_version != NULL) {
        *loaded_version = g_loaded ? g_loaded_version : 0;
    }
    RETURN(TTRT_OK);
}

TTRT_API int32_t TTRT_CALL ttrt_library_path(char* buf, int32_t cap, int32_t* len_out)
{
    BEGIN("library_path", NULL);
    if (!g_loaded) {
        RETURN(fail(TTRT_E_INVALID_STATE, "no TensorRT library is loaded yet"));
    }
    RETURN(write_string(g_library_path, buf, cap, len_out, "the library path"));
}

TTRT_API int32_t TTRT_CALL ttrt_source_hash(char* buf, int32_t cap, int32_t* len_out)
{
    BEGIN("source_hash", NULL);
    RETURN(write_string("fake", buf, cap, len_out, "the source hash"));
}

TTRT_API int32_t TTRT_CALL ttrt_set_logger(ttrt_log_fn fn, void* user_data, int32_t max_severity)
{
    BEGIN("set_logger", NULL);
    if (t_in_log_callback) {
        RETURN(fail(TTRT_E_INVALID_STATE, "ttrt_set_logger cannot be called from inside the logger callback"));
    }
    if (max_severity < TTRT_SEVERITY_INTERNAL_ERROR || max_severity > TTRT_SEVERITY_VERBOSE) {
        RETURN(fail(TTRT_E_INVALID_ARGUMENT, "max_severity %d is out of range 0 (internal error)..4 (verbose)",
            (int)max_severity));
    }
    g_log_fn = fn;
    g_log_user = user_data;
    g_log_max = max_severity;
    RETURN(TTRT_OK);
}

/* ---------------------------------------------------------------- runtime */

TTRT_API int32_t TTRT_CALL ttrt_runtime_create(ttrt_runtime** out)
{
    BEGIN("runtime_create", NULL);
    REQUIRE(out);
    TRY(load(NULL));
    ttrt_runtime* r = (ttrt_runtime*)calloc(1, sizeof *r);
    if (r == NULL) {
        RETURN(fail(TTRT_E_OUT_OF_MEMORY, "out of host memory"));
    }
    register_handle(&r->h, KIND_RUNTIME);
    *out = r;
    RETURN(TTRT_OK);
}

TTRT_API int32_t TTRT_CALL ttrt_runtime_destroy(ttrt_runtime* runtime)
{
    BEGIN("runtime_destroy", NULL);
    TRY(unregister_for_destroy(runtime, KIND_RUNTIME, "engine"));
    free(runtime);
    RETURN(TTRT_OK);
}

/* ---------------------------------------------------------------- engine */

TTRT_API int32_t TTRT_CALL ttrt_engine_deserialize(
    ttrt_runtime* runtime, const void* data, uint64_t size, ttrt_engine** out)
{
    BEGIN("engine_deserialize", NULL);
    TRY(check_handle(runtime, KIND_RUNTIME));
    REQUIRE(data);
    REQUIRE(out);
    if (size == 0) {
        RETURN(fail(TTRT_E_INVALID_ARGUMENT, "engine data size 0 is invalid"));
    }
    if (size < 4 || memcmp(data, "ftrt", 4) != 0) {
        RETURN(fail(TTRT_E_TENSORRT,
            "deserializeCudaEngine failed for %llu bytes (a plan built by another TensorRT version or for another "
            "GPU, or not a plan at all?) [TensorRT: fake: the data does not start with the plan magic 'ftrt']",
            (unsigned long long)size));
    }
    ttrt_engine* e = (ttrt_engine*)calloc(1, sizeof *e);
    if (e == NULL) {
        RETURN(fail(TTRT_E_OUT_OF_MEMORY, "out of host memory"));
    }
    e->parent = runtime;
    runtime->h.children++;
    register_handle(&e->h, KIND_ENGINE);
    emit(TTRT_SEVERITY_INFO, "fake: deserialized engine 'fake-detector'");
    *out = e;
    RETURN(TTRT_OK);
}

TTRT_API int32_t TTRT_CALL ttrt_engine_destroy(ttrt_engine* engine)
{
    BEGIN("engine_destroy", NULL);
    TRY(unregister_for_destroy(engine, KIND_ENGINE, "execution context"));
    engine->parent->h.children--;
    free(engine);
    RETURN(TTRT_OK);
}

TTRT_API int32_t TTRT_CALL ttrt_engine_name(ttrt_engine* engine, char* buf, int32_t cap, int32_t* len_out)
{
    BEGIN("engine_name", NULL);
    TRY(check_handle(engine, KIND_ENGINE));
    RETURN(write_string(k_engine_name, buf, cap, len_out, "the engine name"));
}

TTRT_API int32_t TTRT_CALL ttrt_engine_io_count(ttrt_engine* engine, int32_t* count)
{
    BEGIN("engine_io_count", NULL);
    TRY(check_handle(engine, KIND_ENGINE));
    REQUIRE(count);
    *count = N_IO;
    RETURN(TTRT_OK);
}

TTRT_API int32_t TTRT_CALL ttrt_engine_io_name(
    ttrt_engine* engine, int32_t index, char* buf, int32_t cap, int32_t* len_out)
{
    BEGIN("engine_io_name", NULL);
    TRY(check_handle(engine, KIND_ENGINE));
    if (index < 0 || index >= N_IO) {
        RETURN(fail(TTRT_E_INVALID_ARGUMENT, "IO tensor index %d is out of range: the engine has %d IO tensors",
            (int)index, N_IO));
    }
    RETURN(write_string(k_io_names[index], buf, cap, len_out, "the tensor name"));
}

TTRT_API int32_t TTRT_CALL ttrt_engine_profile_count(ttrt_engine* engine, int32_t* count)
{
    BEGIN("engine_profile_count", NULL);
    TRY(check_handle(engine, KIND_ENGINE));
    REQUIRE(count);
    *count = N_PROFILES;
    RETURN(TTRT_OK);
}

TTRT_API int32_t TTRT_CALL ttrt_engine_tensor_info(
    ttrt_engine* engine, const char* name, int32_t profile, ttrt_tensor_info* out)
{
    BEGIN("engine_tensor_info", name != NULL ? name : "(null)");
    TRY(check_handle(engine, KIND_ENGINE));
    REQUIRE(out);
    int32_t i = 0;
    TRY(check_tensor(name, &i));
    TRY(check_profile(profile));
    ttrt_tensor_info info;
    memset(&info, 0, sizeof info);
    info.io_mode = k_io_mode[i];
    info.data_type = k_io_dtype[i];
    info.location = TTRT_LOCATION_DEVICE;
    info.is_shape_inference_io = 0;
    info.format = TTRT_FORMAT_LINEAR;
    info.vectorized_dim = -1;
    info.components_per_element = -1;
    info.bytes_per_component = -1;
    info.profile = profile;
    info.shape = k_io_shape[i];
    *out = info;
    RETURN(TTRT_OK);
}

TTRT_API int32_t TTRT_CALL ttrt_engine_profile_shape(
    ttrt_engine* engine, const char* name, int32_t profile, ttrt_dims* min, ttrt_dims* opt, ttrt_dims* max)
{
    BEGIN("engine_profile_shape", name != NULL ? name : "(null)");
    TRY(check_handle(engine, KIND_ENGINE));
    int32_t i = 0;
    TRY(check_tensor(name, &i));
    TRY(check_profile(profile));
    if (k_io_mode[i] != TTRT_IO_INPUT) {
        RETURN(fail(TTRT_E_INVALID_ARGUMENT, "'%s' is an output; optimization profiles give shapes for inputs only",
            name));
    }
    if (min != NULL) {
        *min = k_profile_shape[profile][i][0];
    }
    if (opt != NULL) {
        *opt = k_profile_shape[profile][i][1];
    }
    if (max != NULL) {
        *max = k_profile_shape[profile][i][2];
    }
    RETURN(TTRT_OK);
}

TTRT_API int32_t TTRT_CALL ttrt_engine_device_memory_size(ttrt_engine* engine, int32_t profile, int64_t* bytes)
{
    char arg[16];
    BEGIN("engine_device_memory_size", int_arg(arg, sizeof arg, profile));
    TRY(check_handle(engine, KIND_ENGINE));
    REQUIRE(bytes);
    if (profile != -1) {
        TRY(check_profile(profile));
    }
    *bytes = profile == -1 ? k_device_memory[N_PROFILES - 1] : k_device_memory[profile];
    RETURN(TTRT_OK);
}

/* ---------------------------------------------------------------- execution context */

TTRT_API int32_t TTRT_CALL ttrt_context_create(ttrt_engine* engine, int32_t allocation_strategy, ttrt_context** out)
{
    char arg[16];
    BEGIN("context_create", int_arg(arg, sizeof arg, allocation_strategy));
    TRY(check_handle(engine, KIND_ENGINE));
    REQUIRE(out);
    if (allocation_strategy < TTRT_ALLOC_STATIC || allocation_strategy > TTRT_ALLOC_USER_MANAGED) {
        RETURN(fail(TTRT_E_INVALID_ARGUMENT,
            "allocation strategy %d is out of range: 0 static, 1 on profile change, 2 user managed",
            (int)allocation_strategy));
    }
    ttrt_context* c = (ttrt_context*)calloc(1, sizeof *c);
    if (c == NULL) {
        RETURN(fail(TTRT_E_OUT_OF_MEMORY, "out of host memory"));
    }
    c->parent = engine;
    c->strategy = allocation_strategy;
    c->profile = 0;
    engine->h.children++;
    register_handle(&c->h, KIND_CONTEXT);
    *out = c;
    RETURN(TTRT_OK);
}

TTRT_API int32_t TTRT_CALL ttrt_context_destroy(ttrt_context* context)
{
    BEGIN("context_destroy", NULL);
    TRY(unregister_for_destroy(context, KIND_CONTEXT, "child"));
    context->parent->h.children--;
    free(context);
    RETURN(TTRT_OK);
}

TTRT_API int32_t TTRT_CALL ttrt_context_set_profile(ttrt_context* context, int32_t profile, void* stream)
{
    char arg[16];
    (void)stream; /* the fake is synchronous */
    BEGIN_CONTEXT("context_set_profile", int_arg(arg, sizeof arg, profile));
    TRY_CONTEXT(check_profile(profile));
    context->profile = profile;
    /* a new profile starts without input shapes */
    memset(context->shape_set, 0, sizeof context->shape_set);
    memset(context->shape, 0, sizeof context->shape);
    RETURN_CONTEXT(TTRT_OK);
}

TTRT_API int32_t TTRT_CALL ttrt_context_set_input_shape(ttrt_context* context, const char* name, const ttrt_dims* dims)
{
    BEGIN_CONTEXT("context_set_input_shape", name != NULL ? name : "(null)");
    int32_t i = 0;
    TRY_CONTEXT(check_tensor(name, &i));
    if (dims == NULL) {
        RETURN_CONTEXT(fail(TTRT_E_INVALID_ARGUMENT, "argument 'dims' is NULL"));
    }
    if (k_io_mode[i] != TTRT_IO_INPUT) {
        RETURN_CONTEXT(fail(TTRT_E_INVALID_ARGUMENT, "'%s' is an output; only input shapes can be set", name));
    }
    if (dims->nb_dims < 0 || dims->nb_dims > TTRT_MAX_DIMS) {
        RETURN_CONTEXT(fail(TTRT_E_INVALID_ARGUMENT, "shape for '%s' has rank %d; it must be 0..%d", name,
            (int)dims->nb_dims, TTRT_MAX_DIMS));
    }
    const ttrt_dims* mn = &k_profile_shape[context->profile][i][0];
    const ttrt_dims* mx = &k_profile_shape[context->profile][i][2];
    int ok = dims->nb_dims == mn->nb_dims;
    for (int32_t k = 0; ok && k < dims->nb_dims; ++k) {
        ok = dims->d[k] >= mn->d[k] && dims->d[k] <= mx->d[k];
    }
    if (!ok) {
        char given[200], lo[200], hi[200];
        dims_text(dims, given, sizeof given);
        dims_text(mn, lo, sizeof lo);
        dims_text(mx, hi, sizeof hi);
        RETURN_CONTEXT(fail(TTRT_E_TENSORRT,
            "setInputShape('%s', %s) failed; the current optimization profile %d allows min %s, max %s "
            "[TensorRT: fake: shape outside the profile]",
            name, given, (int)context->profile, lo, hi));
    }
    ttrt_dims copy;
    memset(&copy, 0, sizeof copy);
    copy.nb_dims = dims->nb_dims;
    for (int32_t k = 0; k < dims->nb_dims; ++k) {
        copy.d[k] = dims->d[k];
    }
    context->shape[i] = copy;
    context->shape_set[i] = 1;
    context->counts_known = 0;
    RETURN_CONTEXT(TTRT_OK);
}

TTRT_API int32_t TTRT_CALL ttrt_context_infer_shapes(ttrt_context* context, int32_t* missing_count)
{
    BEGIN_CONTEXT("context_infer_shapes", NULL);
    char missing[128];
    int32_t r = infer(context, missing, sizeof missing);
    if (r < 0) {
        RETURN_CONTEXT(TTRT_E_TENSORRT); /* t_error set by infer */
    }
    if (missing_count != NULL) {
        *missing_count = r;
    }
    if (r > 0) {
        RETURN_CONTEXT(fail(TTRT_E_INVALID_STATE,
            "shapes cannot be inferred yet: %d input(s) not sufficiently specified: %s (set their shapes with "
            "ttrt_context_set_input_shape; shape-tensor inputs also need their address)",
            (int)r, missing));
    }
    RETURN_CONTEXT(TTRT_OK);
}

TTRT_API int32_t TTRT_CALL ttrt_context_all_input_dims_specified(ttrt_context* context, int32_t* specified)
{
    BEGIN_CONTEXT("context_all_input_dims_specified", NULL);
    if (specified == NULL) {
        RETURN_CONTEXT(fail(TTRT_E_INVALID_ARGUMENT, "argument 'specified' is NULL"));
    }
    *specified = context->shape_set[IDX_IMAGES] && context->shape_set[IDX_OFFSET] ? 1 : 0;
    RETURN_CONTEXT(TTRT_OK);
}

TTRT_API int32_t TTRT_CALL ttrt_context_tensor_shape(ttrt_context* context, const char* name, ttrt_dims* out)
{
    BEGIN_CONTEXT("context_tensor_shape", name != NULL ? name : "(null)");
    int32_t i = 0;
    TRY_CONTEXT(check_tensor(name, &i));
    if (out == NULL) {
        RETURN_CONTEXT(fail(TTRT_E_INVALID_ARGUMENT, "argument 'out' is NULL"));
    }
    resolved_shape(context, i, out);
    RETURN_CONTEXT(TTRT_OK);
}

TTRT_API int32_t TTRT_CALL ttrt_context_set_tensor_address(ttrt_context* context, const char* name, void* address)
{
    BEGIN_CONTEXT("context_set_tensor_address", name != NULL ? name : "(null)");
    int32_t i = 0;
    TRY_CONTEXT(check_tensor(name, &i));
    context->address[i] = address;
    RETURN_CONTEXT(TTRT_OK);
}

TTRT_API int32_t TTRT_CALL ttrt_context_set_device_memory(ttrt_context* context, void* memory, int64_t size)
{
    BEGIN_CONTEXT("context_set_device_memory", NULL);
    if (context->strategy != TTRT_ALLOC_USER_MANAGED) {
        RETURN_CONTEXT(fail(TTRT_E_INVALID_STATE,
            "the context was created with allocation strategy %d; only user-managed (2) contexts take device memory "
            "from the caller",
            (int)context->strategy));
    }
    if (memory == NULL) {
        RETURN_CONTEXT(fail(TTRT_E_INVALID_ARGUMENT, "argument 'memory' is NULL"));
    }
    if (size <= 0) {
        RETURN_CONTEXT(fail(TTRT_E_INVALID_ARGUMENT, "device memory size %lld must be positive", (long long)size));
    }
    int64_t need = k_device_memory[context->profile];
    if (size < need) {
        RETURN_CONTEXT(fail(TTRT_E_TENSORRT,
            "setDeviceMemory(%p, %lld bytes) failed [TensorRT: fake: profile %d needs %lld bytes]", memory,
            (long long)size, (int)context->profile, (long long)need));
    }
    context->device_memory = memory;
    context->device_memory_size = size;
    RETURN_CONTEXT(TTRT_OK);
}

TTRT_API int32_t TTRT_CALL ttrt_context_enqueue(ttrt_context* context, void* stream)
{
    BEGIN_CONTEXT("context_enqueue", NULL);
    if ((uintptr_t)stream <= 2) {
        RETURN_CONTEXT(fail(TTRT_E_INVALID_ARGUMENT,
            "enqueue on the default CUDA stream (%p) is refused: it forces extra synchronization; create a stream "
            "(cudaStreamCreate) and pass it",
            stream));
    }
    char missing[128];
    int32_t r = infer(context, missing, sizeof missing);
    if (r > 0) {
        RETURN_CONTEXT(fail(TTRT_E_TENSORRT,
            "enqueueV3 failed; not every input shape has been set [TensorRT: fake: input(s) without a shape: %s]",
            missing));
    }
    if (r < 0) {
        char why[sizeof t_error];
        memcpy(why, t_error, sizeof why);
        RETURN_CONTEXT(fail(TTRT_E_TENSORRT, "enqueueV3 failed [TensorRT: %s]", why));
    }
    if (g_data_dependent && context->realloc_fn[IDX_COUNTS] == NULL) {
        RETURN_CONTEXT(fail(TTRT_E_TENSORRT,
            "enqueueV3 failed [TensorRT: fake: output 'counts' has a data-dependent shape; set an output allocator "
            "(ttrt_context_set_output_allocator)]"));
    }
    for (int32_t i = 0; i < N_IO; ++i) {
        if (context->address[i] == NULL && !(i == IDX_COUNTS && g_data_dependent)) {
            RETURN_CONTEXT(fail(TTRT_E_TENSORRT,
                "enqueueV3 failed [TensorRT: fake: no address was set for tensor '%s']", k_io_names[i]));
        }
    }
    if (context->strategy == TTRT_ALLOC_USER_MANAGED) {
        int64_t need = k_device_memory[context->profile];
        if (context->device_memory == NULL || context->device_memory_size < need) {
            RETURN_CONTEXT(fail(TTRT_E_TENSORRT,
                "enqueueV3 failed [TensorRT: fake: the user-managed context has %lld bytes of device memory, "
                "profile %d needs %lld (call ttrt_context_set_device_memory)]",
                (long long)context->device_memory_size, (int)context->profile, (long long)need));
        }
    }
    const ttrt_dims* s = &context->shape[IDX_IMAGES];
    int64_t batch = s->d[0];
    int64_t per_item = volume(s) / (batch > 0 ? batch : 1);
    const float* images = (const float*)context->address[IDX_IMAGES];
    const int64_t* offset = (const int64_t*)context->address[IDX_OFFSET];
    float* scores = (float*)context->address[IDX_SCORES];
    int32_t* counts = (int32_t*)context->address[IDX_COUNTS];
    if (g_data_dependent) {
        /* 'counts' lists the counts of only the batch items with a positive element: its length depends on the
         * data. Like TensorRT: ask the allocator for the bytes (always > 0), write there, report the shape. */
        int64_t n = 0;
        for (int64_t b = 0; b < batch; ++b) {
            for (int64_t k = 0; k < per_item; ++k) {
                if (images[b * per_item + k] > 0.0f) {
                    ++n;
                    break;
                }
            }
        }
        uint64_t size = n > 0 ? (uint64_t)n * sizeof(int32_t) : 1u;
        void* memory = context->realloc_fn[IDX_COUNTS](
            context->alloc_user[IDX_COUNTS], k_io_names[IDX_COUNTS], context->address[IDX_COUNTS], size, 256, stream);
        if (memory == NULL) {
            RETURN_CONTEXT(fail(TTRT_E_TENSORRT,
                "enqueueV3 failed [TensorRT: fake: reallocateOutputAsync for 'counts' (%llu bytes) returned NULL]",
                (unsigned long long)size));
        }
        if ((uintptr_t)memory % 256 != 0) {
            RETURN_CONTEXT(fail(TTRT_E_TENSORRT,
                "enqueueV3 failed [TensorRT: fake: reallocateOutputAsync for 'counts' returned %p, not 256-byte aligned]",
                memory));
        }
        context->address[IDX_COUNTS] = memory;
        counts = (int32_t*)memory;
    }
    int64_t written = 0;
    for (int64_t b = 0; b < batch; ++b) {
        int32_t positive = 0;
        for (int64_t k = 0; k < per_item; ++k) {
            float x = images[b * per_item + k];
            scores[b * per_item + k] = 2.0f * x + (float)offset[b];
            positive += x > 0.0f ? 1 : 0;
        }
        if (!g_data_dependent) {
            counts[b] = positive;
        } else if (positive > 0) {
            counts[written++] = positive;
        }
    }
    if (g_data_dependent) {
        ttrt_dims shape = k_io_shape[IDX_COUNTS];
        shape.d[0] = written;
        context->counts_len = written;
        context->counts_known = 1;
        context->notify_fn[IDX_COUNTS](context->alloc_user[IDX_COUNTS], k_io_names[IDX_COUNTS], &shape);
    }
    char note[64];
    snprintf(note, sizeof note, "fake: enqueue batch=%lld", (long long)batch);
    emit(TTRT_SEVERITY_VERBOSE, note);
    RETURN_CONTEXT(TTRT_OK);
}

TTRT_API int32_t TTRT_CALL ttrt_context_set_output_allocator(ttrt_context* context, const char* name,
                                                             ttrt_reallocate_fn reallocate,
                                                             ttrt_notify_shape_fn notify_shape, void* user_data)
{
    BEGIN_CONTEXT("context_set_output_allocator", name != NULL ? name : "(null)");
    int32_t i = 0;
    TRY_CONTEXT(check_tensor(name, &i));
    if (k_io_mode[i] != TTRT_IO_OUTPUT) {
        RETURN_CONTEXT(fail(TTRT_E_INVALID_ARGUMENT, "'%.256s' is an input; only outputs take an output allocator", name));
    }
    if ((reallocate == NULL) != (notify_shape == NULL)) {
        RETURN_CONTEXT(fail(TTRT_E_INVALID_ARGUMENT,
            "give both callbacks (reallocate and notify_shape) to set an output allocator, or neither to remove it"));
    }
    context->realloc_fn[i] = reallocate;
    context->notify_fn[i] = notify_shape;
    context->alloc_user[i] = user_data;
    RETURN_CONTEXT(TTRT_OK);
}

/* ---------------------------------------------------------------- test controls */

TTRT_API int32_t TTRT_CALL ttrt_fake_set_data_dependent_counts(int32_t on)
{
    t_error[0] = '\0';
    lock();
    g_data_dependent = on != 0;
    RETURN(TTRT_OK);
}

TTRT_API int32_t TTRT_CALL ttrt_fake_call_log(char* buf, int32_t cap, int32_t* len_out)
{
    t_error[0] = '\0';
    lock();
    RETURN(write_string(g_log != NULL ? g_log : "", buf, cap, len_out, "the call log"));
}

static const char* canonical_function(const char* name)
{
    if (strncmp(name, "ttrt_", 5) == 0) {
        name += 5;
    }
    for (size_t i = 0; i < sizeof k_functions / sizeof k_functions[0]; ++i) {
        if (strcmp(name, k_functions[i]) == 0) {
            return k_functions[i];
        }
    }
    return NULL;
}

TTRT_API int32_t TTRT_CALL ttrt_fake_fail_next_status(const char* function_name, int32_t status, const char* message)
{
    t_error[0] = '\0';
    if (function_name == NULL) {
        return fail(TTRT_E_INVALID_ARGUMENT, "argument 'function_name' is NULL");
    }
    const char* fn = canonical_function(function_name);
    if (fn == NULL) {
        return fail(TTRT_E_INVALID_ARGUMENT, "'%.128s' is not a function of the typedtrt ABI", function_name);
    }
    if (status < TTRT_E_INVALID_ARGUMENT || status > TTRT_E_INTERNAL) {
        return fail(TTRT_E_INVALID_ARGUMENT, "status %d is not a TTRT_E_* failure status", (int)status);
    }
    const char* text = message != NULL ? message : "";
    char* copy = (char*)malloc(strlen(text) + 1);
    if (copy == NULL) {
        return fail(TTRT_E_OUT_OF_MEMORY, "out of host memory");
    }
    memcpy(copy, text, strlen(text) + 1);
    lock();
    injection* slot = NULL;
    for (int i = 0; i < MAX_INJECTIONS && slot == NULL; ++i) {
        if (strcmp(g_inject[i].function, fn) == 0) {
            slot = &g_inject[i];
        }
    }
    for (int i = 0; i < MAX_INJECTIONS && slot == NULL; ++i) {
        if (g_inject[i].function[0] == '\0') {
            slot = &g_inject[i];
        }
    }
    if (slot == NULL) {
        free(copy);
        RETURN(fail(TTRT_E_INVALID_STATE, "too many pending injected failures (%d)", MAX_INJECTIONS));
    }
    free(slot->message);
    snprintf(slot->function, sizeof slot->function, "%s", fn);
    slot->status = status;
    slot->message = copy;
    RETURN(TTRT_OK);
}

TTRT_API int32_t TTRT_CALL ttrt_fake_fail_next(const char* function_name, const char* message)
{
    int32_t status = TTRT_E_TENSORRT;
    if (function_name != NULL) {
        const char* fn = canonical_function(function_name);
        if (fn != NULL && strcmp(fn, "load_library") == 0) {
            status = TTRT_E_LIBRARY_NOT_FOUND;
        }
    }
    return ttrt_fake_fail_next_status(function_name, status, message);
}

TTRT_API int32_t TTRT_CALL ttrt_fake_set_loaded_version(int32_t version)
{
    t_error[0] = '\0';
    if (version <= 0) {
        return fail(TTRT_E_INVALID_ARGUMENT, "version %d must be positive (major*10000 + minor*100 + patch)",
            (int)version);
    }
    lock();
    g_next_loaded_version = version;
    RETURN(TTRT_OK);
}

TTRT_API int32_t TTRT_CALL ttrt_fake_emit_log(int32_t severity, const char* message)
{
    t_error[0] = '\0';
    if (severity < TTRT_SEVERITY_INTERNAL_ERROR || severity > TTRT_SEVERITY_VERBOSE) {
        return fail(TTRT_E_INVALID_ARGUMENT, "severity %d is out of range 0..4", (int)severity);
    }
    lock();
    emit(severity, message != NULL ? message : "");
    RETURN(TTRT_OK);
}

TTRT_API int32_t TTRT_CALL ttrt_fake_live_handles(int32_t* runtimes, int32_t* engines, int32_t* contexts)
{
    t_error[0] = '\0';
    lock();
    if (runtimes != NULL) {
        *runtimes = g_live_count[KIND_RUNTIME];
    }
    if (engines != NULL) {
        *engines = g_live_count[KIND_ENGINE];
    }
    if (contexts != NULL) {
        *contexts = g_live_count[KIND_CONTEXT];
    }
    RETURN(TTRT_OK);
}

TTRT_API int32_t TTRT_CALL ttrt_fake_reset(void)
{
    t_error[0] = '\0';
    lock();
    g_log_len = 0;
    if (g_log != NULL) {
        g_log[0] = '\0';
    }
    for (int i = 0; i < MAX_INJECTIONS; ++i) {
        free(g_inject[i].message);
        memset(&g_inject[i], 0, sizeof g_inject[i]);
    }
    g_loaded = 0;
    g_loaded_version = TTRT_FAKE_HEADER_VERSION;
    g_next_loaded_version = TTRT_FAKE_HEADER_VERSION;
    g_library_path[0] = '\0';
    g_data_dependent = 0;
    RETURN(TTRT_OK);
}
