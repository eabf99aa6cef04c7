/*
 * loader_check.c - runs one library-loading scenario against the real shim (one per process, since
 * a loaded TensorRT library stays loaded). Usage:
 *   loader_check <library path or ""> <expected ttrt_load_library status> <text expected in the error or "">
 * When loading succeeds it also checks ttrt_versions, ttrt_library_path, and that
 * ttrt_runtime_create fails cleanly with TTRT_E_TENSORRT when createInferRuntime_INTERNAL gives NULL.
 */
#include "typedtrt_shim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char g_logged[4096];

static void TTRT_CALL on_log(int32_t severity, const char* message, void* user)
{
    (void)user;
    size_t used = strlen(g_logged);
    snprintf(g_logged + used, sizeof g_logged - used, "%d:%s\n", (int)severity, message);
}

static const char* last_error(void)
{
    static char buf[4096];
    ttrt_last_error(buf, (int32_t)sizeof buf, NULL);
    return buf;
}

int main(int argc, char** argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s <path|\"\"> <expected status> <expected error text|\"\">\n", argv[0]);
        return 2;
    }
    int failures = 0;
    int expected = atoi(argv[2]);
    if (ttrt_abi_version() != TTRT_ABI_VERSION) {
        fprintf(stderr, "FAIL abi version %d\n", (int)ttrt_abi_version());
        ++failures;
    }
    ttrt_set_logger(on_log, NULL, TTRT_SEVERITY_VERBOSE);
    int32_t st = ttrt_load_library(argv[1][0] != '\0' ? argv[1] : NULL);
    printf("load_library(\"%s\") -> %d: %s\n", argv[1], (int)st, last_error());
    if (st != expected) {
        fprintf(stderr, "FAIL expected status %d\n", expected);
        ++failures;
    }
    if (argv[3][0] != '\0' && strstr(last_error(), argv[3]) == NULL) {
        fprintf(stderr, "FAIL error text lacks \"%s\"\n", argv[3]);
        ++failures;
    }
    int32_t header = 0, loaded = -1;
    ttrt_versions(&header, &loaded);
    printf("versions: header %d, loaded %d\n", (int)header, (int)loaded);
    if (st == TTRT_OK) {
        char path[1024];
        if (ttrt_library_path(path, (int32_t)sizeof path, NULL) != TTRT_OK || loaded == 0) {
            fprintf(stderr, "FAIL library_path/versions after a successful load: %s\n", last_error());
            ++failures;
        }
        printf("library path: %s\nlogged: %s", path, g_logged);
        ttrt_runtime* rt = NULL;
        st = ttrt_runtime_create(&rt);
        printf("runtime_create -> %d: %s\n", (int)st, last_error());
        if (st != TTRT_E_TENSORRT || rt != NULL) {
            fprintf(stderr, "FAIL runtime_create with a stub library must fail with TTRT_E_TENSORRT\n");
            ++failures;
        }
        if (ttrt_runtime_destroy(rt) != TTRT_E_INVALID_ARGUMENT) {
            fprintf(stderr, "FAIL runtime_destroy(NULL)\n");
            ++failures;
        }
        if (ttrt_engine_destroy((ttrt_engine*)(void*)&header) != TTRT_E_INVALID_HANDLE) {
            fprintf(stderr, "FAIL engine_destroy(garbage) must be TTRT_E_INVALID_HANDLE\n");
            ++failures;
        }
    } else if (loaded != 0) {
        fprintf(stderr, "FAIL a failed load must leave no library loaded\n");
        ++failures;
    }
    printf("%s\n", failures == 0 ? "PASS" : "FAIL");
    return failures == 0 ? 0 : 1;
}
