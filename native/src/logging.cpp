// logging.cpp - the process-wide logger (ttrt_set_logger) and the error recorder each runtime, engine and context gets.

#include "shim_internal.h"

namespace ttrt_detail {

void Logger::log(Severity severity, nv::AsciiChar const* msg) noexcept
{
    int32_t sev = static_cast<int32_t>(severity);
    if (sev <= TTRT_SEVERITY_ERROR)
    {
        noteTrtError(msg);
    }
    forward(sev, msg);
}

void Logger::forward(int32_t sev, char const* msg) noexcept
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

void Logger::set(ttrt_log_fn fn, void* user, int32_t maxSeverity)
{
    std::lock_guard<std::mutex> lock(mMutex); // waits for a callback in flight on another thread
    mFn = fn;
    mUser = user;
    mMaxSeverity = maxSeverity;
}

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

int32_t Recorder::getNbErrors() const noexcept
{
    std::lock_guard<std::mutex> lock(mMutex);
    return static_cast<int32_t>(mErrors.size());
}

nv::ErrorCode Recorder::getErrorCode(int32_t errorIdx) const noexcept
{
    std::lock_guard<std::mutex> lock(mMutex);
    return inRange(errorIdx) ? mErrors[static_cast<size_t>(errorIdx)].first : nv::ErrorCode::kUNSPECIFIED_ERROR;
}

Recorder::ErrorDesc Recorder::getErrorDesc(int32_t errorIdx) const noexcept
{
    std::lock_guard<std::mutex> lock(mMutex);
    return inRange(errorIdx) ? mErrors[static_cast<size_t>(errorIdx)].second.c_str() : "";
}

bool Recorder::hasOverflowed() const noexcept
{
    std::lock_guard<std::mutex> lock(mMutex);
    return mOverflowed;
}

void Recorder::clear() noexcept
{
    std::lock_guard<std::mutex> lock(mMutex);
    mErrors.clear();
    mOverflowed = false;
}

bool Recorder::reportError(nv::ErrorCode val, ErrorDesc desc) noexcept
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

Recorder::RefCount Recorder::incRefCount() noexcept
{
    return ++mRefs;
}

Recorder::RefCount Recorder::decRefCount() noexcept
{
    return --mRefs;
}

void releaseRecorder(Recorder* r) noexcept
{
    if (r != nullptr && r->refs() <= 0)
    {
        delete r;
    }
}

} // namespace ttrt_detail

using namespace ttrt_detail;

extern "C" {

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

} // extern "C"
