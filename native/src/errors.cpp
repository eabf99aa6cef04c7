// errors.cpp - per-thread error text (the text ttrt_last_error returns), formatting, string out-parameters, dims and version text.

#include "shim_internal.h"

namespace ttrt_detail {

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
} // namespace ttrt_detail

using namespace ttrt_detail;

extern "C" {

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

} // extern "C"
