using TypedTrt.Manifest;
using TypedTrt.TensorRT.Interop;

namespace TypedTrt.TensorRT;

/// <summary>The outcome of <see cref="TensorRtInspector.WriteSidecar"/>.</summary>
public sealed class TensorRtSidecarResult
{
    internal TensorRtSidecarResult(string path, bool written, BindingManifest manifest)
    {
        Path = path;
        Written = written;
        Manifest = manifest;
    }

    /// <summary>The sidecar's path: <c>&lt;engine&gt;.bindings.json</c>.</summary>
    public string Path { get; }

    /// <summary><see langword="false"/> when the file already held exactly these bytes (not rewritten, timestamp kept).</summary>
    public bool Written { get; }

    /// <summary>The manifest written.</summary>
    public BindingManifest Manifest { get; }
}

/// <summary>
/// Reads a complete binding manifest from a TensorRT engine with TensorRT itself (needs the shim and TensorRT, not a
/// GPU-specific build step): every IO tensor with dtype, shape, format, vectorized dimension, components and bytes per
/// component, location and shape-tensor flag, and every optimization profile. Engines have no dimension names, so
/// <c>dimNames</c> are all <c>""</c>.
/// </summary>
public static class TensorRtInspector
{
    /// <summary>The suffix of sidecar manifests: <c>model.engine</c> → <c>model.engine.bindings.json</c>.</summary>
    public const string SidecarSuffix = ".bindings.json";

    /// <summary>Whether the shim and TensorRT can be loaded here; never throws for a missing library.</summary>
    /// <param name="reason">Empty when available, else what was tried and what to install.</param>
    public static bool IsAvailable(out string reason) => TensorRtRuntime.IsAvailable(out reason);

    /// <summary>The sidecar path for an engine: <paramref name="enginePath"/> + <see cref="SidecarSuffix"/>.</summary>
    public static string GetSidecarPath(string enginePath)
    {
        ArgumentException.ThrowIfNullOrEmpty(enginePath);
        return enginePath + SidecarSuffix;
    }

    /// <summary>Deserializes the engine and describes it (source kind <c>tensorrt-engine</c>, sha256, size, TensorRT version from the plan header, Ultralytics metadata if present).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a TensorRT plan.</exception>
    /// <exception cref="TensorRtUnavailableException">The shim or TensorRT cannot be loaded.</exception>
    /// <exception cref="TensorRtVersionMismatchException">The plan was built by another TensorRT version than the loaded one.</exception>
    /// <exception cref="TensorRtException">TensorRT could not deserialize the engine.</exception>
    public static BindingManifest ReadManifest(string enginePath, TensorRtEngineOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(enginePath);
        if (!File.Exists(enginePath))
            throw new FileNotFoundException($"The TensorRT engine '{enginePath}' does not exist.", enginePath);
        byte[] bytes = File.ReadAllBytes(enginePath);
        using var plan = OpenedPlan.Open(bytes, $"The TensorRT engine '{enginePath}'", Path.GetFileName(enginePath), options ?? new TensorRtEngineOptions());
        return plan.Manifest;
    }

    /// <summary>Reads the engine's manifest and writes it to <c>&lt;engine&gt;.bindings.json</c> next to the engine, only if its bytes changed.</summary>
    public static TensorRtSidecarResult WriteSidecar(string enginePath, TensorRtEngineOptions? options = null)
    {
        var manifest = ReadManifest(enginePath, options);
        string path = GetSidecarPath(enginePath);
        bool written = ManifestSerializer.WriteFileIfChanged(manifest, path);
        return new TensorRtSidecarResult(path, written, manifest);
    }
}
