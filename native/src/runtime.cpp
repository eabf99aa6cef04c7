// runtime.cpp - ttrt_runtime_*: creating a TensorRT runtime (loads libnvinfer on first use) and destroying it.

#include "shim_internal.h"

using namespace ttrt_detail;

extern "C" {

TTRT_API int32_t TTRT_CALL ttrt_runtime_create(ttrt_runtime** out)
{
    return guarded([&]() -> int32_t {
        TTRT_REQUIRE(out);
        TTRT_TRY(loadLibrary(nullptr));
        CreateRuntimeFn create = nullptr;
        {
            Library& lib = library();
            std::lock_guard<std::mutex> lock(lib.mutex);
            create = lib.createRuntime;
        }
        auto* h = new ttrt_runtime();
        h->recorder = new Recorder();
        void* raw = create(static_cast<void*>(static_cast<nv::ILogger*>(&logger())),
            static_cast<int32_t>(NV_TENSORRT_VERSION));
        if (raw == nullptr)
        {
            releaseRecorder(h->recorder);
            delete h;
            return failTrt("createInferRuntime failed (no CUDA driver or GPU? a CUDA driver too old for this "
                           "TensorRT?)");
        }
        h->runtime = static_cast<nv::IRuntime*>(raw);
        h->runtime->setErrorRecorder(h->recorder);
        registerHandle(h);
        *out = h;
        return TTRT_OK;
    });
}

TTRT_API int32_t TTRT_CALL ttrt_runtime_destroy(ttrt_runtime* runtime)
{
    return guarded([&]() -> int32_t {
        TTRT_TRY(unregisterForDestroy(runtime, Kind::kRuntime, "engine"));
        delete runtime->runtime;
        releaseRecorder(runtime->recorder);
        delete runtime;
        return TTRT_OK;
    });
}

} // extern "C"
