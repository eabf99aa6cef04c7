using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TypedTrt.TensorRT.Interop;

namespace TypedTrt.TensorRT;

/// <summary>Severity of a TensorRT log message (TensorRT's <c>ILogger::Severity</c>; lower is more severe).</summary>
public enum TensorRtLogSeverity
{
    /// <summary>An internal error; TensorRT may be unusable.</summary>
    InternalError = 0,

    /// <summary>An application error.</summary>
    Error = 1,

    /// <summary>A warning.</summary>
    Warning = 2,

    /// <summary>Information.</summary>
    Info = 3,

    /// <summary>Verbose detail.</summary>
    Verbose = 4,
}

/// <summary>Receives TensorRT log messages. Called from any thread (TensorRT's own included), one call at a time; keep it short and non-blocking.</summary>
/// <param name="severity">The message's severity.</param>
/// <param name="message">The message text.</param>
public delegate void TensorRtLogHandler(TensorRtLogSeverity severity, string message);

/// <summary>
/// Process-wide TensorRT state: where the native shim is loaded from, which TensorRT it loaded, and the one logger.
/// The shim (<c>libtypedtrt_trt.so</c> / <c>typedtrt_trt.dll</c>) is searched for at first use in this order:
/// <see cref="NativeLibraryPath"/> (or <see cref="TensorRtEngineOptions.NativeLibraryPath"/>), the environment variable
/// <c>TYPEDTRT_NATIVE_LIB</c>, <c>runtimes/&lt;rid&gt;/native/</c> and the application folder, then the system's
/// library search path. See <c>docs/tensorrt.md</c>.
/// </summary>
public static unsafe class TensorRtRuntime
{
    /// <summary>The library name the P/Invokes bind: <c>libtypedtrt_trt.so</c> on Linux, <c>typedtrt_trt.dll</c> on Windows.</summary>
    public const string NativeLibraryName = NativeMethods.LibraryName;

    /// <summary>The environment variable that may hold the shim's full path.</summary>
    public const string NativeLibraryEnvironmentVariable = ShimLibrary.EnvironmentVariable;

    /// <summary>The C ABI version (major &lt;&lt; 16 | minor) this assembly was written for: it accepts the same major and any minor at least this one.</summary>
    public const int ExpectedAbiVersion = (ShimLibrary.ExpectedAbiMajor << 16) | ShimLibrary.ExpectedAbiMinor;

    private static readonly Lock LogGate = new();
    private static TensorRtLogHandler? s_logHandler;
    private static TensorRtLogSeverity s_logMaxSeverity = TensorRtLogSeverity.Warning;
    private static string? s_nativeLibraryPath;

    /// <summary>
    /// Full path of the shim to load; overrides every other place. Set it before the first TensorRT use: once the shim
    /// is loaded, setting another path throws <see cref="InvalidOperationException"/>.
    /// </summary>
    public static string? NativeLibraryPath
    {
        get => s_nativeLibraryPath;
        set
        {
            if (ShimLibrary.IsLoaded && value is not null)
                ShimLibrary.EnsureLoaded(value); // throws unless it is the loaded file
            s_nativeLibraryPath = value;
        }
    }

    /// <summary>
    /// Full path of the TensorRT library (<c>libnvinfer.so.10</c> / <c>nvinfer_10.dll</c>) for the shim to load, or
    /// <see langword="null"/> for the default name through the system search path. Used at the first load only.
    /// </summary>
    public static string? TensorRtLibraryPath { get; set; }

    /// <summary>The loaded shim's path, or <see langword="null"/> when it is not loaded yet.</summary>
    public static string? LoadedNativeLibraryPath => ShimLibrary.LoadedPath;

    /// <summary>
    /// Which shim was loaded and why, e.g. "the prebuilt shim for TensorRT 11 (libnvinfer.so.11 was found): …/libtypedtrt_trt11.so";
    /// <see langword="null"/> when it is not loaded yet. Also logged at <see cref="TensorRtLogSeverity.Info"/> when it loads.
    /// </summary>
    public static string? NativeLibrarySelection => ShimLibrary.Selection;

    /// <summary>Loads the shim and the TensorRT library now (both happen on first use anyway) so problems surface early.</summary>
    /// <exception cref="TensorRtUnavailableException">The shim or TensorRT is missing or incompatible; the message says what was tried and what to install.</exception>
    /// <exception cref="TensorRtException">TensorRT's version is not compatible with the shim's headers (<see cref="TensorRtStatus.VersionMismatch"/>).</exception>
    public static void EnsureAvailable() => EnsureTensorRtLoaded(null, null);

    /// <summary>Whether the shim and TensorRT can be loaded in this process; never throws for a missing or incompatible library.</summary>
    /// <param name="reason">Empty when available; otherwise the full explanation (what was tried, what to install).</param>
    public static bool IsAvailable(out string reason)
    {
        try
        {
            EnsureAvailable();
            reason = "";
            return true;
        }
        catch (TensorRtException e)
        {
            reason = e.Message;
            return false;
        }
    }

    /// <summary>The TensorRT version the shim was compiled against (its headers).</summary>
    public static Version HeaderVersion
    {
        get
        {
            ShimLibrary.EnsureLoaded();
            return ReadVersions().Header;
        }
    }

    /// <summary>The TensorRT version loaded in this process, or <see langword="null"/> when TensorRT is not loaded yet.</summary>
    public static Version? LoadedVersion
    {
        get
        {
            ShimLibrary.EnsureLoaded();
            return ReadVersions().Loaded;
        }
    }

    /// <summary>The loaded TensorRT library's full path, or <see langword="null"/> when TensorRT is not loaded yet.</summary>
    public static string? LoadedTensorRtLibraryPath
    {
        get
        {
            ShimLibrary.EnsureLoaded();
            if (ReadVersions().Loaded is null)
                return null;
            return Native.GetString(static (b, c, l) => NativeMethods.LibraryPath(b, c, l), "ttrt_library_path");
        }
    }

    /// <summary>
    /// Sets the one process-wide TensorRT logger (or removes it with <see langword="null"/>). Messages up to
    /// <paramref name="maxSeverity"/> are delivered. May be called before the shim is loaded; it is installed at load.
    /// When this returns, the previous handler is not running and will not be called again. The handler must not call
    /// <see cref="SetLogger"/>; exceptions it throws are swallowed (they cannot cross into native code).
    /// </summary>
    public static void SetLogger(TensorRtLogHandler? handler, TensorRtLogSeverity maxSeverity = TensorRtLogSeverity.Warning)
    {
        if (maxSeverity is < TensorRtLogSeverity.InternalError or > TensorRtLogSeverity.Verbose)
            throw new ArgumentOutOfRangeException(nameof(maxSeverity), maxSeverity, "Severity must be InternalError..Verbose.");
        lock (LogGate)
        {
            s_logMaxSeverity = maxSeverity;
            if (ShimLibrary.IsLoaded)
            {
                InstallLogger(handler, maxSeverity);
            }

            Volatile.Write(ref s_logHandler, handler);
        }
    }

    /// <summary>Called once by <see cref="ShimLibrary"/> right after the shim loaded.</summary>
    internal static void OnShimLoaded()
    {
        lock (LogGate)
        {
            if (s_logHandler is not null)
            {
                InstallLogger(s_logHandler, s_logMaxSeverity);
                if (s_logMaxSeverity >= TensorRtLogSeverity.Info && ShimLibrary.Selection is { } selection)
                    OnLogManaged(TensorRtLogSeverity.Info, "typedtrt: using " + selection);
            }
        }
    }

    private static void OnLogManaged(TensorRtLogSeverity severity, string message)
    {
#pragma warning disable CA1031 // the handler's exceptions are swallowed, as for native messages
        try
        {
            s_logHandler?.Invoke(severity, message);
        }
        catch (Exception)
        {
        }
#pragma warning restore CA1031
    }

    private static void InstallLogger(TensorRtLogHandler? handler, TensorRtLogSeverity maxSeverity)
    {
        // The callback is a static UnmanagedCallersOnly function: nothing for the GC to collect. The handler itself
        // lives in a static field. Install before publishing a new handler and remove before dropping one, so the
        // native side never calls into a handler that is gone.
        Native.Check(
            handler is null
                ? NativeMethods.SetLogger(null, null, (int)maxSeverity)
                : NativeMethods.SetLogger(&OnLog, null, (int)maxSeverity),
            "ttrt_set_logger");
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnLog(int severity, byte* message, void* userData)
    {
        var handler = Volatile.Read(ref s_logHandler);
        if (handler is null)
            return;
#pragma warning disable CA1031 // an exception must not unwind into native code: that would end the process
        try
        {
            handler((TensorRtLogSeverity)severity, Marshal.PtrToStringUTF8((nint)message) ?? "");
        }
        catch (Exception)
        {
        }
#pragma warning restore CA1031
    }

    /// <summary>Loads the shim (from <paramref name="shimPath"/> if given) and TensorRT (from <paramref name="tensorRtPath"/> or <see cref="TensorRtLibraryPath"/>).</summary>
    internal static void EnsureTensorRtLoaded(string? shimPath, string? tensorRtPath)
    {
        string? path = tensorRtPath ?? TensorRtLibraryPath;
        ShimLibrary.EnsureLoaded(shimPath, path);
        try
        {
            if (path is null)
            {
                Native.Check(NativeMethods.LoadLibrary(null), "ttrt_load_library");
                return;
            }

            byte[] utf8 = Native.Utf8Z(path);
            fixed (byte* p = utf8)
                Native.Check(NativeMethods.LoadLibrary(p), "ttrt_load_library");
        }
        catch (TensorRtUnavailableException e) when (ShimLibrary.Selection is { } selection)
        {
            // Say which shim was used: it decides which TensorRT major was looked for.
            throw new TensorRtUnavailableException(e.Message + Environment.NewLine + "Shim: " + selection + ".", e.Status, e.FunctionName, e.NativeMessage, e.TriedPaths);
        }
    }

    internal static (Version Header, Version? Loaded) ReadVersions()
    {
        int header = 0, loaded = 0;
        Native.Check(NativeMethods.Versions(&header, &loaded), "ttrt_versions");
        return (Decode(header), loaded == 0 ? null : Decode(loaded));
    }

    /// <summary>TensorRT's version encoding: major*10000 + minor*100 + patch.</summary>
    internal static Version Decode(int v) => new(v / 10000, v / 100 % 100, v % 100);
}
