// loading.cpp - finding libnvinfer at run time (dlopen / LoadLibrary), checking its version against the headers'.

#include "shim_internal.h"

namespace ttrt_detail {

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

} // namespace ttrt_detail

using namespace ttrt_detail;

extern "C" {

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

} // extern "C"
