using System.Globalization;
using System.Runtime.InteropServices;

namespace TypedTrt.TensorRT.Interop;

/// <summary>
/// Finds, loads and ABI-checks the native shim once per process, and answers the runtime's
/// <see cref="NativeLibrary.SetDllImportResolver"/> callback for <see cref="NativeMethods.LibraryName"/> with it, so the
/// <c>[LibraryImport]</c>s never fall back to default probing and never throw a raw <see cref="DllNotFoundException"/>.
/// Search order: (1) an explicit path (<see cref="TensorRtRuntime.NativeLibraryPath"/> or the engine options),
/// (2) the <c>TYPEDTRT_NATIVE_LIB</c> environment variable, (3) a shim built from source (<c>libtypedtrt_trt.so</c>) in
/// <c>runtimes/&lt;rid&gt;/native/</c> or the folder of the application, (4) the prebuilt shim that TypedTrt.TensorRT
/// ships for the installed TensorRT major (<c>libtypedtrt_trt11.so</c> / <c>libtypedtrt_trt10.so</c>, picked by
/// <see cref="SelectPrebuilt"/>), (5) the operating system's library search path. A configured (1, 2) path that
/// fails is an error; it never silently falls back to another file. <see cref="Selection"/> says what was chosen.
/// </summary>
internal static unsafe class ShimLibrary
{
    internal const int ExpectedAbiMajor = 1;
    internal const int ExpectedAbiMinor = 0;

    /// <summary>
    /// The minor C ABI version of the shim in use (0 when none is loaded): functions added after 1.0 are called only
    /// where it has them (1.1: output allocators).
    /// </summary>
    internal static int LoadedAbiMinor
    {
        get
        {
            nint h = Volatile.Read(ref s_handle);
            if (h == 0 || !NativeLibrary.TryGetExport(h, "ttrt_abi_version", out nint fn))
                return 0;
            return ((delegate* unmanaged[Cdecl]<int>)fn)() & 0xFFFF;
        }
    }
    internal const string EnvironmentVariable = "TYPEDTRT_NATIVE_LIB";

    private static readonly Lock Gate = new();
    private static nint s_handle;
    private static string? s_path;
    private static string? s_selection;
    private static bool s_resolverSet;

    /// <summary>The TensorRT majors TypedTrt ships prebuilt shims for, in the order they are probed.</summary>
    internal static readonly int[] PrebuiltMajors = [11, 10];

    /// <summary>Whether the shim is loaded.</summary>
    internal static bool IsLoaded => Volatile.Read(ref s_handle) != 0;

    /// <summary>The loaded shim's path, or <see langword="null"/>.</summary>
    internal static string? LoadedPath => IsLoaded ? s_path : null;

    /// <summary>Which shim was chosen and why (e.g. the prebuilt one for TensorRT 11, since libnvinfer.so.11 was found), or <see langword="null"/> before loading.</summary>
    internal static string? Selection => IsLoaded ? s_selection : null;

    /// <summary>The file name of a prebuilt shim for one TensorRT major on this platform.</summary>
    internal static string PrebuiltFileName(int major) =>
        OperatingSystem.IsWindows() ? $"{NativeMethods.LibraryName}{major}.dll"
        : OperatingSystem.IsMacOS() ? $"lib{NativeMethods.LibraryName}{major}.dylib"
        : $"lib{NativeMethods.LibraryName}{major}.so";

    /// <summary>The file name of the shim on this platform.</summary>
    internal static string PlatformFileName =>
        OperatingSystem.IsWindows() ? NativeMethods.LibraryName + ".dll"
        : OperatingSystem.IsMacOS() ? "lib" + NativeMethods.LibraryName + ".dylib"
        : "lib" + NativeMethods.LibraryName + ".so";

    /// <summary>Loads the shim if it is not loaded yet. Thread-safe; a failure is not cached (a later call searches again).</summary>
    /// <param name="explicitPath">An explicit path from options; overrides <see cref="TensorRtRuntime.NativeLibraryPath"/>.</param>
    /// <exception cref="TensorRtUnavailableException">No usable shim was found; the message lists what was tried.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="explicitPath"/> names another file than the one already loaded.</exception>
    /// <param name="tensorRtPath">The TensorRT library the caller will load (engine options), used to pick the prebuilt shim; <see langword="null"/>: <see cref="TensorRtRuntime.TensorRtLibraryPath"/>.</param>
    internal static void EnsureLoaded(string? explicitPath = null, string? tensorRtPath = null)
    {
        if (!IsLoaded)
        {
            lock (Gate)
            {
                if (!IsLoaded)
                {
                    if (!s_resolverSet)
                    {
                        NativeLibrary.SetDllImportResolver(typeof(ShimLibrary).Assembly, Resolve);
                        s_resolverSet = true;
                    }

                    string? trtPath = tensorRtPath ?? TensorRtRuntime.TensorRtLibraryPath;
                    var (handle, path, selection) = LoadWithSelection(
                        explicitPath ?? TensorRtRuntime.NativeLibraryPath,
                        explicitPath is not null ? "the engine options' NativeLibraryPath" : "TensorRtRuntime.NativeLibraryPath",
                        Environment.GetEnvironmentVariable(EnvironmentVariable),
                        AppContext.BaseDirectory,
                        searchSystemPath: true,
                        () => InstalledTensorRtMajor(trtPath));
                    s_path = path;
                    s_selection = selection;
                    Volatile.Write(ref s_handle, handle);
                }
                else
                {
                    CheckSameFile(explicitPath);
                    return;
                }
            }

            TensorRtRuntime.OnShimLoaded();
            return;
        }

        CheckSameFile(explicitPath);
    }

    private static void CheckSameFile(string? explicitPath)
    {
        if (explicitPath is null || s_path is null)
            return;
        if (!string.Equals(Path.GetFullPath(explicitPath), s_path, OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal))
        {
            throw new InvalidOperationException(
                $"The TypedTrt shim is already loaded from '{s_path}'; it cannot be switched to '{explicitPath}' (one shim per process). " +
                "Set the path before the first use of TensorRT, or leave it unset in later options.");
        }
    }

    private static nint Resolve(string libraryName, System.Reflection.Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (libraryName != NativeMethods.LibraryName)
            return 0;
        EnsureLoaded();
        return s_handle;
    }

    /// <summary>
    /// The search itself, without touching process state (tests call it directly): returns a loaded, ABI-compatible
    /// handle and its full path, or throws <see cref="TensorRtUnavailableException"/> naming every place tried.
    /// </summary>
    internal static (nint Handle, string Path) Load(string? explicitPath, string explicitSource, string? environmentPath, string? appDirectory, bool searchSystemPath)
    {
        var (handle, path, _) = LoadWithSelection(explicitPath, explicitSource, environmentPath, appDirectory, searchSystemPath, static () => (null, "TensorRT was not probed"));
        return (handle, path);
    }

    /// <summary><see cref="Load"/>, also saying which shim was chosen and why.</summary>
    /// <param name="explicitPath">An explicit shim path, or <see langword="null"/>.</param>
    /// <param name="explicitSource">Where <paramref name="explicitPath"/> came from, for messages.</param>
    /// <param name="environmentPath">The environment variable's value, or <see langword="null"/>.</param>
    /// <param name="appDirectory">The application folder, or <see langword="null"/>.</param>
    /// <param name="searchSystemPath">Whether to try the system's library search path last.</param>
    /// <param name="installedMajor">Which TensorRT major is installed (and how that was found out), to pick a prebuilt shim; called only when it comes to that.</param>
    internal static (nint Handle, string Path, string Selection) LoadWithSelection(
        string? explicitPath, string explicitSource, string? environmentPath, string? appDirectory, bool searchSystemPath, Func<(int? Major, string How)> installedMajor)
    {
        ArgumentNullException.ThrowIfNull(installedMajor);
        var tried = new List<string>();
        if (!string.IsNullOrEmpty(explicitPath))
        {
            if (TryLoadFile(explicitPath, explicitSource, tried) is { } r)
                return (r.Item1, r.Item2, $"{explicitSource}: {r.Item2}");
            throw Unavailable(tried, $"{explicitSource} is set to '{explicitPath}', and that file could not be loaded.");
        }

        if (!string.IsNullOrEmpty(environmentPath))
        {
            if (TryLoadFile(environmentPath, $"environment variable {EnvironmentVariable}", tried) is { } r)
                return (r.Item1, r.Item2, $"environment variable {EnvironmentVariable}: {r.Item2}");
            throw Unavailable(tried, $"The environment variable {EnvironmentVariable} is set to '{environmentPath}', and that file could not be loaded.");
        }

        if (!string.IsNullOrEmpty(appDirectory))
        {
            foreach (string rid in RuntimeIdentifiers())
            {
                if (TryLoadFile(Path.Combine(appDirectory, "runtimes", rid, "native", PlatformFileName), $"runtimes/{rid}/native", tried) is { } r)
                    return (r.Item1, r.Item2, $"a shim built from source in runtimes/{rid}/native: {r.Item2}");
            }

            if (TryLoadFile(Path.Combine(appDirectory, PlatformFileName), "the application folder", tried) is { } app)
                return (app.Item1, app.Item2, $"a shim built from source in the application folder: {app.Item2}");

            if (SelectPrebuilt(appDirectory, installedMajor, tried) is { } pre)
                return pre;
        }

        if (searchSystemPath)
        {
            string where = OperatingSystem.IsWindows() ? "the DLL search path (PATH)" : OperatingSystem.IsMacOS() ? "the dyld search path" : "the system library search path (LD_LIBRARY_PATH, ldconfig)";
            if (NativeLibrary.TryLoad(PlatformFileName, out nint handle))
            {
                string path = PlatformFileName + " (found through " + where + ")";
                CheckAbi(handle, path, tried);
                return (handle, path, path);
            }

            tried.Add($"'{PlatformFileName}' through {where}: not found");
        }

        throw Unavailable(tried, null);
    }

    /// <summary>
    /// The prebuilt shim for the installed TensorRT major (or, when none is found, for the oldest major shipped, so that
    /// using it reports the missing TensorRT library rather than a missing shim), from <c>runtimes/&lt;rid&gt;/native/</c>
    /// (a framework-dependent app) or the application folder (a RID-specific publish flattens runtimes/ into it).
    /// </summary>
    private static (nint, string, string)? SelectPrebuilt(string appDirectory, Func<(int? Major, string How)> installedMajor, List<string> tried)
    {
        var candidates = new List<(int Major, string Path, string Source)>();
        foreach (int major in PrebuiltMajors)
        {
            foreach (string rid in RuntimeIdentifiers())
                candidates.Add((major, Path.Combine(appDirectory, "runtimes", rid, "native", PrebuiltFileName(major)), $"prebuilt, runtimes/{rid}/native"));
            candidates.Add((major, Path.Combine(appDirectory, PrebuiltFileName(major)), "prebuilt, the application folder"));
        }

        var present = candidates.Where(c => File.Exists(c.Path)).ToList();
        if (present.Count == 0)
        {
            tried.Add($"prebuilt {string.Join(" / ", PrebuiltMajors.Select(PrebuiltFileName))} in runtimes/<rid>/native or the application folder: not there (they come with the TypedTrt.TensorRT package on linux-x64)");
            return null;
        }

        var (found, how) = installedMajor();
        int pick = found is { } m && present.Any(c => c.Major == m) ? m : present.Min(c => c.Major);
        string why = found is { } f
            ? present.Any(c => c.Major == f) ? how : $"{how}, but no prebuilt shim for TensorRT {f} is here"
            : how;
        foreach (var c in present.Where(c => c.Major == pick))
        {
            if (TryLoadFile(c.Path, c.Source, tried) is { } r)
                return (r.Item1, r.Item2, $"the prebuilt shim for TensorRT {pick} ({why}): {r.Item2}");
        }

        return null;
    }

    /// <summary>
    /// Which TensorRT major is installed: the version <paramref name="tensorRtPath"/> reports (or its file name says),
    /// else the first of <c>libnvinfer.so.11</c>, <c>libnvinfer.so.10</c> (<c>nvinfer_11.dll</c>, <c>nvinfer_10.dll</c>)
    /// the system's loader finds. A library found here stays loaded: the shim loads the same one right after.
    /// </summary>
    internal static (int? Major, string How) InstalledTensorRtMajor(string? tensorRtPath)
    {
        if (!string.IsNullOrEmpty(tensorRtPath))
        {
            if (NativeLibrary.TryLoad(tensorRtPath, out nint h) && NativeLibrary.TryGetExport(h, "getInferLibVersion", out nint fn))
            {
                int v = ((delegate* unmanaged[Cdecl]<int>)fn)();
                int major = v < 10000 ? v / 1000 : v / 10000;
                return (major, string.Create(CultureInfo.InvariantCulture, $"TensorRtLibraryPath '{tensorRtPath}' is TensorRT {major}"));
            }

            var match = System.Text.RegularExpressions.Regex.Match(Path.GetFileName(tensorRtPath), @"(?:\.so\.|nvinfer_)(\d+)");
            if (match.Success)
                return (int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), $"TensorRtLibraryPath '{tensorRtPath}' is named for TensorRT {match.Groups[1].Value}");
        }

        var names = new List<string>();
        foreach (int major in PrebuiltMajors)
        {
            string name = OperatingSystem.IsWindows() ? $"nvinfer_{major}.dll" : $"libnvinfer.so.{major}";
            names.Add(name);
            if (NativeLibrary.TryLoad(name, out _))
                return (major, $"{name} was found");
        }

        return (null, $"neither {string.Join(" nor ", names)} was found, so TensorRT is not installed or not on the library search path");
    }

    private static (nint, string)? TryLoadFile(string path, string source, List<string> tried)
    {
        string full;
        try
        {
            full = Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            tried.Add($"{path} ({source}): not a valid path ({e.Message})");
            return null;
        }

        if (!File.Exists(full))
        {
            tried.Add($"{full} ({source}): does not exist");
            return null;
        }

        nint handle;
        try
        {
            handle = NativeLibrary.Load(full);
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
        {
            tried.Add($"{full} ({source}): exists but could not be loaded: {e.Message}");
            return null;
        }

        CheckAbi(handle, full, tried);
        return (handle, full);
    }

    /// <summary>Checks <c>ttrt_abi_version()</c>: same major, minor at least the expected one. Frees the library and throws otherwise.</summary>
    private static void CheckAbi(nint handle, string path, List<string> tried)
    {
        if (!NativeLibrary.TryGetExport(handle, "ttrt_abi_version", out nint fn))
        {
            NativeLibrary.Free(handle);
            tried.Add($"{path}: loaded, but it exports no ttrt_abi_version; it is not the TypedTrt shim");
            throw Unavailable(tried, $"'{path}' is not the TypedTrt shim (no ttrt_abi_version export).");
        }

        int version = ((delegate* unmanaged[Cdecl]<int>)fn)();
        int major = version >> 16, minor = version & 0xFFFF;
        if (major != ExpectedAbiMajor || minor < ExpectedAbiMinor)
        {
            NativeLibrary.Free(handle);
            string needed = string.Create(CultureInfo.InvariantCulture, $"{ExpectedAbiMajor}.x with x >= {ExpectedAbiMinor}");
            tried.Add(string.Create(CultureInfo.InvariantCulture, $"{path}: implements C ABI {major}.{minor}, needed {needed}"));
            throw new TensorRtUnavailableException(
                string.Create(CultureInfo.InvariantCulture,
                    $"The TypedTrt shim '{path}' implements C ABI {major}.{minor}, but this TypedTrt.TensorRT needs ABI {needed}. ") +
                (major > ExpectedAbiMajor || (major == ExpectedAbiMajor && minor < ExpectedAbiMinor)
                    ? "The shim and the TypedTrt.TensorRT assembly come from different TypedTrt versions: "
                    : "The shim is older than this TypedTrt.TensorRT: ") +
                "rebuild the shim from the native/ folder of the TypedTrt version you reference (see docs/tensorrt.md).",
                TensorRtStatus.VersionMismatch, "ttrt_abi_version", "", tried);
        }
    }

    internal static IEnumerable<string> RuntimeIdentifiers()
    {
        string os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        string arch = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => "x64",
            Architecture.Arm64 => "arm64",
            Architecture.X86 => "x86",
            Architecture.Arm => "arm",
            var other => other.ToString().ToLowerInvariant(),
        };
        string portable = os + "-" + arch;
        string current = RuntimeInformation.RuntimeIdentifier;
        if (!string.Equals(current, portable, StringComparison.Ordinal))
            yield return current;
        yield return portable;
    }

    private static TensorRtUnavailableException Unavailable(List<string> tried, string? lead)
    {
        string rid = RuntimeIdentifiers().Last();
        string message =
            (lead ?? $"The TypedTrt TensorRT shim ({PlatformFileName}) was not found.") + Environment.NewLine +
            "Tried:" + string.Concat(tried.Select(t => Environment.NewLine + "  - " + t)) + Environment.NewLine +
            "To use TensorRT: on linux-x64 the TypedTrt.TensorRT package brings prebuilt shims (runtimes/linux-x64/native/); check that the package " +
            "is referenced by the application and that publishing kept runtimes/ or the libtypedtrt_trt10/11 files. Elsewhere, " +
            $"build the shim from TypedTrt's native/ folder with CMake against TensorRT 10 or 11 (see native/README.md and docs/tensorrt.md), " +
            $"then put {PlatformFileName} next to the application or in runtimes/{rid}/native/, or set the environment variable {EnvironmentVariable} " +
            "(or TensorRtRuntime.NativeLibraryPath) to its full path. At run time the shim also needs the TensorRT 10 or 11 runtime libraries " +
            (OperatingSystem.IsWindows() ? "(nvinfer_10.dll / nvinfer_11.dll on PATH)" : "(libnvinfer.so.10 / libnvinfer.so.11 on LD_LIBRARY_PATH or in ldconfig)") +
            " and an NVIDIA driver.";
        return new TensorRtUnavailableException(message, TensorRtStatus.LibraryNotFound, null, "", tried.ToArray());
    }
}
