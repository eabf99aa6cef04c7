// Output allocation (ABI 1.1): TensorRT's IOutputAllocator forwarding to the caller's C callbacks, for outputs whose
// shape is known only during enqueueV3 (data-dependent shapes). TensorRT calls both methods on the enqueueing thread
// before enqueueV3 returns (notifyShape "sometime between reallocateOutputAsync and the return of enqueueV3").
#include "shim_internal.h"

namespace ttrt_detail {

class OutputAllocator final : public nv::IOutputAllocator
{
public:
    OutputAllocator(ttrt_reallocate_fn reallocate, ttrt_notify_shape_fn notify, void* user) noexcept
        : mReallocate(reallocate)
        , mNotify(notify)
        , mUser(user)
    {
    }

    void* reallocateOutputAsync(char const* tensorName, void* currentMemory, uint64_t size, uint64_t alignment,
        cudaStream_t stream) noexcept override
    {
        return mReallocate(mUser, tensorName, currentMemory, size, alignment, static_cast<void*>(stream));
    }

    void notifyShape(char const* tensorName, nv::Dims const& dims) noexcept override
    {
        ttrt_dims out{};
        toTtrt(dims, &out);
        mNotify(mUser, tensorName, &out);
    }

private:
    ttrt_reallocate_fn mReallocate;
    ttrt_notify_shape_fn mNotify;
    void* mUser;
};

} // namespace ttrt_detail

using namespace ttrt_detail;

extern "C" {

TTRT_API int32_t TTRT_CALL ttrt_context_set_output_allocator(ttrt_context* context, char const* name,
    ttrt_reallocate_fn reallocate, ttrt_notify_shape_fn notify_shape, void* user_data)
{
    return guarded([&]() -> int32_t {
        Use<ttrt_context> c;
        TTRT_TRY(c.acquire(context, Kind::kContext));
        TTRT_REQUIRE(name);
        nv::TensorIOMode mode{};
        TTRT_TRY(checkTensor(*c->parent->engine, name, &mode));
        if (mode != nv::TensorIOMode::kOUTPUT)
        {
            return fail(TTRT_E_INVALID_ARGUMENT, "'%.256s' is an input; only outputs take an output allocator", name);
        }
        if ((reallocate == nullptr) != (notify_shape == nullptr))
        {
            return fail(TTRT_E_INVALID_ARGUMENT,
                "give both callbacks (reallocate and notify_shape) to set an output allocator, or neither to remove it");
        }
        std::shared_ptr<OutputAllocator> allocator;
        if (reallocate != nullptr)
        {
            allocator = std::make_shared<OutputAllocator>(reallocate, notify_shape, user_data);
        }
        if (!c->context->setOutputAllocator(name, allocator.get()))
        {
            return failTrt("setOutputAllocator('%.256s') failed", name);
        }
        // Kept until replaced or the context is destroyed: TensorRT holds the raw pointer.
        if (allocator)
        {
            c->allocators[name] = std::move(allocator);
        }
        else
        {
            c->allocators.erase(name);
        }
        return TTRT_OK;
    });
}

} // extern "C"
