namespace TypedTrt.Manifest;

/// <summary>
/// Replaces a small generated file (a manifest) without destroying anything else:
/// <list type="bullet">
/// <item>a symbolic link is written through: its final target gets the new content, the link stays;</item>
/// <item>a target that exists and is not a regular file (device, FIFO, socket, directory) is refused before it is
/// opened, so <c>/dev/null</c> is never replaced by a file and a FIFO never blocks;</item>
/// <item>an existing regular target is read only to compare it, and only when its length equals the new content's
/// (a device or a huge file is never read);</item>
/// <item>the new content goes to a fresh temporary file next to the target (created exclusively, never through a
/// link), which is renamed over it; on any failure the temporary file is deleted.</item>
/// </list>
/// </summary>
internal static class SafeFileWriter
{
    /// <summary>Writes <paramref name="content"/> to <paramref name="path"/> unless it already holds exactly that.</summary>
    /// <returns><see langword="true"/> when the file was written.</returns>
    /// <exception cref="IOException">The target is not a regular file, a link cannot be resolved, or writing failed.</exception>
    /// <exception cref="UnauthorizedAccessException">No permission to write there.</exception>
    public static bool WriteIfChanged(string path, ReadOnlySpan<byte> content)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string target = ResolveTarget(Path.GetFullPath(path));
        var probe = FileProbe.Probe(target);
        switch (probe.Kind)
        {
            case FileKind.Missing or FileKind.Unknown:
                break; // (Unknown: creating the file will say why it cannot be written)
            case FileKind.Regular:
                if (HoldsExactly(target, content))
                    return false;
                break;
            default:
                throw new IOException($"'{path}' is {probe.Description}, not a regular file; refusing to replace it (write the manifest to a regular file path).");
        }

        string dir = Path.GetDirectoryName(target) ?? ".";
        Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir, "." + Path.GetFileName(target) + "." + Guid.NewGuid().ToString("N")[..12] + ".tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: false);
            }

            if (probe.Kind == FileKind.Regular && !OperatingSystem.IsWindows())
            {
                try
                {
                    File.SetUnixFileMode(temp, File.GetUnixFileMode(target)); // keep the replaced file's permissions
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // permissions are a nicety; the content is what matters
                }
            }

            File.Move(temp, target, overwrite: true);
            return true;
        }
        finally
        {
            if (File.Exists(temp))
            {
                try
                {
                    File.Delete(temp);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // the original error (if any) is the one to report
                }
            }
        }
    }

    /// <summary>The path a write to <paramref name="fullPath"/> should replace: the final target of a chain of links.</summary>
    private static string ResolveTarget(string fullPath)
    {
        FileSystemInfo? link;
        try
        {
            var info = new FileInfo(fullPath);
            if (info.LinkTarget is null)
                return fullPath;
            link = info.ResolveLinkTarget(returnFinalTarget: true);
        }
        catch (IOException e)
        {
            throw new IOException($"'{fullPath}' is a symbolic link that cannot be resolved ({e.Message}).", e);
        }

        return link is null ? fullPath : Path.GetFullPath(link.FullName);
    }

    private static bool HoldsExactly(string path, ReadOnlySpan<byte> content)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
        if (stream.Length != content.Length)
            return false;
        byte[] existing = new byte[content.Length];
        stream.ReadExactly(existing);
        return existing.AsSpan().SequenceEqual(content);
    }
}
