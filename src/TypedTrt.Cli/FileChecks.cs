using TypedTrt.Manifest;

namespace TypedTrt.Cli;

/// <summary>
/// The checks <c>inspect</c> makes on its paths before it opens anything: the model must be a regular file (a FIFO
/// would block, <c>/dev/zero</c> never ends), and <c>--out</c> must not name the model itself nor anything that is not
/// a regular file. Each failure is one line that names the path and says what to do.
/// </summary>
internal static class FileChecks
{
    /// <summary>Why <paramref name="model"/> cannot be read as a model, or <see langword="null"/> when it can be tried.</summary>
    public static string? ModelProblem(string model)
    {
        var probe = FileProbe.Probe(model);
        return probe.Kind switch
        {
            FileKind.Regular or FileKind.Missing or FileKind.Directory or FileKind.Unknown => null, // the inspector's own messages cover these
            _ => $"{model}: is {probe.Description}, not a model file; pass the path of an ONNX model or TensorRT engine file.",
        };
    }

    /// <summary>Why <paramref name="outFile"/> must not be written, or <see langword="null"/> when it may be.</summary>
    public static string? OutProblem(string outFile, string model) =>
        OutProblem(outFile, model, "the manifest", "the model being inspected", $"{model}.bindings.json");

    /// <summary>
    /// Why <paramref name="outFile"/> must not be written with <paramref name="what"/> made from <paramref name="source"/>
    /// (<paramref name="sourceRole"/> in the message; <paramref name="suggestion"/> is a file name to write instead), or
    /// <see langword="null"/> when it may be.
    /// </summary>
    public static string? OutProblem(string outFile, string source, string what, string sourceRole, string suggestion)
    {
        var target = FileProbe.Probe(outFile);
        if (target.Kind is not (FileKind.Regular or FileKind.Missing or FileKind.Unknown))
            return $"--out {outFile}: is {target.Description}; {what} is only written to a regular file (or a new one). Nothing was written.";
        if (target.Kind == FileKind.Regular && IsSameFile(outFile, target, source))
            return $"--out {outFile}: is {sourceRole}; refusing to overwrite it with {what}. Write to another file, e.g. '{suggestion}'.";
        return null;
    }

    private static bool IsSameFile(string outFile, FileIdentity target, string model)
    {
        var source = FileProbe.Probe(model);
        if (target.HasIdentity && source.HasIdentity)
            return target.IsSameFileAs(source); // also catches hard links and links in either direction
        return string.Equals(FinalPath(outFile), FinalPath(model), OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
    }

    private static string FinalPath(string path)
    {
        string full = Path.GetFullPath(path);
        try
        {
            return new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full;
        }
        catch (IOException)
        {
            return full;
        }
    }
}
