using TypedTrt.Runtime.Cuda;
using Xunit;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace TypedTrt.Runtime.GpuTests;

/// <summary>Skips (visibly) when the machine has no CUDA driver, device or NVRTC.</summary>
internal static class Gpu
{
    private static readonly Lazy<string?> Unavailable = new(Probe);

    public static void Require()
    {
        if (Unavailable.Value is { } reason)
            Assert.Skip(reason);
    }

    private static string? Probe()
    {
        try
        {
            CudaDriver.EnsureInitialized();
        }
        catch (CudaUnavailableException ex)
        {
            return "No CUDA driver: " + ex.Message;
        }
        catch (CudaException ex)
        {
            return "CUDA driver failed to initialize: " + ex.Message;
        }

        try
        {
            CudaDriver.EnsureNvrtcLoaded();
        }
        catch (CudaUnavailableException ex)
        {
            return "No NVRTC: " + ex.Message;
        }

        return null;
    }

    /// <summary>Appends a line to $TYPEDTRT_GPU_OUT/gpu-tests.log when set (the run script collects it).</summary>
    public static void Log(string line)
    {
        string? dir = Environment.GetEnvironmentVariable("TYPEDTRT_GPU_OUT");
        if (string.IsNullOrEmpty(dir))
            return;
        lock (typeof(Gpu))
            File.AppendAllText(Path.Combine(dir, "gpu-tests.log"), line + Environment.NewLine);
    }
}
