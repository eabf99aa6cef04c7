using System.Runtime.InteropServices;

namespace TypedTrt.Runtime.Cuda;

/// <summary>
/// A CUDA driver call failed. <see cref="Exception.Message"/> reads
/// <c>"cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory"</c>.
/// </summary>
/// <remarks>
/// Errors with <see cref="IsSticky"/> set (illegal address, kernel assert, launch failure...) corrupt the CUDA context:
/// every later call on it fails until the process ends (or the primary context is reset after every user released
/// it). Per-request errors that leave the context usable are the synchronous ones (invalid value, out of memory...).
/// </remarks>
public class CudaException : Exception
{
    private static readonly Dictionary<int, (string Name, string Text)> Known = new()
    {
        [0] = ("CUDA_SUCCESS", "no error"),
        [1] = ("CUDA_ERROR_INVALID_VALUE", "invalid argument"),
        [2] = ("CUDA_ERROR_OUT_OF_MEMORY", "out of memory"),
        [3] = ("CUDA_ERROR_NOT_INITIALIZED", "initialization error"),
        [4] = ("CUDA_ERROR_DEINITIALIZED", "driver shutting down"),
        [35] = ("CUDA_ERROR_INSUFFICIENT_DRIVER", "CUDA driver version is insufficient for CUDA runtime version"),
        [100] = ("CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"),
        [101] = ("CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"),
        [200] = ("CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"),
        [201] = ("CUDA_ERROR_INVALID_CONTEXT", "invalid device context"),
        [209] = ("CUDA_ERROR_NO_BINARY_FOR_GPU", "no kernel image is available for execution on the device"),
        [218] = ("CUDA_ERROR_INVALID_PTX", "a PTX JIT compilation failed"),
        [222] = ("CUDA_ERROR_UNSUPPORTED_PTX_VERSION", "the provided PTX was compiled with an unsupported toolchain."),
        [400] = ("CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"),
        [500] = ("CUDA_ERROR_NOT_FOUND", "named symbol not found"),
        [600] = ("CUDA_ERROR_NOT_READY", "device not ready"),
        [700] = ("CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"),
        [701] = ("CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", "too many resources requested for launch"),
        [702] = ("CUDA_ERROR_LAUNCH_TIMEOUT", "the launch timed out and was terminated"),
        [710] = ("CUDA_ERROR_ASSERT", "device-side assert triggered"),
        [714] = ("CUDA_ERROR_HARDWARE_STACK_ERROR", "hardware stack error"),
        [715] = ("CUDA_ERROR_ILLEGAL_INSTRUCTION", "an illegal instruction was encountered"),
        [716] = ("CUDA_ERROR_MISALIGNED_ADDRESS", "misaligned address"),
        [717] = ("CUDA_ERROR_INVALID_ADDRESS_SPACE", "operation not supported on global/shared address space"),
        [718] = ("CUDA_ERROR_INVALID_PC", "invalid program counter"),
        [719] = ("CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"),
        [900] = ("CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED", "operation not permitted when stream is capturing"),
        [999] = ("CUDA_ERROR_UNKNOWN", "unknown error"),
    };

    /// <summary>Creates an exception for a failed driver call.</summary>
    /// <param name="result">The <c>CUresult</c> code.</param>
    /// <param name="call">The driver function that failed, e.g. <c>cuMemAlloc_v2</c>.</param>
    public CudaException(int result, string call)
        : this(result, call, null)
    {
    }

    /// <summary>Creates an exception for a failed driver call with an inner exception.</summary>
    public CudaException(int result, string call, Exception? innerException)
        : this(result, call, Describe(result), innerException)
    {
    }

    private CudaException(int result, string call, (string Name, string Text) d, Exception? inner)
        : base($"{call} failed: {d.Name} ({result}): {d.Text}", inner)
    {
        Result = result;
        Call = call;
        ErrorName = d.Name;
        ErrorString = d.Text;
    }

    /// <summary>The <c>CUresult</c> code.</summary>
    public int Result { get; }

    /// <summary>The driver function that failed.</summary>
    public string Call { get; }

    /// <summary>The error's name, e.g. <c>CUDA_ERROR_OUT_OF_MEMORY</c> (from <c>cuGetErrorName</c> when the driver is loaded).</summary>
    public string ErrorName { get; }

    /// <summary>The driver's description of the error (<c>cuGetErrorString</c>).</summary>
    public string ErrorString { get; }

    /// <summary>
    /// Whether the error is sticky: the context is corrupted and every later call on it fails (illegal address,
    /// device assert, launch failure, illegal instruction, ...).
    /// </summary>
    public bool IsSticky => Result is 700 or 702 or 710 or (>= 714 and <= 719);

    /// <summary>Throws a <see cref="CudaException"/> when <paramref name="result"/> is not <c>CUDA_SUCCESS</c>.</summary>
    public static void Check(int result, string call)
    {
        if (result != 0)
            Throw(result, call);
    }

    private static void Throw(int result, string call) => throw new CudaException(result, call);

    private static unsafe (string Name, string Text) Describe(int result)
    {
        Known.TryGetValue(result, out var known);
        string name = known.Name ?? $"CUDA_ERROR_{result}";
        string text = known.Text ?? "unknown CUresult";
        if (CudaDriver.IsLoadedForDiagnostics)
        {
            try
            {
                byte* p;
                if (CudaNative.cuGetErrorName(result, &p) == 0 && p != null)
                    name = Marshal.PtrToStringUTF8((nint)p) ?? name;
                if (CudaNative.cuGetErrorString(result, &p) == 0 && p != null)
                    text = Marshal.PtrToStringUTF8((nint)p) ?? text;
            }
            catch (EntryPointNotFoundException)
            {
            }
        }

        return (name, text);
    }
}

/// <summary>
/// CUDA cannot be used on this machine: no NVIDIA driver (<c>libcuda.so.1</c> / <c>nvcuda.dll</c>), no CUDA device,
/// or (for run-time compilation) no NVRTC. The message says what was tried and what to install.
/// </summary>
public class CudaUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CudaUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with an inner exception.</summary>
    public CudaUnavailableException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
