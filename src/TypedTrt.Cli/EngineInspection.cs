using TypedTrt.Inspection;
using TypedTrt.Manifest;
using TypedTrt.TensorRT;

namespace TypedTrt.Cli;

/// <summary>
/// Reads TensorRT engines with TensorRT where it is installed. Precedence for an engine: <c>--write-sidecar</c> always
/// uses TensorRT (and fails clearly without it); otherwise an existing sidecar manifest wins (checked against the
/// engine's hash by <see cref="ModelInspector"/>), then TensorRT if it can be loaded, then the sidecar error that names
/// the ways forward.
/// </summary>
internal static class EngineInspection
{
    /// <summary>The manifest read through TensorRT, or <see langword="null"/> to fall back to <see cref="ModelInspector"/>.</summary>
    public static BindingManifest? TryInspectWithTensorRt(string file, bool writeSidecar, TextWriter stderr)
    {
        if (!File.Exists(file))
            return null; // ModelInspector says precisely what is wrong with the path
        bool isEngine = IsEngine(file);
        if (writeSidecar)
        {
            if (!isEngine)
                throw new ModelInspectionException(file, "--write-sidecar applies to TensorRT engines; this file is not a TensorRT plan.");
            if (!TensorRtInspector.IsAvailable(out string reason))
                throw new ModelInspectionException(file, $"--write-sidecar needs TensorRT and the TypedTrt shim on this machine: {reason}");
            var result = TensorRtInspector.WriteSidecar(file);
            stderr.WriteLine(result.Written ? $"typedtrt: wrote {result.Path}" : $"typedtrt: {result.Path} is up to date");
            return result.Manifest;
        }

        if (!isEngine || File.Exists(ModelInspector.SidecarPath(file)) || !TensorRtInspector.IsAvailable(out _))
            return null;
        return TensorRtInspector.ReadManifest(file);
    }

    private static bool IsEngine(string file)
    {
        try
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read);
            return PlanHeader.FindPlanOffset(stream) is not null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return false; // ModelInspector reports unreadable files with its own precise message
        }
    }
}
