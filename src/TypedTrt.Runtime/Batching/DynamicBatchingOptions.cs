namespace TypedTrt.Runtime.Batching;

/// <summary>
/// Dynamic batching of an <see cref="InferenceRunner"/> (<see cref="InferenceRunnerOptions.Batching"/>): concurrent
/// requests of a few rows each are gathered into one enqueue of up to <see cref="MaxBatchSize"/> rows, like Triton's
/// dynamic batcher. A batch forms when <see cref="MaxBatchSize"/> rows wait (or a <see cref="PreferredBatchSizes"/>
/// entry can be filled), or when the oldest waiting request has waited <see cref="MaxQueueDelay"/>; it runs on any free
/// slot, so S streams keep up to S batches in flight. A batch also runs at once when the callers its predecessors handed
/// back have all queued again (a closed loop of callers: nobody else is about to come).
/// </summary>
/// <remarks>
/// The engine qualifies when every input and every output has the same dynamic batch dimension
/// (<see cref="BatchDimension"/>, dimension 0 by default); the runner's constructor says which tensor disqualifies it
/// otherwise. Requests whose other dynamic dimensions differ never share a batch; within one shape requests run in
/// arrival order. On machines with 4 or more processors the runner keeps a few completion threads (half the
/// processors, at most 8) that resume the callers of a finished batch in parallel; like the completion poller, they run
/// the callers' continuations, so do not block in them (a blocked one only takes that thread out: chains go to idle
/// threads or the thread pool).
/// </remarks>
public sealed class DynamicBatchingOptions
{
    /// <summary>The most rows one batch holds; at most the optimization profile's maximum of the batch dimension. Required (≥ 1).</summary>
    public int MaxBatchSize { get; init; }

    /// <summary>
    /// How long the oldest request may wait for more rows before a smaller batch runs anyway. Default 1 ms;
    /// <see cref="TimeSpan.Zero"/> runs whatever waits as soon as a slot is free.
    /// </summary>
    public TimeSpan MaxQueueDelay { get; init; } = TimeSpan.FromMilliseconds(1);

    /// <summary>
    /// Optional batch sizes the engine runs best at (e.g. the sizes a TensorRT profile was tuned for): as soon as the
    /// waiting rows reach one of them, the largest reachable one runs without waiting for <see cref="MaxQueueDelay"/>.
    /// Each must be 1..<see cref="MaxBatchSize"/>. Default none.
    /// </summary>
    public IReadOnlyList<int>? PreferredBatchSizes { get; init; }

    /// <summary>
    /// Optional limit on waiting requests. When that many wait, a new request fails at once with
    /// <see cref="BatchQueueFullException"/> instead of waiting; <see langword="null"/> (default): no limit.
    /// </summary>
    public int? MaxQueueLength { get; init; }

    /// <summary>The batch dimension: the index of the dynamic dimension that every input and output shares. Default 0.</summary>
    public int BatchDimension { get; init; }

    /// <summary>Test seam: the number of completion threads (<see cref="CompletionWorkers"/>) instead of the machine's default.</summary>
    internal int? CompletionThreadsForTesting { get; init; }
}
