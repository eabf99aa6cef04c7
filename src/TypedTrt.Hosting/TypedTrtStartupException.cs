namespace TypedTrt.Hosting;

/// <summary>
/// A hosted model could not start: its options are invalid, its backend is unknown, its file is missing, the loaded
/// model does not match the bindings, there is no NVIDIA driver, or warm-up failed. The message names the model and
/// carries the library's own explanation; <see cref="Exception.InnerException"/> is the original exception. Thrown
/// from the host's start, so the application stops before it serves anything.
/// </summary>
public sealed class TypedTrtStartupException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TypedTrtStartupException(string modelName, string message, Exception? innerException = null)
        : base($"TypedTrt model '{modelName}' could not start: {message}", innerException)
    {
        ModelName = modelName;
    }

    /// <summary>Creates the exception.</summary>
    public TypedTrtStartupException()
        : this("?", "unknown error")
    {
    }

    /// <summary>Creates the exception.</summary>
    public TypedTrtStartupException(string message)
        : base(message)
    {
        ModelName = "?";
    }

    /// <summary>Creates the exception.</summary>
    public TypedTrtStartupException(string message, Exception innerException)
        : base(message, innerException)
    {
        ModelName = "?";
    }

    /// <summary>The model that failed.</summary>
    public string ModelName { get; }
}
