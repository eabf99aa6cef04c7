namespace TypedTrt.TensorRT;

/// <summary>Status codes of the native shim's C ABI (<c>TTRT_OK</c>, <c>TTRT_E_*</c>).</summary>
public enum TensorRtStatus
{
    /// <summary>Success (<c>TTRT_OK</c>).</summary>
    Ok = 0,

    /// <summary>A null pointer, an index or enum out of range, bad dims or a bad name.</summary>
    InvalidArgument = 1,

    /// <summary>A string did not fit the buffer (handled inside TypedTrt).</summary>
    BufferTooSmall = 2,

    /// <summary>Not a live handle of the expected kind (use after dispose).</summary>
    InvalidHandle = 3,

    /// <summary>Wrong order or use: live children, a busy context, missing input shapes.</summary>
    InvalidState = 4,

    /// <summary>The engine has no IO tensor of that name.</summary>
    UnknownTensor = 5,

    /// <summary>The shim, or the TensorRT library (libnvinfer) it loads, could not be loaded.</summary>
    LibraryNotFound = 6,

    /// <summary>Incompatible versions: shim ABI, TensorRT library vs. the shim's headers, or engine plan vs. TensorRT library.</summary>
    VersionMismatch = 7,

    /// <summary>A TensorRT call failed; the message holds TensorRT's own error text.</summary>
    TensorRtError = 8,

    /// <summary>A host allocation failed inside the shim.</summary>
    OutOfMemory = 9,

    /// <summary>A bug in the shim (an unexpected C++ exception).</summary>
    Internal = 10,
}

/// <summary>
/// A call into TensorRT (through the native shim) failed. <see cref="NativeMessage"/> is the shim's per-thread error
/// text for that call, which includes TensorRT's own error messages as <c>[TensorRT: ...]</c>.
/// </summary>
public class TensorRtException : Exception
{
    /// <summary>Creates the exception for a failed shim call.</summary>
    /// <param name="status">The status the call returned.</param>
    /// <param name="functionName">The C ABI function, e.g. <c>ttrt_engine_deserialize</c>.</param>
    /// <param name="nativeMessage">The shim's error text for the call.</param>
    public TensorRtException(TensorRtStatus status, string? functionName, string nativeMessage)
        : this(FormatMessage(status, functionName, nativeMessage), status, functionName, nativeMessage)
    {
    }

    /// <summary>Creates the exception with a message of its own.</summary>
    public TensorRtException(string message, TensorRtStatus status, string? functionName, string nativeMessage, Exception? innerException = null)
        : base(message, innerException)
    {
        Status = status;
        FunctionName = functionName;
        NativeMessage = nativeMessage ?? "";
    }

    /// <summary>Creates the exception.</summary>
    public TensorRtException() : this("A TensorRT call failed.") { }

    /// <summary>Creates the exception.</summary>
    public TensorRtException(string message) : this(message, TensorRtStatus.TensorRtError, null, "") { }

    /// <summary>Creates the exception.</summary>
    public TensorRtException(string message, Exception innerException) : this(message, TensorRtStatus.TensorRtError, null, "", innerException) { }

    /// <summary>The status the failing call returned.</summary>
    public TensorRtStatus Status { get; }

    /// <summary>The C ABI function that failed (e.g. <c>ttrt_context_set_input_shape</c>), or <see langword="null"/> when the failure was found on the .NET side.</summary>
    public string? FunctionName { get; }

    /// <summary>The shim's error text for the failing call, exactly as it reported it (empty when none).</summary>
    public string NativeMessage { get; }

    private static string FormatMessage(TensorRtStatus status, string? functionName, string nativeMessage) =>
        $"{functionName ?? "A TensorRT call"} failed ({status}): {(string.IsNullOrEmpty(nativeMessage) ? "no error text" : nativeMessage)}";
}

/// <summary>
/// TensorRT cannot be used in this process: the TypedTrt shim (<c>libtypedtrt_trt.so</c> / <c>typedtrt_trt.dll</c>)
/// was not found or is incompatible, or the TensorRT runtime library it loads was not found. The message lists every
/// place that was tried and what to install; see <c>docs/tensorrt.md</c>.
/// </summary>
public sealed class TensorRtUnavailableException : TensorRtException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The full explanation.</param>
    /// <param name="status">Usually <see cref="TensorRtStatus.LibraryNotFound"/> or <see cref="TensorRtStatus.VersionMismatch"/>.</param>
    /// <param name="functionName">The C ABI function that failed, or <see langword="null"/> for the .NET-side library search.</param>
    /// <param name="nativeMessage">The shim's error text, if the shim reported the failure.</param>
    /// <param name="triedPaths">Every place the shim was looked for, with why it was not used.</param>
    public TensorRtUnavailableException(string message, TensorRtStatus status, string? functionName, string nativeMessage, IReadOnlyList<string> triedPaths)
        : base(message, status, functionName, nativeMessage)
    {
        TriedPaths = triedPaths ?? [];
    }

    /// <summary>Creates the exception.</summary>
    public TensorRtUnavailableException() : this("TensorRT is not available.") { }

    /// <summary>Creates the exception.</summary>
    public TensorRtUnavailableException(string message) : this(message, TensorRtStatus.LibraryNotFound, null, "", []) { }

    /// <summary>Creates the exception.</summary>
    public TensorRtUnavailableException(string message, Exception innerException)
        : base(message, TensorRtStatus.LibraryNotFound, null, "", innerException)
    {
        TriedPaths = [];
    }

    /// <summary>Where the shim was looked for (<c>"path: reason"</c>), in the order tried; empty when the shim loaded but TensorRT did not.</summary>
    public IReadOnlyList<string> TriedPaths { get; }
}

/// <summary>
/// The engine plan was built by a different TensorRT version than the one this process loaded. TensorRT engines are
/// not portable across versions: rebuild the engine with the loaded TensorRT, or install the one that built it.
/// </summary>
public sealed class TensorRtVersionMismatchException : TensorRtException
{
    /// <summary>Creates the exception.</summary>
    public TensorRtVersionMismatchException(string message, Version planVersion, Version loadedVersion)
        : base(message, TensorRtStatus.VersionMismatch, null, "")
    {
        PlanVersion = planVersion;
        LoadedVersion = loadedVersion;
    }

    /// <summary>Creates the exception.</summary>
    public TensorRtVersionMismatchException() : this("The engine was built by another TensorRT version.") { }

    /// <summary>Creates the exception.</summary>
    public TensorRtVersionMismatchException(string message) : this(message, new Version(0, 0), new Version(0, 0)) { }

    /// <summary>Creates the exception.</summary>
    public TensorRtVersionMismatchException(string message, Exception innerException)
        : base(message, TensorRtStatus.VersionMismatch, null, "", innerException)
    {
        PlanVersion = new Version(0, 0);
        LoadedVersion = new Version(0, 0);
    }

    /// <summary>The TensorRT version that built the plan (major.minor.patch.build, from the plan header).</summary>
    public Version PlanVersion { get; }

    /// <summary>The TensorRT version loaded in this process (major.minor.patch).</summary>
    public Version LoadedVersion { get; }
}
