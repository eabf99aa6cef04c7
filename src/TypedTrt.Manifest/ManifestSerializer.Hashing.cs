using System.Security.Cryptography;

namespace TypedTrt.Manifest;

public static partial class ManifestSerializer
{
    /// <summary>Lower-case hex SHA-256 of a file, streamed (never loads the file into memory).</summary>
    public static string ComputeSha256(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
