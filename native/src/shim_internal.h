// shim_internal.h - what the translation units of the TensorRT shim share (not part of the ABI).
//
// The shim is the C ABI of typedtrt_shim.h over the TensorRT 10.x C++ API (also compiles against 11.x).
// Deliberately thin: argument checks, handle bookkeeping, error text. Every decision about shapes,
// buffers, profiles and streams belongs to the .NET layer above.
//
// libnvinfer is never linked: it is dlopen'ed (LoadLibrary on Windows) on first use and only two
// C symbols are looked up, createInferRuntime_INTERNAL and getInferLibVersion. All other TensorRT
// calls are header inlines that go through the objects' internal vtables.
//
// One file per section: errors.cpp (per-thread error text, string and dims helpers), logging.cpp (the
// process-wide logger and the per-object error recorders), loading.cpp (finding and checking libnvinfer),
// handles.cpp (the registry of live handles), layout.cpp (ABI layout and enum checks, the ABI version),
// runtime.cpp, engine.cpp, context.cpp (the C functions on each kind of handle).
#ifndef TYPEDTRT_SHIM_INTERNAL_H
#define TYPEDTRT_SHIM_INTERNAL_H

#define TTRT_BUILDING 1
#include "typedtrt_shim.h"

#include <NvInferRuntime.h>
#include <NvInferVersion.h>

#include <atomic>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#if defined(_WIN32)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#else
#include <dlfcn.h>
#endif

#if NV_TENSORRT_MAJOR < 10
#error "typedtrt shim: TensorRT 10 or newer headers are required (the name-based IO tensor API, Dims64)"
#endif

#define TTRT_TRT_AT_LEAST(maj, min) \
    (NV_TENSORRT_MAJOR > (maj) || (NV_TENSORRT_MAJOR == (maj) && NV_TENSORRT_MINOR >= (min)))

#define TTRT_STR2(x) #x
#define TTRT_STR(x) TTRT_STR2(x)

#if defined(__GNUC__)
#define TTRT_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define TTRT_PRINTF(fmt, args)
#endif

namespace nv = nvinfer1;

namespace ttrt_detail {

constexpr int32_t kHeaderVersion = static_cast<int32_t>(NV_TENSORRT_VERSION);
constexpr size_t kMaxNameBytes = 4096; // TensorRT's limit for tensor names, terminator included
constexpr size_t kMaxTrtErrorText = 8192;

#if defined(_WIN32)
constexpr char const* kDefaultLibrary = "nvinfer_" TTRT_STR(NV_TENSORRT_MAJOR) ".dll";
constexpr char const* kInstallHint = "install the TensorRT " TTRT_STR(NV_TENSORRT_MAJOR)
    " runtime (the TensorRT zip from NVIDIA) and add its lib folder (the one holding nvinfer_" TTRT_STR(
        NV_TENSORRT_MAJOR) ".dll) to PATH, or pass the DLL's full path";
#else
constexpr char const* kDefaultLibrary = "libnvinfer.so." TTRT_STR(NV_TENSORRT_MAJOR);
constexpr char const* kInstallHint = "install the TensorRT " TTRT_STR(NV_TENSORRT_MAJOR)
    " runtime (e.g. the libnvinfer" TTRT_STR(NV_TENSORRT_MAJOR)
    " package or NVIDIA's TensorRT tar file) and put its lib folder on LD_LIBRARY_PATH, or pass the "
    "library's full path";
#endif

// ---------------------------------------------------------------- per-thread error text (errors.cpp)

extern thread_local std::string t_error;     // text of this thread's last failed call
extern thread_local std::string t_trtErrors; // errors TensorRT reported on this thread during the current call
extern thread_local bool t_inLogCallback;

void clearCallState() noexcept;
void noteTrtError(char const* text) noexcept;
std::string vformat(char const* fmt, va_list args);
std::string format(char const* fmt, ...) TTRT_PRINTF(1, 2);

// Sets this thread's error text and returns status. Appends what TensorRT reported during the call.
int32_t fail(int32_t status, char const* fmt, ...) TTRT_PRINTF(2, 3);

// For a TensorRT call that reported failure: the message always says whether TensorRT gave reasons.
int32_t failTrt(char const* fmt, ...) TTRT_PRINTF(1, 2);

template <class F>
int32_t guarded(F&& body) noexcept
{
    clearCallState();
    try
    {
        return body();
    }
    catch (std::bad_alloc const&)
    {
        return fail(TTRT_E_OUT_OF_MEMORY, "out of host memory");
    }
    catch (std::exception const& e)
    {
        return fail(TTRT_E_INTERNAL, "internal error in the typedtrt shim: %s", e.what());
    }
    catch (...)
    {
        return fail(TTRT_E_INTERNAL, "internal error in the typedtrt shim: unknown exception");
    }
}

int32_t writeString(char const* s, char* buf, int32_t cap, int32_t* lenOut, char const* what);
std::string dimsText(nv::Dims64 const& d);
void toTtrt(nv::Dims64 const& in, ttrt_dims* out);
std::string versionText(int32_t v);
int32_t majorOf(int32_t v);
int32_t minorOf(int32_t v);

// ---------------------------------------------------------------- logger and error recorder (logging.cpp)

class Logger final : public nv::ILogger
{
public:
    void log(Severity severity, nv::AsciiChar const* msg) noexcept override;

    // Only to the .NET callback, not into the error text.
    void forward(int32_t sev, char const* msg) noexcept;

    void set(ttrt_log_fn fn, void* user, int32_t maxSeverity);

private:
    std::mutex mMutex;
    ttrt_log_fn mFn{nullptr};
    void* mUser{nullptr};
    int32_t mMaxSeverity{TTRT_SEVERITY_WARNING};
};

// Never destroyed: TensorRT may log until the very end of the process.
Logger& logger();

// One per runtime, engine and context. TensorRT reports errors on the thread that made the failing
// call, so the text goes into that thread's per-call buffer; a bounded copy is kept to honour the
// IErrorRecorder query interface.
class Recorder final : public nv::IErrorRecorder
{
public:
    int32_t getNbErrors() const noexcept override;
    nv::ErrorCode getErrorCode(int32_t errorIdx) const noexcept override;
    ErrorDesc getErrorDesc(int32_t errorIdx) const noexcept override;
    bool hasOverflowed() const noexcept override;
    void clear() noexcept override;
    bool reportError(nv::ErrorCode val, ErrorDesc desc) noexcept override;
    RefCount incRefCount() noexcept override;
    RefCount decRefCount() noexcept override;

    int32_t refs() const noexcept
    {
        return mRefs.load();
    }

private:
    bool inRange(int32_t i) const noexcept
    {
        return i >= 0 && static_cast<size_t>(i) < mErrors.size();
    }

    static constexpr size_t kMaxStored = 32;
    mutable std::mutex mMutex;
    std::vector<std::pair<nv::ErrorCode, std::string>> mErrors;
    bool mOverflowed{false};
    std::atomic<int32_t> mRefs{0};
};

// Deletes a recorder only once TensorRT holds no reference; otherwise leaks it (a few bytes) rather
// than risk a use after free inside TensorRT.
void releaseRecorder(Recorder* r) noexcept;

// ---------------------------------------------------------------- libnvinfer loading (loading.cpp)

using CreateRuntimeFn = void* (*) (void* logger, int32_t version);
using LibVersionFn = int32_t (*)();

struct Library
{
    std::mutex mutex;
    void* handle{nullptr};
    CreateRuntimeFn createRuntime{nullptr};
    std::atomic<int32_t> version{0};
    std::string requested; // "" = default name
    std::string resolved;  // full path of what got loaded
};

Library& library(); // never unloaded once TensorRT objects may exist

// Loads libnvinfer (path NULL or "" = the default name) unless it is loaded already. The note about what
// got loaded is logged after the lock is released, so the logger callback may call back into the shim.
int32_t loadLibrary(char const* path);

// ---------------------------------------------------------------- handles (handles.cpp)

enum class Kind : int32_t
{
    kRuntime = 1,
    kEngine = 2,
    kContext = 3,
};

char const* kindName(Kind k);

struct HandleBase
{
    explicit HandleBase(Kind k) noexcept
        : kind(k)
    {
    }
    Kind const kind;
    std::atomic<int32_t> inFlight{0}; // calls using this handle right now
    std::atomic<int32_t> children{0}; // live (or being created) engines / contexts made from it
};

struct Registry
{
    std::shared_mutex mutex;
    std::unordered_map<void const*, HandleBase*> live;
};

Registry& registry();

template <class H>
void registerHandle(H* h)
{
    Registry& reg = registry();
    std::unique_lock<std::shared_mutex> lock(reg.mutex);
    reg.live.emplace(static_cast<void const*>(h), h);
}

// Holds a handle for the duration of one call: it cannot be destroyed meanwhile, and an execution
// context cannot be entered by a second thread.
template <class H>
class Use
{
public:
    Use() = default;
    Use(Use const&) = delete;
    Use& operator=(Use const&) = delete;
    ~Use()
    {
        if (mHandle != nullptr)
        {
            mHandle->inFlight.fetch_sub(1);
        }
    }

    int32_t acquire(H* h, Kind kind)
    {
        if (h == nullptr)
        {
            return fail(TTRT_E_INVALID_ARGUMENT, "the %s handle is NULL", kindName(kind));
        }
        Registry& reg = registry();
        std::shared_lock<std::shared_mutex> lock(reg.mutex);
        auto it = reg.live.find(static_cast<void const*>(h));
        if (it == reg.live.end())
        {
            return fail(TTRT_E_INVALID_HANDLE, "%p is not a live %s handle (destroyed already, or never created)",
                static_cast<void*>(h), kindName(kind));
        }
        if (it->second->kind != kind)
        {
            return fail(TTRT_E_INVALID_HANDLE, "%p is a handle of kind '%s', not '%s'", static_cast<void*>(h),
                kindName(it->second->kind), kindName(kind));
        }
        if (kind == Kind::kContext)
        {
            int32_t idle = 0;
            if (!h->inFlight.compare_exchange_strong(idle, 1))
            {
                return fail(TTRT_E_INVALID_STATE,
                    "the execution context is in use by another thread right now; a context must be used by one "
                    "thread at a time (create one context per thread or stream)");
            }
        }
        else
        {
            h->inFlight.fetch_add(1);
        }
        mHandle = h;
        return TTRT_OK;
    }

    H* operator->() const noexcept
    {
        return mHandle;
    }

private:
    H* mHandle{nullptr};
};

// Removes h from the registry if it is idle and childless; the caller then frees it.
template <class H>
int32_t unregisterForDestroy(H* h, Kind kind, char const* childName)
{
    if (h == nullptr)
    {
        return fail(TTRT_E_INVALID_ARGUMENT, "the %s handle is NULL", kindName(kind));
    }
    Registry& reg = registry();
    std::unique_lock<std::shared_mutex> lock(reg.mutex);
    auto it = reg.live.find(static_cast<void const*>(h));
    if (it == reg.live.end())
    {
        return fail(TTRT_E_INVALID_HANDLE, "%p is not a live %s handle (destroyed already, or never created)",
            static_cast<void*>(h), kindName(kind));
    }
    if (it->second->kind != kind)
    {
        return fail(TTRT_E_INVALID_HANDLE, "%p is a handle of kind '%s', not '%s'", static_cast<void*>(h),
            kindName(it->second->kind), kindName(kind));
    }
    if (h->inFlight.load() != 0)
    {
        return fail(TTRT_E_INVALID_STATE, "cannot destroy the %s: another thread is using it right now",
            kindName(kind));
    }
    int32_t children = h->children.load();
    if (children != 0)
    {
        return fail(TTRT_E_INVALID_STATE,
            "cannot destroy the %s: %d %s(s) created from it are still alive; destroy in the order "
            "execution contexts, then engines, then the runtime",
            kindName(kind), static_cast<int>(children), childName);
    }
    reg.live.erase(it);
    return TTRT_OK;
}

} // namespace ttrt_detail

struct ttrt_runtime : ttrt_detail::HandleBase
{
    ttrt_runtime()
        : ttrt_detail::HandleBase(ttrt_detail::Kind::kRuntime)
    {
    }
    nvinfer1::IRuntime* runtime{nullptr};
    ttrt_detail::Recorder* recorder{nullptr};
};

struct ttrt_engine : ttrt_detail::HandleBase
{
    ttrt_engine()
        : ttrt_detail::HandleBase(ttrt_detail::Kind::kEngine)
    {
    }
    ttrt_runtime* parent{nullptr};
    nvinfer1::ICudaEngine* engine{nullptr};
    ttrt_detail::Recorder* recorder{nullptr};
};

namespace ttrt_detail {
class OutputAllocator; // output_allocator.cpp
} // namespace ttrt_detail

struct ttrt_context : ttrt_detail::HandleBase
{
    ttrt_context()
        : ttrt_detail::HandleBase(ttrt_detail::Kind::kContext)
    {
    }
    ttrt_engine* parent{nullptr};
    nvinfer1::IExecutionContext* context{nullptr};
    ttrt_detail::Recorder* recorder{nullptr};
    int32_t strategy{TTRT_ALLOC_STATIC};
    // Output allocators by tensor name (ttrt_context_set_output_allocator); destroyed after `context`.
    std::unordered_map<std::string, std::shared_ptr<ttrt_detail::OutputAllocator>> allocators;
};

namespace ttrt_detail {

// Decrements a parent's child count when a child's creation fails or the child is destroyed.
class ChildSlot
{
public:
    explicit ChildSlot(HandleBase* parent) noexcept
        : mParent(parent)
    {
        mParent->children.fetch_add(1);
    }
    ChildSlot(ChildSlot const&) = delete;
    ChildSlot& operator=(ChildSlot const&) = delete;
    ~ChildSlot()
    {
        if (!mKept)
        {
            mParent->children.fetch_sub(1);
        }
    }
    void keep() noexcept
    {
        mKept = true;
    }

private:
    HandleBase* mParent;
    bool mKept{false};
};

// Engine helpers shared by the engine and context functions (engine.cpp).
std::string engineName(nv::ICudaEngine const& e);
std::string ioNames(nv::ICudaEngine const& e);

// Validates a tensor name against the engine (TensorRT's other queries answer defaults for unknown
// names, so getTensorIOMode is asked first).
int32_t checkTensor(nv::ICudaEngine const& e, char const* name, nv::TensorIOMode* mode);
int32_t checkProfile(nv::ICudaEngine const& e, int32_t profile);

} // namespace ttrt_detail

#define TTRT_TRY(expr)                                                                                                 \
    do                                                                                                                 \
    {                                                                                                                  \
        int32_t ttrt_status_ = (expr);                                                                                 \
        if (ttrt_status_ != TTRT_OK)                                                                                   \
        {                                                                                                              \
            return ttrt_status_;                                                                                       \
        }                                                                                                              \
    } while (0)

#define TTRT_REQUIRE(ptr)                                                                                              \
    do                                                                                                                 \
    {                                                                                                                  \
        if ((ptr) == nullptr)                                                                                          \
        {                                                                                                              \
            return fail(TTRT_E_INVALID_ARGUMENT, "argument '%s' is NULL", #ptr);                                        \
        }                                                                                                              \
    } while (0)

#endif // TYPEDTRT_SHIM_INTERNAL_H
