/*
 * stub_nvinfer.c - a stand-in for libnvinfer with only the two C symbols the shim looks up, to test
 * the shim's loading and version checks where TensorRT is not installed. Not TensorRT code.
 * STUB_VERSION: what getInferLibVersion reports. createInferRuntime_INTERNAL always fails (NULL),
 * as the real one does when no CUDA driver is usable. Define STUB_NO_CREATE to leave it out.
 */
#include <stdint.h>

#ifndef STUB_VERSION
#define STUB_VERSION 101600
#endif

__attribute__((visibility("default"))) int32_t getInferLibVersion(void)
{
    return STUB_VERSION;
}

#ifndef STUB_NO_CREATE
__attribute__((visibility("default"))) void* createInferRuntime_INTERNAL(void* logger, int32_t version)
{
    (void)logger;
    (void)version;
    return 0;
}
#endif
