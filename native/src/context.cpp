// context.cpp - ttrt_context_*: execution contexts: profiles, input shapes, tensor addresses, device memory, enqueue.

#include "shim_internal.h"

namespace {

bool isDefaultStream(void* stream)
{
    // 0 = legacy default stream, 1 = cudaStreamLegacy, 2 = cudaStreamPerThread
    auto v = reinterpret_cast<uintptr_t>(stream);
    return v <= 2;
}

} // namespace

using namespace ttrt_detail;

extern "C" {

TTRT_API int32_t TTRT_CALL ttrt_context_create(ttrt_engine* engine, int32_t allocation_strategy, ttrt_context** out)
{
    return guarded([&]() -> int32_t {
        Use<ttrt_engine> e;
        TTRT_TRY(e.acquire(engine, Kind::kEngine));
        TTRT_REQUIRE(out);
        if (allocation_strategy < TTRT_ALLOC_STATIC || allocation_strategy > TTRT_ALLOC_USER_MANAGED)
        {
            return fail(TTRT_E_INVALID_ARGUMENT,
                "allocation strategy %d is out of range: 0 static, 1 on profile change, 2 user managed",
                static_cast<int>(allocation_strategy));
        }
        ChildSlot slot(engine);
        auto* h = new ttrt_context();
        h->parent = engine;
        h->strategy = allocation_strategy;
        h->recorder = new Recorder();
        h->context = engine->engine->createExecutionContext(
            static_cast<nv::ExecutionContextAllocationStrategy>(allocation_strategy));
        if (h->context == nullptr)
        {
            releaseRecorder(h->recorder);
            delete h;
            return failTrt("createExecutionContext failed (out of device memory?)");
        }
        h->context->setErrorRecorder(h->recorder);
        registerHandle(h);
        slot.keep();
        *out = h;
        return TTRT_OK;
    });
}

TTRT_API int32_t TTRT_CALL ttrt_context_destroy(ttrt_context* context)
{
    return guarded([&]() -> int32_t {
        TTRT_TRY(unregisterForDestroy(context, Kind::kContext, "child"));
        delete context->context;
        releaseRecorder(context->recorder);
        context->parent->children.fetch_sub(1);
        delete context;
        return TTRT_OK;
    });
}

TTRT_API int32_t TTRT_CALL ttrt_context_set_profile(ttrt_context* context, int32_t profile, void* stream)
{
    return guarded([&]() -> int32_t {
        Use<ttrt_context> c;
        TTRT_TRY(c.acquire(context, Kind::kContext));
        TTRT_TRY(checkProfile(*c->parent->engine, profile));
        if (!c->context->setOptimizationProfileAsync(profile, static_cast<cudaStream_t>(stream)))
        {
            return failTrt("setOptimizationProfileAsync(%d) failed", static_cast<int>(profile));
        }
        return TTRT_OK;
    });
}

TTRT_API int32_t TTRT_CALL ttrt_context_set_input_shape(ttrt_context* context, char const* name, ttrt_dims const* dims)
{
    return guarded([&]() -> int32_t {
        Use<ttrt_context> c;
        TTRT_TRY(c.acquire(context, Kind::kContext));
        nv::ICudaEngine const& eng = *c->parent->engine;
        nv::TensorIOMode mode{};
        TTRT_TRY(checkTensor(eng, name, &mode));
        TTRT_REQUIRE(dims);
        if (mode != nv::TensorIOMode::kINPUT)
        {
            return fail(TTRT_E_INVALID_ARGUMENT, "'%.256s' is an output; only input shapes can be set", name);
        }
        if (dims->nb_dims < 0 || dims->nb_dims > TTRT_MAX_DIMS)
        {
            return fail(TTRT_E_INVALID_ARGUMENT, "shape for '%.256s' has rank %d; it must be 0..%d", name,
                static_cast<int>(dims->nb_dims), TTRT_MAX_DIMS);
        }
        nv::Dims64 d{};
        d.nbDims = dims->nb_dims;
        for (int32_t i = 0; i < nv::Dims64::MAX_DIMS; ++i)
        {
            d.d[i] = i < dims->nb_dims ? dims->d[i] : 0;
        }
        if (!c->context->setInputShape(name, d))
        {
            int32_t profile = c->context->getOptimizationProfile();
            std::string range = "unknown";
            if (profile >= 0)
            {
                range = "min " + dimsText(eng.getProfileShape(name, profile, nv::OptProfileSelector::kMIN))
                    + ", max " + dimsText(eng.getProfileShape(name, profile, nv::OptProfileSelector::kMAX));
            }
            return failTrt("setInputShape('%.256s', %s) failed; the current optimization profile %d allows %s",
                name, dimsText(d).c_str(), static_cast<int>(profile), range.c_str());
        }
        return TTRT_OK;
    });
}

TTRT_API int32_t TTRT_CALL ttrt_context_infer_shapes(ttrt_context* context, int32_t* missing_count)
{
    return guarded([&]() -> int32_t {
        Use<ttrt_context> c;
        TTRT_TRY(c.acquire(context, Kind::kContext));
        int32_t n = c->parent->engine->getNbIOTensors();
        std::vector<char const*> names(static_cast<size_t>(n > 0 ? n : 1), nullptr);
        int32_t r = c->context->inferShapes(n, n > 0 ? names.data() : nullptr);
        if (r < 0)
        {
            return failTrt("inferShapes failed");
        }
        if (missing_count != nullptr)
        {
            *missing_count = r;
        }
        if (r > 0)
        {
            std::string list;
            for (int32_t i = 0; i < r && i < n; ++i)
            {
                list += (i != 0 ? ", " : "") + std::string(names[static_cast<size_t>(i)] != nullptr
                        ? names[static_cast<size_t>(i)] : "?");
            }
            return fail(TTRT_E_INVALID_STATE,
                "shapes cannot be inferred yet: %d input(s) not sufficiently specified: %s (set their shapes with "
                "ttrt_context_set_input_shape; shape-tensor inputs also need their address)",
                static_cast<int>(r), list.c_str());
        }
        return TTRT_OK;
    });
}

TTRT_API int32_t TTRT_CALL ttrt_context_all_input_dims_specified(ttrt_context* context, int32_t* specified)
{
    return guarded([&]() -> int32_t {
        Use<ttrt_context> c;
        TTRT_TRY(c.acquire(context, Kind::kContext));
        TTRT_REQUIRE(specified);
        *specified = c->context->allInputDimensionsSpecified() ? 1 : 0;
        return TTRT_OK;
    });
}

TTRT_API int32_t TTRT_CALL ttrt_context_tensor_shape(ttrt_context* context, char const* name, ttrt_dims* out)
{
    return guarded([&]() -> int32_t {
        Use<ttrt_context> c;
        TTRT_TRY(c.acquire(context, Kind::kContext));
        nv::TensorIOMode mode{};
        TTRT_TRY(checkTensor(*c->parent->engine, name, &mode));
        TTRT_REQUIRE(out);
        toTtrt(c->context->getTensorShape(name), out);
        return TTRT_OK;
    });
}

TTRT_API int32_t TTRT_CALL ttrt_context_set_tensor_address(ttrt_context* context, char const* name, void* address)
{
    return guarded([&]() -> int32_t {
        Use<ttrt_context> c;
        TTRT_TRY(c.acquire(context, Kind::kContext));
        nv::TensorIOMode mode{};
        TTRT_TRY(checkTensor(*c->parent->engine, name, &mode));
        if (!c->context->setTensorAddress(name, address))
        {
            bool misaligned = reinterpret_cast<uintptr_t>(address) % 256 != 0;
            return failTrt("setTensorAddress('%.256s', %p) failed%s", name, address,
                misaligned ? "; the address is not 256-byte aligned as TensorRT requires" : "");
        }
        return TTRT_OK;
    });
}

TTRT_API int32_t TTRT_CALL ttrt_context_set_device_memory(ttrt_context* context, void* memory, int64_t size)
{
    return guarded([&]() -> int32_t {
        Use<ttrt_context> c;
        TTRT_TRY(c.acquire(context, Kind::kContext));
        if (c->strategy != TTRT_ALLOC_USER_MANAGED)
        {
            return fail(TTRT_E_INVALID_STATE,
                "the context was created with allocation strategy %d; only user-managed (2) contexts take device "
                "memory from the caller",
                static_cast<int>(c->strategy));
        }
        TTRT_REQUIRE(memory);
        if (size <= 0)
        {
            return fail(TTRT_E_INVALID_ARGUMENT, "device memory size %lld must be positive",
                static_cast<long long>(size));
        }
#if TTRT_TRT_AT_LEAST(10, 1)
        c->context->setDeviceMemoryV2(memory, size);
#else
        int32_t profile = c->context->getOptimizationProfile();
        int64_t need = static_cast<int64_t>(c->parent->engine->getDeviceMemorySizeForProfile(profile));
        if (size < need)
        {
            return fail(TTRT_E_INVALID_ARGUMENT, "device memory of %lld bytes is too small: profile %d needs %lld",
                static_cast<long long>(size), static_cast<int>(profile), static_cast<long long>(need));
        }
        c->context->setDeviceMemory(memory);
#endif
        if (!t_trtErrors.empty()) // the setter returns void; failures arrive through the error recorder
        {
            return failTrt("setDeviceMemory(%p, %lld bytes) failed", memory, static_cast<long long>(size));
        }
        return TTRT_OK;
    });
}

TTRT_API int32_t TTRT_CALL ttrt_context_enqueue(ttrt_context* context, void* stream)
{
    return guarded([&]() -> int32_t {
        Use<ttrt_context> c;
        TTRT_TRY(c.acquire(context, Kind::kContext));
        if (isDefaultStream(stream))
        {
            return fail(TTRT_E_INVALID_ARGUMENT,
                "enqueue on the default CUDA stream (%p) is refused: it forces extra synchronization; create a stream "
                "(cudaStreamCreate) and pass it",
                stream);
        }
        if (!c->context->enqueueV3(static_cast<cudaStream_t>(stream)))
        {
            bool shapesSet = c->context->allInputDimensionsSpecified();
            return failTrt("enqueueV3 failed%s", shapesSet ? "" : "; not every input shape has been set");
        }
        return TTRT_OK;
    });
}

} // extern "C"
