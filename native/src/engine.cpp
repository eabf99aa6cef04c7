// engine.cpp - ttrt_engine_*: deserializing a plan and reading its IO tensor and profile metadata.

#include "shim_internal.h"

namespace ttrt_detail {

std::string engineName(nv::ICudaEngine const& e)
{
    char const* n = e.getName();
    return n != nullptr ? n : "";
}

std::string ioNames(nv::ICudaEngine const& e)
{
    std::string s;
    int32_t n = e.getNbIOTensors();
    for (int32_t i = 0; i < n; ++i)
    {
        char const* name = e.getIOTensorName(i);
        s += (i != 0 ? ", " : "") + std::string(name != nullptr ? name : "?");
    }
    return s.empty() ? "none" : s;
}

int32_t checkTensor(nv::ICudaEngine const& e, char const* name, nv::TensorIOMode* mode)
{
    if (name == nullptr)
    {
        return fail(TTRT_E_INVALID_ARGUMENT, "the tensor name is NULL");
    }
    size_t len = 0;
    while (len < kMaxNameBytes && name[len] != '\0')
    {
        ++len;
    }
    if (len == kMaxNameBytes)
    {
        return fail(TTRT_E_INVALID_ARGUMENT, "the tensor name is longer than TensorRT's limit of %zu bytes",
            kMaxNameBytes - 1);
    }
    nv::TensorIOMode m = e.getTensorIOMode(name);
    if (m == nv::TensorIOMode::kNONE)
    {
        return fail(TTRT_E_UNKNOWN_TENSOR, "engine '%s' has no IO tensor named '%.256s' (its IO tensors: %s)",
            engineName(e).c_str(), name, ioNames(e).c_str());
    }
    *mode = m;
    return TTRT_OK;
}

int32_t checkProfile(nv::ICudaEngine const& e, int32_t profile)
{
    int32_t n = e.getNbOptimizationProfiles();
    if (profile < 0 || profile >= n)
    {
        return fail(TTRT_E_INVALID_ARGUMENT, "optimization profile %d does not exist: engine '%s' has %d (0..%d)",
            static_cast<int>(profile), engineName(e).c_str(), static_cast<int>(n), static_cast<int>(n - 1));
    }
    return TTRT_OK;
}

} // namespace ttrt_detail

using namespace ttrt_detail;

extern "C" {

TTRT_API int32_t TTRT_CALL ttrt_engine_deserialize(
    ttrt_runtime* runtime, void const* data, uint64_t size, ttrt_engine** out)
{
    return guarded([&]() -> int32_t {
        Use<ttrt_runtime> rt;
        TTRT_TRY(rt.acquire(runtime, Kind::kRuntime));
        TTRT_REQUIRE(data);
        TTRT_REQUIRE(out);
        if (size == 0 || size > static_cast<uint64_t>(SIZE_MAX))
        {
            return fail(TTRT_E_INVALID_ARGUMENT, "engine data size %llu is invalid",
                static_cast<unsigned long long>(size));
        }
        ChildSlot slot(runtime);
        auto* h = new ttrt_engine();
        h->parent = runtime;
        h->recorder = new Recorder();
        h->engine = runtime->runtime->deserializeCudaEngine(data, static_cast<size_t>(size));
        if (h->engine == nullptr)
        {
            releaseRecorder(h->recorder);
            delete h;
            return failTrt("deserializeCudaEngine failed for %llu bytes (a plan built by another TensorRT version "
                           "or for another GPU, or not a plan at all?)",
                static_cast<unsigned long long>(size));
        }
        h->engine->setErrorRecorder(h->recorder);
        registerHandle(h);
        slot.keep();
        *out = h;
        return TTRT_OK;
    });
}

TTRT_API int32_t TTRT_CALL ttrt_engine_destroy(ttrt_engine* engine)
{
    return guarded([&]() -> int32_t {
        TTRT_TRY(unregisterForDestroy(engine, Kind::kEngine, "execution context"));
        delete engine->engine;
        releaseRecorder(engine->recorder);
        engine->parent->children.fetch_sub(1);
        delete engine;
        return TTRT_OK;
    });
}

TTRT_API int32_t TTRT_CALL ttrt_engine_name(ttrt_engine* engine, char* buf, int32_t cap, int32_t* len_out)
{
    return guarded([&]() -> int32_t {
        Use<ttrt_engine> e;
        TTRT_TRY(e.acquire(engine, Kind::kEngine));
        return writeString(e->engine->getName(), buf, cap, len_out, "the engine name");
    });
}

TTRT_API int32_t TTRT_CALL ttrt_engine_io_count(ttrt_engine* engine, int32_t* count)
{
    return guarded([&]() -> int32_t {
        Use<ttrt_engine> e;
        TTRT_TRY(e.acquire(engine, Kind::kEngine));
        TTRT_REQUIRE(count);
        *count = e->engine->getNbIOTensors();
        return TTRT_OK;
    });
}

TTRT_API int32_t TTRT_CALL ttrt_engine_io_name(
    ttrt_engine* engine, int32_t index, char* buf, int32_t cap, int32_t* len_out)
{
    return guarded([&]() -> int32_t {
        Use<ttrt_engine> e;
        TTRT_TRY(e.acquire(engine, Kind::kEngine));
        int32_t n = e->engine->getNbIOTensors();
        if (index < 0 || index >= n)
        {
            return fail(TTRT_E_INVALID_ARGUMENT, "IO tensor index %d is out of range: the engine has %d IO tensors",
                static_cast<int>(index), static_cast<int>(n));
        }
        char const* name = e->engine->getIOTensorName(index);
        if (name == nullptr)
        {
            return failTrt("getIOTensorName(%d) returned no name", static_cast<int>(index));
        }
        return writeString(name, buf, cap, len_out, "the tensor name");
    });
}

TTRT_API int32_t TTRT_CALL ttrt_engine_profile_count(ttrt_engine* engine, int32_t* count)
{
    return guarded([&]() -> int32_t {
        Use<ttrt_engine> e;
        TTRT_TRY(e.acquire(engine, Kind::kEngine));
        TTRT_REQUIRE(count);
        *count = e->engine->getNbOptimizationProfiles();
        return TTRT_OK;
    });
}

TTRT_API int32_t TTRT_CALL ttrt_engine_tensor_info(
    ttrt_engine* engine, char const* name, int32_t profile, ttrt_tensor_info* out)
{
    return guarded([&]() -> int32_t {
        Use<ttrt_engine> e;
        TTRT_TRY(e.acquire(engine, Kind::kEngine));
        TTRT_REQUIRE(out);
        nv::ICudaEngine const& eng = *e->engine;
        nv::TensorIOMode mode{};
        TTRT_TRY(checkTensor(eng, name, &mode));
        TTRT_TRY(checkProfile(eng, profile));
        ttrt_tensor_info info;
        std::memset(&info, 0, sizeof(info));
        info.io_mode = static_cast<int32_t>(mode);
        info.data_type = static_cast<int32_t>(eng.getTensorDataType(name));
        info.location = static_cast<int32_t>(eng.getTensorLocation(name));
        info.is_shape_inference_io = eng.isShapeInferenceIO(name) ? 1 : 0;
        info.format = static_cast<int32_t>(eng.getTensorFormat(name, profile));
        info.vectorized_dim = eng.getTensorVectorizedDim(name, profile);
        info.components_per_element = eng.getTensorComponentsPerElement(name, profile);
        info.bytes_per_component = eng.getTensorBytesPerComponent(name, profile);
        info.profile = profile;
        toTtrt(eng.getTensorShape(name), &info.shape);
        *out = info;
        return TTRT_OK;
    });
}

TTRT_API int32_t TTRT_CALL ttrt_engine_profile_shape(
    ttrt_engine* engine, char const* name, int32_t profile, ttrt_dims* min, ttrt_dims* opt, ttrt_dims* max)
{
    return guarded([&]() -> int32_t {
        Use<ttrt_engine> e;
        TTRT_TRY(e.acquire(engine, Kind::kEngine));
        nv::ICudaEngine const& eng = *e->engine;
        nv::TensorIOMode mode{};
        TTRT_TRY(checkTensor(eng, name, &mode));
        TTRT_TRY(checkProfile(eng, profile));
        if (mode != nv::TensorIOMode::kINPUT)
        {
            return fail(TTRT_E_INVALID_ARGUMENT,
                "'%.256s' is an output; optimization profiles give shapes for inputs only", name);
        }
        nv::Dims64 dims[3];
        nv::OptProfileSelector const sel[3]
            = {nv::OptProfileSelector::kMIN, nv::OptProfileSelector::kOPT, nv::OptProfileSelector::kMAX};
        for (int i = 0; i < 3; ++i)
        {
            dims[i] = eng.getProfileShape(name, profile, sel[i]);
            if (dims[i].nbDims < 0 || dims[i].nbDims > nv::Dims64::MAX_DIMS)
            {
                return failTrt("getProfileShape('%.256s', profile %d) returned no shape", name,
                    static_cast<int>(profile));
            }
        }
        if (min != nullptr)
        {
            toTtrt(dims[0], min);
        }
        if (opt != nullptr)
        {
            toTtrt(dims[1], opt);
        }
        if (max != nullptr)
        {
            toTtrt(dims[2], max);
        }
        return TTRT_OK;
    });
}

TTRT_API int32_t TTRT_CALL ttrt_engine_device_memory_size(ttrt_engine* engine, int32_t profile, int64_t* bytes)
{
    return guarded([&]() -> int32_t {
        Use<ttrt_engine> e;
        TTRT_TRY(e.acquire(engine, Kind::kEngine));
        TTRT_REQUIRE(bytes);
        nv::ICudaEngine const& eng = *e->engine;
        if (profile != -1)
        {
            TTRT_TRY(checkProfile(eng, profile));
        }
#if TTRT_TRT_AT_LEAST(10, 1)
        int64_t size = profile == -1 ? eng.getDeviceMemorySizeV2() : eng.getDeviceMemorySizeForProfileV2(profile);
#else
        int64_t size = static_cast<int64_t>(
            profile == -1 ? eng.getDeviceMemorySize() : eng.getDeviceMemorySizeForProfile(profile));
#endif
        if (size < 0)
        {
            return failTrt("TensorRT reported no device memory size for profile %d", static_cast<int>(profile));
        }
        *bytes = size;
        return TTRT_OK;
    });
}

} // extern "C"
