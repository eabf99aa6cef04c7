using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using TypedTrt.Runtime.Cuda;

namespace TypedTrt.OnnxRuntime.Cuda;

/// <summary>
/// Whether ONNX Runtime's CUDA provider can run here, and if not, what is missing and how to get it: the NVIDIA
/// driver, a CUDA-enabled ONNX Runtime native build, and the CUDA 13 / cuDNN 9 libraries that build loads.
/// </summary>
public sealed class OnnxRuntimeCudaAvailability
{
    private static readonly Lazy<OnnxRuntimeCudaAvailability> s_current = new(Check);

    private OnnxRuntimeCudaAvailability(IReadOnlyList<string> problems, IReadOnlyList<string> notes, string? ortVersion)
    {
        Problems = problems;
        Notes = notes;
        OnnxRuntimeVersion = ortVersion;
    }

    /// <summary>The result for this process (checked once).</summary>
    public static OnnxRuntimeCudaAvailability Current => s_current.Value;

    /// <summary>Whether nothing required is missing.</summary>
    public bool IsAvailable => Problems.Count == 0;

    /// <summary>What is missing, one sentence each with what to do; empty when available.</summary>
    public IReadOnlyList<string> Problems { get; }

    /// <summary>Optional libraries that are missing (the operators that need them fail; the rest run).</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>The loaded ONNX Runtime native version, or <see langword="null"/> if it could not be loaded.</summary>
    public string? OnnxRuntimeVersion { get; }

    /// <summary>One paragraph: "available" or the problems.</summary>
    public override string ToString() =>
        IsAvailable
            ? $"ONNX Runtime {OnnxRuntimeVersion} with the CUDA provider is available{(Notes.Count > 0 ? " (" + string.Join(" ", Notes) + ")" : ".")}"
            : "ONNX Runtime's CUDA provider cannot run here: " + string.Join(" ", Problems);

    /// <summary>Throws <see cref="OnnxRuntimeCudaUnavailableException"/> with <see cref="Problems"/> when not available.</summary>
    public void ThrowIfUnavailable()
    {
        if (!IsAvailable)
            throw new OnnxRuntimeCudaUnavailableException(ToString());
    }

    /// <summary>The CUDA 13 libraries ONNX Runtime 1.31's CUDA provider links (required), by platform.</summary>
    public static IReadOnlyList<string> RequiredLibraries { get; } = OperatingSystem.IsWindows()
        ? ["cudart64_13.dll", "cublas64_13.dll", "cublasLt64_13.dll", "curand64_10.dll", "cudnn64_9.dll"]
        : ["libcudart.so.13", "libcublas.so.13", "libcublasLt.so.13", "libcurand.so.10", "libcudnn.so.9"];

    /// <summary>Libraries the provider loads only for some operators (FFT).</summary>
    public static IReadOnlyList<string> OptionalLibraries { get; } = OperatingSystem.IsWindows()
        ? ["cufft64_12.dll"]
        : ["libcufft.so.12"];

    private static OnnxRuntimeCudaAvailability Check()
    {
        var problems = new List<string>();
        var notes = new List<string>();
        if (!CudaDriver.IsAvailable)
            problems.Add("No NVIDIA driver was found (libcuda.so.1 / nvcuda.dll): install the NVIDIA driver (580 or later for CUDA 13).");

        string? version = null;
        try
        {
            version = OrtEnv.Instance().GetVersionString();
            string[] providers = OrtEnv.Instance().GetAvailableProviders();
            if (Array.IndexOf(providers, "CUDAExecutionProvider") < 0)
            {
                problems.Add($"The loaded ONNX Runtime {version} native library has no CUDA provider (it offers {string.Join(", ", providers)}): " +
                    "reference Microsoft.ML.OnnxRuntime.Gpu.Linux (or .Gpu.Windows) 1.31.0 instead of the CPU package Microsoft.ML.OnnxRuntime; the two must not be mixed.");
            }
        }
#pragma warning disable CA1031 // any load failure is reported, not thrown
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException or BadImageFormatException or OnnxRuntimeException)
#pragma warning restore CA1031
        {
            problems.Add($"ONNX Runtime's native library could not be loaded ({Inner(e).Message}): add the package Microsoft.ML.OnnxRuntime.Gpu.Linux (or .Gpu.Windows) 1.31.0 to the application.");
        }

        var missing = RequiredLibraries.Where(static l => !CanLoad(l)).ToList();
        if (missing.Count > 0)
        {
            problems.Add($"The CUDA libraries {string.Join(", ", missing)} were not found: ONNX Runtime 1.31's CUDA provider needs CUDA 13 (cudart, cuBLAS, cuRAND) and cuDNN 9. " +
                (OperatingSystem.IsWindows()
                    ? "Install the CUDA 13 toolkit and cuDNN 9 and put their bin folders on PATH."
                    : "Install the CUDA 13 runtime libraries and cuDNN 9 (e.g. the cuda-libraries-13-0 and libcudnn9-cuda-13 packages) or add their folders (e.g. /usr/local/cuda/lib64) to LD_LIBRARY_PATH."));
        }

        foreach (string l in OptionalLibraries)
        {
            if (!CanLoad(l))
                notes.Add($"{l} was not found: FFT operators (DFT, STFT) will fail.");
        }

        return new OnnxRuntimeCudaAvailability(problems, notes, version);
    }

    private static Exception Inner(Exception e) => e is TypeInitializationException { InnerException: { } i } ? i : e;

    private static bool CanLoad(string name)
    {
        if (!NativeLibrary.TryLoad(name, out nint handle))
            return false;
        NativeLibrary.Free(handle);
        return true;
    }
}

/// <summary>ONNX Runtime's CUDA provider cannot run on this machine; the message lists what is missing and what to install.</summary>
public sealed class OnnxRuntimeCudaUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public OnnxRuntimeCudaUnavailableException()
        : base("ONNX Runtime's CUDA provider cannot run here.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public OnnxRuntimeCudaUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the underlying failure.</summary>
    public OnnxRuntimeCudaUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
