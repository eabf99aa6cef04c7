using System.Reflection;
using System.Runtime.InteropServices;

namespace TypedTrt.Runtime.Cuda;

/// <summary>
/// Loads the NVIDIA driver library (<c>libcuda.so.1</c> on Linux, <c>nvcuda.dll</c> on Windows) and NVRTC on first
/// use, and initializes the driver API. Every public CUDA entry point of this library goes through
/// <see cref="EnsureInitialized"/>, so a machine without a driver gets a <see cref="CudaUnavailableException"/>, never a
/// <see cref="DllNotFoundException"/>.
/// </summary>
public static class CudaDriver
{
    private static readonly Lock Gate = new();
    private static nint s_driver;
    private static nint s_nvrtc;
    private static string? s_nvrtcName;
    private static bool s_resolverSet;
    private static volatile bool s_initialized;
    private static Exception? s_failure;

    /// <summary>The file names tried for the driver on this platform, in order.</summary>
    public static IReadOnlyList<string> DriverLibraryNames { get; } = OperatingSystem.IsWindows()
        ? ["nvcuda.dll"]
        : ["libcuda.so.1", "libcuda.so", "/usr/lib/x86_64-linux-gnu/libcuda.so.1", "/usr/lib/wsl/lib/libcuda.so.1", "/usr/local/nvidia/lib64/libcuda.so.1"];

    /// <summary>The file names tried for NVRTC on this platform, in order (newest first).</summary>
    public static IReadOnlyList<string> NvrtcLibraryNames { get; } = BuildNvrtcNames();

    /// <summary>Whether the driver could be loaded and initialized (does not throw).</summary>
    public static bool IsAvailable
    {
        get
        {
            try
            {
                EnsureInitialized();
                return true;
            }
            catch (CudaUnavailableException)
            {
                return false;
            }
            catch (CudaException)
            {
                return false;
            }
        }
    }

    /// <summary>Loads the driver and calls <c>cuInit(0)</c> once per process.</summary>
    /// <exception cref="CudaUnavailableException">No NVIDIA driver, or no CUDA device.</exception>
    /// <exception cref="CudaException"><c>cuInit</c> failed for another reason.</exception>
    public static void EnsureInitialized()
    {
        if (s_initialized)
            return;
        lock (Gate)
        {
            if (s_initialized)
                return;
            if (s_failure is not null)
                throw Rethrowable(s_failure);
            try
            {
                s_driver = LoadDriver(DriverLibraryNames);
                SetResolver();
                int rc = CudaNative.cuInit(0);
                if (rc == 100) // CUDA_ERROR_NO_DEVICE
                    throw new CudaUnavailableException("The NVIDIA driver is installed but reports no CUDA device (cuInit: CUDA_ERROR_NO_DEVICE). Check that a GPU is visible to this process (CUDA_VISIBLE_DEVICES, container --gpus).");
                if (rc == 35) // CUDA_ERROR_INSUFFICIENT_DRIVER
                    throw new CudaUnavailableException("The NVIDIA driver is too old for this CUDA API (cuInit: CUDA_ERROR_INSUFFICIENT_DRIVER). Update the NVIDIA driver.");
                CudaException.Check(rc, "cuInit");
                s_initialized = true;
            }
            catch (Exception ex) when (ex is CudaUnavailableException or CudaException)
            {
                s_failure = ex;
                throw;
            }
        }
    }

    /// <summary>The driver's CUDA version, e.g. 13000 for 13.0 (<c>cuDriverGetVersion</c>).</summary>
    public static unsafe int Version
    {
        get
        {
            EnsureInitialized();
            int v;
            CudaException.Check(CudaNative.cuDriverGetVersion(&v), "cuDriverGetVersion");
            return v;
        }
    }

    /// <summary>Number of CUDA devices (<c>cuDeviceGetCount</c>).</summary>
    public static unsafe int DeviceCount
    {
        get
        {
            EnsureInitialized();
            int n;
            CudaException.Check(CudaNative.cuDeviceGetCount(&n), "cuDeviceGetCount");
            return n;
        }
    }

    /// <summary>The device's name (<c>cuDeviceGetName</c>).</summary>
    public static unsafe string GetDeviceName(int ordinal)
    {
        int dev = GetDevice(ordinal);
        byte* buf = stackalloc byte[256];
        CudaException.Check(CudaNative.cuDeviceGetName(buf, 256, dev), "cuDeviceGetName");
        return Marshal.PtrToStringUTF8((nint)buf) ?? "";
    }

    /// <summary>The device's compute capability, e.g. (9, 0) for Hopper.</summary>
    public static unsafe (int Major, int Minor) GetComputeCapability(int ordinal)
    {
        int dev = GetDevice(ordinal);
        int major, minor;
        CudaException.Check(CudaNative.cuDeviceGetAttribute(&major, CudaNative.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev), "cuDeviceGetAttribute");
        CudaException.Check(CudaNative.cuDeviceGetAttribute(&minor, CudaNative.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev), "cuDeviceGetAttribute");
        return (major, minor);
    }

    /// <summary>The device's multiprocessor count.</summary>
    public static unsafe int GetMultiprocessorCount(int ordinal)
    {
        int dev = GetDevice(ordinal);
        int n;
        CudaException.Check(CudaNative.cuDeviceGetAttribute(&n, CudaNative.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev), "cuDeviceGetAttribute");
        return n;
    }

    /// <summary>
    /// The host NUMA node closest to the device (<c>CU_DEVICE_ATTRIBUTE_HOST_NUMA_ID</c>, CUDA 12.2+ drivers), or -1
    /// when the system has no NUMA or the driver does not know the attribute.
    /// </summary>
    /// <exception cref="CudaException">The ordinal does not exist.</exception>
    public static unsafe int GetHostNumaNode(int ordinal)
    {
        int dev = GetDevice(ordinal);
        int node;
        return CudaNative.cuDeviceGetAttribute(&node, CudaNative.CU_DEVICE_ATTRIBUTE_HOST_NUMA_ID, dev) == 0 ? node : -1;
    }

    internal static unsafe int GetDevice(int ordinal)
    {
        EnsureInitialized();
        int dev;
        CudaException.Check(CudaNative.cuDeviceGet(&dev, ordinal), "cuDeviceGet");
        return dev;
    }

    internal static bool IsLoadedForDiagnostics => s_driver != 0 && s_resolverSet;

    /// <summary>The NVRTC library's file name once loaded, or <see langword="null"/>.</summary>
    public static string? LoadedNvrtcLibrary => s_nvrtcName;

    /// <summary>Loads NVRTC (probing <see cref="NvrtcLibraryNames"/>); throws <see cref="CudaUnavailableException"/> when none loads.</summary>
    public static void EnsureNvrtcLoaded()
    {
        if (s_nvrtc != 0)
            return;
        lock (Gate)
        {
            if (s_nvrtc != 0)
                return;
            foreach (string name in NvrtcLibraryNames)
            {
                if (NativeLibrary.TryLoad(name, out nint h))
                {
                    s_nvrtcName = name;
                    s_nvrtc = h;
                    SetResolver();
                    return;
                }
            }

            throw new CudaUnavailableException(
                "NVRTC (the CUDA run-time compiler) was not found; tried " + string.Join(", ", NvrtcLibraryNames) +
                ". Install the CUDA toolkit's NVRTC (e.g. the cuda-nvrtc package) or add its folder to " +
                (OperatingSystem.IsWindows() ? "PATH." : "LD_LIBRARY_PATH."));
        }
    }

    /// <summary>Loads the driver from <paramref name="candidates"/> or throws the missing-driver error naming them.</summary>
    internal static nint LoadDriver(IReadOnlyList<string> candidates)
    {
        foreach (string name in candidates)
        {
            if (NativeLibrary.TryLoad(name, out nint handle))
                return handle;
        }

        throw new CudaUnavailableException(
            "No NVIDIA driver was found: could not load " + string.Join(", ", candidates) + ". " +
            (OperatingSystem.IsWindows()
                ? "Install the NVIDIA display driver (it provides nvcuda.dll)."
                : "Install the NVIDIA driver (it provides libcuda.so.1; in a container, run with the NVIDIA container toolkit, e.g. --gpus all).") +
            " CPU engines (host placement) run without it.");
    }

    private static void SetResolver()
    {
        if (s_resolverSet)
            return;
        NativeLibrary.SetDllImportResolver(typeof(CudaDriver).Assembly, Resolve);
        s_resolverSet = true;
    }

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) => libraryName switch
    {
        CudaNative.Lib => s_driver,
        NvrtcNative.Lib => s_nvrtc,
        _ => 0,
    };

    private static Exception Rethrowable(Exception ex) => ex switch
    {
        CudaUnavailableException u => new CudaUnavailableException(u.Message, u),
        CudaException c => new CudaException(c.Result, c.Call, c),
        _ => ex,
    };

    private static string[] BuildNvrtcNames()
    {
        var names = new List<string>();
        if (OperatingSystem.IsWindows())
        {
            foreach (string v in new[] { "130_0", "120_0", "112_0" })
                names.Add($"nvrtc64_{v}.dll");
            foreach (string v in new[] { "13", "12" })
                names.Add($"nvrtc64_{v}0_0.dll");
            return [.. names.Distinct()];
        }

        string[] dirs = ["", "/usr/local/cuda/lib64/", "/usr/local/cuda/targets/x86_64-linux/lib/", "/usr/local/cuda/targets/sbsa-linux/lib/"];
        string? cudaPath = Environment.GetEnvironmentVariable("CUDA_PATH") ?? Environment.GetEnvironmentVariable("CUDA_HOME");
        if (!string.IsNullOrEmpty(cudaPath))
            dirs = [Path.Combine(cudaPath, "lib64") + "/", .. dirs];
        foreach (string so in new[] { "libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so" })
        {
            foreach (string d in dirs)
                names.Add(d + so);
        }

        return [.. names];
    }
}
