namespace TypedTrt.Runtime.Batching;

/// <summary>
/// A request was rejected because <see cref="DynamicBatchingOptions.MaxQueueLength"/> requests were already waiting.
/// Nothing of the request was queued; retry later, shed load, or raise the limit.
/// </summary>
public sealed class BatchQueueFullException : InvalidOperationException
{
    /// <summary>Creates the exception for a queue of <paramref name="maxQueueLength"/> waiting requests.</summary>
    public BatchQueueFullException(int maxQueueLength)
        : base($"The runner's batch queue is full: {maxQueueLength} requests are waiting (DynamicBatchingOptions.MaxQueueLength). The request was not queued; retry later or raise the limit.") =>
        MaxQueueLength = maxQueueLength;

    /// <summary>Creates the exception with a message.</summary>
    public BatchQueueFullException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public BatchQueueFullException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public BatchQueueFullException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The limit that was reached (0 when unknown).</summary>
    public int MaxQueueLength { get; }
}
