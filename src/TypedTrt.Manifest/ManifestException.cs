namespace TypedTrt.Manifest;

/// <summary>A binding manifest could not be read: malformed JSON, a missing or invalid property, or an unsupported schema.</summary>
public sealed class ManifestException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ManifestException(string message, string? filePath = null, long? line = null, long? column = null, string? jsonPath = null, Exception? inner = null)
        : base(Format(message, filePath, line, column, jsonPath), inner)
    {
        Reason = message;
        FilePath = filePath;
        Line = line;
        Column = column;
        JsonPath = jsonPath;
    }

    /// <summary>Creates the exception.</summary>
    public ManifestException() : this("The manifest could not be read.", (string?)null) { }

    /// <summary>Creates the exception.</summary>
    public ManifestException(string message) : this(message, (string?)null) { }

    /// <summary>Creates the exception.</summary>
    public ManifestException(string message, Exception inner) : this(message, null, null, null, null, inner) { }

    /// <summary>What is wrong, without location.</summary>
    public string Reason { get; }

    /// <summary>The manifest file, when known.</summary>
    public string? FilePath { get; }

    /// <summary>1-based line of the problem, when known.</summary>
    public long? Line { get; }

    /// <summary>1-based column of the problem, when known.</summary>
    public long? Column { get; }

    /// <summary>Path of the offending JSON value (e.g. <c>tensors[2].shape</c>), when known.</summary>
    public string? JsonPath { get; }

    /// <summary>Whether the failure is an unsupported (newer or unknown) schema rather than malformed content.</summary>
    public bool IsUnsupportedSchema { get; init; }

    private static string Format(string message, string? file, long? line, long? column, string? path)
    {
        string where = file ?? "manifest";
        if (line is not null)
            where += $"({line},{column ?? 1})";
        return path is null ? $"{where}: {message}" : $"{where}: {path}: {message}";
    }
}
