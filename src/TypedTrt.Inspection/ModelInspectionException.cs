namespace TypedTrt.Inspection;

/// <summary>
/// A model file could not be inspected: it is missing, a directory, empty, truncated, corrupt, not a model, an
/// unsupported plan or manifest version, or its sidecar manifest is stale. The message names the file and says what
/// is wrong (and, where there is one, what to do).
/// </summary>
public sealed class ModelInspectionException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="filePath">The file the problem is about.</param>
    /// <param name="reason">What is wrong, without the file name.</param>
    /// <param name="inner">The underlying error, if any.</param>
    public ModelInspectionException(string filePath, string reason, Exception? inner = null)
        : base($"{filePath}: {reason}", inner)
    {
        FilePath = filePath;
        Reason = reason;
    }

    /// <summary>Creates the exception.</summary>
    public ModelInspectionException() : this("model", "the model could not be inspected.") { }

    /// <summary>Creates the exception.</summary>
    public ModelInspectionException(string message) : this("model", message) { }

    /// <summary>Creates the exception.</summary>
    public ModelInspectionException(string message, Exception inner) : this("model", message, inner) { }

    /// <summary>The file the problem is about (as the caller named it).</summary>
    public string FilePath { get; }

    /// <summary>What is wrong, without the file name.</summary>
    public string Reason { get; }
}
