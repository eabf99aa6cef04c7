// shim.cpp - the C ABI of typedtrt_shim.h over the TensorRT 10.x C++ API (also compiles against 11.x).
//
// Deliberately thin: argument checks, handle bookkeeping, error text. Every decision about shapes,
// buffers, profiles and streams belongs to the .NET layer above.
//
// libnvinfer is never linked: it is dlopen'ed (LoadLibrary on Windows) on first use and only two
// C symbols are looked up, createInferRuntime_INTERNAL and getInferLibVersion. All other TensorRT
// calls are header inlines that go through the objects' internal vtables.

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

// ---------------------------------------------------------------- layout and enum checks

static_assert(nv::Dims64::MAX_DIMS == TTRT_MAX_DIMS, "ttrt_dims must match nvinfer1::Dims64");
static_assert(sizeof(ttrt_dims) == sizeof(nv::Dims64), "ttrt_dims must match nvinfer1::Dims64");
static_assert(offsetof(ttrt_dims, d) == offsetof(nv::Dims64, d), "ttrt_dims must match nvinfer1::Dims64");
static_assert(sizeof(ttrt_dims) == 72, "ttrt_dims layout is part of the ABI");
static_assert(sizeof(ttrt_tensor_info) == 112 && offsetof(ttrt_tensor_info, shape) == 40,
    "ttrt_tensor_info layout is part of the ABI");

#define TTRT_SAME(a, b) static_assert(static_cast<int32_t>(a) == (b), #a " != " #b)
TTRT_SAME(nv::ILogger::Severity::kINTERNAL_ERROR, TTRT_SEVERITY_INTERNAL_ERROR);
TTRT_SAME(nv::ILogger::Severity::kVERBOSE, TTRT_SEVERITY_VERBOSE);
TTRT_SAME(nv::TensorIOMode::kINPUT, TTRT_IO_INPUT);
TTRT_SAME(nv::TensorIOMode::kOUTPUT, TTRT_IO_OUTPUT);
TTRT_SAME(nv::TensorLocation::kHOST, TTRT_LOCATION_HOST);
TTRT_SAME(nv::DataType::kFLOAT, TTRT_DTYPE_FLOAT);
TTRT_SAME(nv::DataType::kHALF, TTRT_DTYPE_HALF);
TTRT_SAME(nv::DataType::kINT8, TTRT_DTYPE_INT8);
TTRT_SAME(nv::DataType::kINT32, TTRT_DTYPE_INT32);
TTRT_SAME(nv::DataType::kBOOL, TTRT_DTYPE_BOOL);
TTRT_SAME(nv::DataType::kUINT8, TTRT_DTYPE_UINT8);
TTRT_SAME(nv::DataType::kFP8, TTRT_DTYPE_FP8);
TTRT_SAME(nv::DataType::kBF16, TTRT_DTYPE_BF16);
TTRT_SAME(nv::DataType::kINT64, TTRT_DTYPE_INT64);
TTRT_SAME(nv::DataType::kINT4, TTRT_DTYPE_INT4);
#if TTRT_TRT_AT_LEAST(10, 8)
TTRT_SAME(nv::DataType::kFP4, TTRT_DTYPE_FP4);
#endif
#if TTRT_TRT_AT_LEAST(10, 12)
TTRT_SAME(nv::DataType::kE8M0, TTRT_DTYPE_E8M0);
#endif
TTRT_SAME(nv::TensorFormat::kLINEAR, TTRT_FORMAT_LINEAR);
TTRT_SAME(nv::ExecutionContextAllocationStrategy::kSTATIC, TTRT_ALLOC_STATIC);
TTRT_SAME(nv::ExecutionContextAllocationStrategy::kON_PROFILE_CHANGE, TTRT_ALLOC_ON_PROFILE_CHANGE);
TTRT_SAME(nv::ExecutionContextAllocationStrategy::kUSER_MANAGED, TTRT_ALLOC_USER_MANAGED);
#undef TTRT_SAME

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

// ---------------------------------------------------------------- per-thread error text

thread_local std::string t_error;     // text of this thread's last failed call
thread_local std::string t_trtErrors; // errors TensorRT reported on this thread during the current call
thread_local bool t_inLogCallback = false;

void clearCallState() noexcept
{
    t_error.clear();
    t_trtErrors.clear();
}

void noteTrtError(char const* text) noexcept
{
    try
    {
        if (t_trtErrors.size() >= kMaxTrtErrorText)
        {
            return;
        }
        if (!t_trtErrors.empty())
        {
            t_trtErrors += " | ";
        }
        t_trtErrors += text != nullptr ? text : "(no text)";
    }
    catch (...)
    {
        // out of memory while recording an error: keep what we have
    }
}

std::string vformat(char const* fmt, va_list args)
{
    va_list copy;
    va_copy(copy, args);
    int n = std::vsnprintf(nullptr, 0, fmt, copy);
    va_end(copy);
    if (n < 0)
    {
        return fmt;
    }
    std::string s(static_cast<size_t>(n) + 1, '\0');
    std::vsnprintf(&s[0], s.size(), fmt, args);
    s.resize(static_cast<size_t>(n));
    return s;
}

std::string format(char const* fmt, ...) TTRT_PRINTF(1, 2);
std::string format(char const* fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    std::string s = vformat(fmt, args);
    va_end(args);
    return s;
}

// Sets this thread's error text and returns status. Appends what TensorRT reported during the call.
int32_t fail(int32_t status, char const* fmt, ...) TTRT_PRINTF(2, 3);
int32_t fail(int32_t status, char const* fmt, ...)
{
    try
    {
        va_list args;
        va_start(args, fmt);
        t_error = vformat(fmt, args);
        va_end(args);
        if (!t_trtErrors.empty())
        {
            t_error += " [TensorRT: " + t_trtErrors + "]";
        }
    }
    catch (...)
    {
        // keep whatever text there is; the status still tells what happened
    }
    return status;
}

// For a TensorRT call that reported failure: the message always says whether TensorRT gave reasons.
int32_t failTrt(char const* fmt, ...) TTRT_PRINTF(1, 2);
int32_t failTrt(char const* fmt, ...)
{
    try
    {
        va_list args;
        va_start(args, fmt);
        std::string what = vformat(fmt, args);
        va_end(args);
        if (t_trtErrors.empty())
        {
            what += " (TensorRT reported no reason; register a logger with ttrt_set_logger for its messages)";
        }
        return fail(TTRT_E_TENSORRT, "%s", what.c_str());
    }
    catch (...)
    {
        return TTRT_E_TENSORRT;
    }
}

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

int32_t writeString(char const* s, char* buf, int32_t cap, int32_t* lenOut, char const* what)
{
    if (s == nullptr)
    {
        s = "";
    }
    size_t len = std::strlen(s);
    if (len > static_cast<size_t>(INT32_MAX - 1))
    {
        return fail(TTRT_E_INTERNAL, "%s is longer than 2 GiB", what);
    }
    if (lenOut != nullptr)
    {
        *lenOut = static_cast<int32_t>(len);
    }
    if (cap < 0 || (buf == nullptr && cap != 0))
    {
        return fail(TTRT_E_INVALID_ARGUMENT, "buffer for %s: cap must be >= 0 and buf non-NULL when cap > 0", what);
    }
    if (buf == nullptr)
    {
        return TTRT_OK; // size query
    }
    if (static_cast<size_t>(cap) < len + 1)
    {
        if (cap > 0)
        {
            std::memcpy(buf, s, static_cast<size_t>(cap) - 1);
            buf[cap - 1] = '\0';
        }
        return fail(TTRT_E_BUFFER_TOO_SMALL, "buffer for %s too small: %zu bytes needed, %d given", what, len + 1,
            static_cast<int>(cap));
    }
    std::memcpy(buf, s, len + 1);
    return TTRT_OK;
}

std::string dimsText(nv::Dims64 const& d)
{
    if (d.nbDims < 0 || d.nbDims > nv::Dims64::MAX_DIMS)
    {
        return format("<invalid, nbDims=%d>", static_cast<int>(d.nbDims));
    }
    std::string s = "[";
    for (int32_t i = 0; i < d.nbDims; ++i)
    {
        s += (i != 0 ? "," : "") + std::to_string(d.d[i]);
    }
    return s + "]";
}

void toTtrt(nv::Dims64 const& in, ttrt_dims* out)
{
    std::memset(out, 0, sizeof(*out));
    out->nb_dims = in.nbDims;
    for (int32_t i = 0; i < nv::Dims64::MAX_DIMS; ++i)
    {
        out->d[i] = (i < in.nbDims) ? in.d[i] : 0;
    }
}

std::string versionText(int32_t v)
{
    if (v <= 0)
    {
        return "none";
    }
    if (v < 10000) // TensorRT <= 9 encoded major*1000 + minor*100 + patch
    {
        return format("%d.%d.%d", v / 1000, (v / 100) % 10, v % 100);
    }
    return format("%d.%d.%d", v / 10000, (v / 100) % 100, v % 100);
}

int32_t majorOf(int32_t v)
{
    return v < 10000 ? v / 1000 : v / 10000;
}

int32_t minorOf(int32_t v)
{
    return v < 10000 ? (v / 100) % 10 : (v / 100) % 100;
}

// ---------------------------------------------------------------- logger and error recorder

class Logger final : public nv::ILogger
{
public:
    void log(Severity severity, nv::AsciiChar const* msg) noexcept override
    {
        int32_t sev = static_cast<int32_t>(severity);
        if (sev <= TTRT_SEVERITY_ERROR)
        {
            noteTrtError(msg);
        }
        forward(sev, msg);
    }

    // Only to the .NET callback, not into the error text.
    void forward(int32_t sev, char const* msg) noexcept
    {
        try
        {
            if (t_inLogCallback)
            {
                return; // a message raised while the callback runs on this thread: dropped, not deadlocked
            }
            std::lock_guard<std::mutex> lock(mMutex);
            if (mFn != nullptr && sev <= mMaxSeverity)
            {
                t_inLogCallback = true;
                mFn(sev, msg != nullptr ? msg : "", mUser);
                t_inLogCallback = false;
            }
        }
        catch (...)
        {
            t_inLogCallback = false;
        }
    }

    void set(ttrt_log_fn fn, void* user, int32_t maxSeverity)
    {
        std::lock_guard<std::mutex> lock(mMutex); // waits for a callback in flight on another thread
        mFn = fn;
        mUser = user;
        mMaxSeverity = maxSeverity;
    }

private:
    std::mutex mMutex;
    ttrt_log_fn mFn{nullptr};
    void* mUser{nullptr};
    int32_t mMaxSeverity{TTRT_SEVERITY_WARNING};
};

// Never destroyed: TensorRT may log until the very end of the process.
Logger& logger()
{
    static Logger* instance = new Logger();
    return *instance;
}

char const* errorCodeName(nv::ErrorCode code)
{
    switch (code)
    {
    case nv::ErrorCode::kSUCCESS: return "SUCCESS";
    case nv::ErrorCode::kUNSPECIFIED_ERROR: return "UNSPECIFIED_ERROR";
    case nv::ErrorCode::kINTERNAL_ERROR: return "INTERNAL_ERROR";
    case nv::ErrorCode::kINVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case nv::ErrorCode::kINVALID_CONFIG: return "INVALID_CONFIG";
    case nv::ErrorCode::kFAILED_ALLOCATION: return "FAILED_ALLOCATION";
    case nv::ErrorCode::kFAILED_INITIALIZATION: return "FAILED_INITIALIZATION";
    case nv::ErrorCode::kFAILED_EXECUTION: return "FAILED_EXECUTION";
    case nv::ErrorCode::kFAILED_COMPUTATION: return "FAILED_COMPUTATION";
    case nv::ErrorCode::kINVALID_STATE: return "INVALID_STATE";
    case nv::ErrorCode::kUNSUPPORTED_STATE: return "UNSUPPORTED_STATE";
    }
    return "ERROR";
}

// One per runtime, engine and context. TensorRT reports errors on the thread that made the failing
// call, so the text goes into that thread's per-call buffer; a bounded copy is kept to honour the
// IErrorRecorder query interface.
class Recorder final : public nv::IErrorRecorder
{
public:
    int32_t getNbErrors() const noexcept override
    {
        std::lock_guard<std::mutex> lock(mMutex);
        return static_cast<int32_t>(mErrors.size());
    }

    nv::ErrorCode getErrorCode(int32_t errorIdx) const noexcept override
    {
        std::lock_guard<std::mutex> lock(mMutex);
        return inRange(errorIdx) ? mErrors[static_cast<size_t>(errorIdx)].first : nv::ErrorCode::kUNSPECIFIED_ERROR;
    }

    ErrorDesc getErrorDesc(int32_t errorIdx) const noexcept override
    {
        std::lock_guard<std::mutex> lock(mMutex);
        return inRange(errorIdx) ? mErrors[static_cast<size_t>(errorIdx)].second.c_str() : "";
    }

    bool hasOverflowed() const noexcept override
    {
        std::lock_guard<std::mutex> lock(mMutex);
        return mOverflowed;
    }

    void clear() noexcept override
    {
        std::lock_guard<std::mutex> lock(mMutex);
        mErrors.clear();
        mOverflowed = false;
    }

    bool reportError(nv::ErrorCode val, ErrorDesc desc) noexcept override
    {
        try
        {
            std::string text = std::string(errorCodeName(val)) + ": " + (desc != nullptr ? desc : "");
            noteTrtError(text.c_str());
            logger().forward(TTRT_SEVERITY_ERROR, text.c_str());
            std::lock_guard<std::mutex> lock(mMutex);
            if (mErrors.size() < kMaxStored)
            {
                mErrors.emplace_back(val, std::move(text));
            }
            else
            {
                mOverflowed = true;
            }
        }
        catch (...)
        {
            // nothing sensible left to do without memory
        }
        return true; // every error ends the current TensorRT call (as TensorRT's own samples do)
    }

    RefCount incRefCount() noexcept override
    {
        return ++mRefs;
    }

    RefCount decRefCount() noexcept override
    {
        return --mRefs;
    }

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
void releaseRecorder(Recorder* r) noexcept
{
    if (r != nullptr && r->refs() <= 0)
    {
        delete r;
    }
}

// ---------------------------------------------------------------- libnvinfer loading

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

Library& library()
{
    static Library* instance = new Library(); // never unloaded once TensorRT objects may exist
    return *instance;
}

#if defined(_WIN32)
std::wstring widen(char const* utf8)
{
    int n = MultiByteToWideChar(CP_UTF8, 0, utf8, -1, nullptr, 0);
    if (n <= 0)
    {
        return std::wstring();
    }
    std::wstring w(static_cast<size_t>(n), L'\0');
    MultiByteToWideChar(CP_UTF8, 0, utf8, -1, &w[0], n);
    w.resize(static_cast<size_t>(n - 1));
    return w;
}

std::string narrow(wchar_t const* w)
{
    int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, nullptr, 0, nullptr, nullptr);
    if (n <= 0)
    {
        return std::string();
    }
    std::string s(static_cast<size_t>(n), '\0');
    WideCharToMultiByte(CP_UTF8, 0, w, -1, &s[0], n, nullptr, nullptr);
    s.resize(static_cast<size_t>(n - 1));
    return s;
}

std::string lastOsError()
{
    DWORD code = GetLastError();
    char* text = nullptr;
    DWORD n = FormatMessageA(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM
            | FORMAT_MESSAGE_IGNORE_INSERTS,
        nullptr, code, 0, reinterpret_cast<LPSTR>(&text), 0, nullptr);
    std::string s = n != 0 && text != nullptr ? std::string(text, n) : format("Windows error %lu", code);
    if (text != nullptr)
    {
        LocalFree(text);
    }
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '.'))
    {
        s.pop_back();
    }
    return s;
}

void* openLibrary(char const* name, bool isPath, std::string& error)
{
    std::wstring w = widen(name);
    HMODULE h = isPath ? LoadLibraryExW(w.c_str(), nullptr, LOAD_WITH_ALTERED_SEARCH_PATH) : LoadLibraryW(w.c_str());
    if (h == nullptr)
    {
        error = lastOsError();
    }
    return reinterpret_cast<void*>(h);
}

void* findSymbol(void* handle, char const* name)
{
    return reinterpret_cast<void*>(GetProcAddress(reinterpret_cast<HMODULE>(handle), name));
}

void closeLibrary(void* handle)
{
    FreeLibrary(reinterpret_cast<HMODULE>(handle));
}

std::string libraryPath(void* handle, void* /*symbol*/, char const* fallback)
{
    wchar_t buf[32768];
    DWORD n = GetModuleFileNameW(reinterpret_cast<HMODULE>(handle), buf, 32768);
    return (n == 0 || n >= 32768) ? std::string(fallback) : narrow(buf);
}
#else
void* openLibrary(char const* name, bool /*isPath*/, std::string& error)
{
    dlerror();
    void* h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr)
    {
        char const* e = dlerror();
        error = e != nullptr ? e : "dlopen failed";
    }
    return h;
}

void* findSymbol(void* handle, char const* name)
{
    return dlsym(handle, name);
}

void closeLibrary(void* handle)
{
    dlclose(handle);
}

std::string libraryPath(void* /*handle*/, void* symbol, char const* fallback)
{
    Dl_info info;
    if (symbol != nullptr && dladdr(symbol, &info) != 0 && info.dli_fname != nullptr)
    {
        return info.dli_fname;
    }
    return fallback;
}
#endif

// Why `loaded` cannot be used with these headers, or "" if it can. Same major, and at least the
// headers' minor: inline wrappers compiled against newer headers may call vtable slots that an
// older library does not have.
std::string versionProblem(int32_t loaded)
{
    if (majorOf(loaded) != NV_TENSORRT_MAJOR)
    {
        return format("the library is TensorRT %s but this shim was compiled against TensorRT %s headers and needs "
                      "TensorRT %d.x; %s (or use a typedtrt shim built for TensorRT %d)",
            versionText(loaded).c_str(), versionText(kHeaderVersion).c_str(), NV_TENSORRT_MAJOR, kInstallHint,
            majorOf(loaded));
    }
    if (minorOf(loaded) < NV_TENSORRT_MINOR)
    {
        return format("the library is TensorRT %s, older than the TensorRT %s headers this shim was compiled "
                      "against; install TensorRT %d.%d or newer %d.x, or use a shim built against older headers",
            versionText(loaded).c_str(), versionText(kHeaderVersion).c_str(), NV_TENSORRT_MAJOR, NV_TENSORRT_MINOR,
            NV_TENSORRT_MAJOR);
    }
    return std::string();
}

int32_t loadLibraryLocked(char const* path, std::string& note);

// The note is logged after the lock is released, so the logger callback may call back into the shim.
int32_t loadLibrary(char const* path)
{
    std::string note;
    int32_t status;
    {
        std::lock_guard<std::mutex> lock(library().mutex);
        status = loadLibraryLocked(path, note);
    }
    if (!note.empty())
    {
        logger().forward(TTRT_SEVERITY_INFO, note.c_str());
    }
    return status;
}

int32_t loadLibraryLocked(char const* path, std::string& note)
{
    Library& lib = library();
    bool useDefault = path == nullptr || path[0] == '\0';
    std::string requested = useDefault ? std::string() : std::string(path);
    if (lib.handle != nullptr)
    {
        if (useDefault || requested == lib.requested || requested == lib.resolved)
        {
            return TTRT_OK;
        }
        return fail(TTRT_E_INVALID_STATE,
            "TensorRT is already loaded from '%s'; another library ('%s') cannot be loaded into the same process",
            lib.resolved.c_str(), requested.c_str());
    }
    char const* name = useDefault ? kDefaultLibrary : path;
    std::string osError;
    void* handle = openLibrary(name, !useDefault, osError);
    if (handle == nullptr)
    {
        return fail(TTRT_E_LIBRARY_NOT_FOUND, "could not load the TensorRT library '%s': %s. To fix: %s", name,
            osError.c_str(), kInstallHint);
    }
    void* create = findSymbol(handle, "createInferRuntime_INTERNAL");
    void* version = findSymbol(handle, "getInferLibVersion");
    if (create == nullptr || version == nullptr)
    {
        std::string where = libraryPath(handle, create != nullptr ? create : version, name);
        closeLibrary(handle);
        return fail(TTRT_E_LIBRARY_NOT_FOUND,
            "'%s' was loaded but has no '%s' symbol, so it is not the TensorRT runtime library (libnvinfer); %s",
            where.c_str(), create == nullptr ? "createInferRuntime_INTERNAL" : "getInferLibVersion", kInstallHint);
    }
    int32_t loaded = reinterpret_cast<LibVersionFn>(version)();
    std::string where = libraryPath(handle, version, name);
    std::string problem = versionProblem(loaded);
    if (!problem.empty())
    {
        closeLibrary(handle);
        return fail(TTRT_E_VERSION_MISMATCH, "TensorRT version mismatch for '%s': %s", where.c_str(), problem.c_str());
    }
    lib.handle = handle;
    lib.createRuntime = reinterpret_cast<CreateRuntimeFn>(create);
    lib.requested = requested;
    lib.resolved = where;
    lib.version.store(loaded);
    note = format("typedtrt shim: loaded TensorRT %s from '%s' (compiled against %s headers)",
        versionText(loaded).c_str(), where.c_str(), versionText(kHeaderVersion).c_str());
    return TTRT_OK;
}

// ---------------------------------------------------------------- handles

enum class Kind : int32_t
{
    kRuntime = 1,
    kEngine = 2,
    kContext = 3,
};

char const* kindName(Kind k)
{
    switch (k)
    {
    case Kind::kRuntime: return "runtime";
    case Kind::kEngine: return "engine";
    case Kind::kContext: return "execution context";
    }
    return "handle";
}

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

Registry& registry()
{
    static Registry* instance = new Registry();
    return *instance;
}

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

using namespace ttrt_detail;

struct ttrt_runtime : HandleBase
{
    ttrt_runtime()
        : HandleBase(Kind::kRuntime)
    {
    }
    nv::IRuntime* runtime{nullptr};
    Recorder* recorder{nullptr};
};

struct ttrt_engine : HandleBase
{
    ttrt_engine()
        : HandleBase(Kind::kEngine)
    {
    }
    ttrt_runtime* parent{nullptr};
    nv::ICudaEngine* engine{nullptr};
    Recorder* recorder{nullptr};
};

struct ttrt_context : HandleBase
{
    ttrt_context()
        : HandleBase(Kind::kContext)
    {
    }
    ttrt_engine* parent{nullptr};
    nv::IExecutionContext* context{nullptr};
    Recorder* recorder{nullptr};
    int32_t strategy{TTRT_ALLOC_STATIC};
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

// Validates a tensor name against the engine (TensorRT's other queries answer defaults for unknown
// names, so getTensorIOMode is asked first).
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

bool isDefaultStream(void* stream)
{
    // 0 = legacy default stream, 1 = cudaStreamLegacy, 2 = cudaStreamPerThread
    auto v = reinterpret_cast<uintptr_t>(stream);
    return v <= 2;
}

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

extern "C" {

// ---------------------------------------------------------------- process-wide

TTRT_API int32_t TTRT_CALL ttrt_abi_version(void)
{
    return TTRT_ABI_VERSION;
}

TTRT_API int32_t TTRT_CALL ttrt_last_error(char* buf, int32_t cap, int32_t* len_out)
{
    // Does not clear: copy first, since writeString may set a new error for a too-small buffer.
    try
    {
        std::string copy = t_error;
        return writeString(copy.c_str(), buf, cap, len_out, "the error text");
    }
    catch (...)
    {
        return TTRT_E_OUT_OF_MEMORY;
    }
}

TTRT_API int32_t TTRT_CALL ttrt_load_library(char const* path)
{
    return guarded([&]() -> int32_t { return loadLibrary(path); });
}

TTRT_API int32_t TTRT_CALL ttrt_versions(int32_t* header_version, int32_t* loaded_version)
{
    return guarded([&]() -> int32_t {
        if (header_version != nullptr)
        {
            *header_version = kHeaderVersion;
        }
        if (loaded_version != nullptr)
        {
            *loaded_version = library().version.load();
        }
        return TTRT_OK;
    });
}

TTRT_API int32_t TTRT_CALL ttrt_library_path(char* buf, int32_t cap, int32_t* len_out)
{
    return guarded([&]() -> int32_t {
        Library& lib = library();
        std::string path;
        {
            std::lock_guard<std::mutex> lock(lib.mutex);
            if (lib.handle == nullptr)
            {
                return fail(TTRT_E_INVALID_STATE, "no TensorRT library is loaded yet");
            }
            path = lib.resolved;
        }
        return writeString(path.c_str(), buf, cap, len_out, "the library path");
    });
}

TTRT_API int32_t TTRT_CALL ttrt_set_logger(ttrt_log_fn fn, void* user_data, int32_t max_severity)
{
    return guarded([&]() -> int32_t {
        if (t_inLogCallback)
        {
            return fail(TTRT_E_INVALID_STATE, "ttrt_set_logger cannot be called from inside the logger callback");
        }
        if (max_severity < TTRT_SEVERITY_INTERNAL_ERROR || max_severity > TTRT_SEVERITY_VERBOSE)
        {
            return fail(TTRT_E_INVALID_ARGUMENT, "max_severity %d is out of range 0 (internal error)..4 (verbose)",
                static_cast<int>(max_severity));
        }
        logger().set(fn, user_data, max_severity);
        return TTRT_OK;
    });
}

// ---------------------------------------------------------------- runtime

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

// ---------------------------------------------------------------- engine

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

// ---------------------------------------------------------------- execution context

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
