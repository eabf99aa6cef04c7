using TypedTrt.Runtime.Batching;

namespace TypedTrt.Hosting;

/// <summary>
/// Dynamic batching of a hosted model (<see cref="TypedTrtModelOptions.Batching"/>), bound from the section
/// <c>TypedTrt:Models:&lt;name&gt;:Batching</c>: concurrent requests of a few rows each run as one enqueue of up to
/// <see cref="MaxBatchSize"/> rows. Every caller of the hosted runner (in-process handlers, the KServe server) gets it.
/// </summary>
/// <example>
/// <code language="json">
/// { "TypedTrt": { "Models": { "digits": { "Batching": { "MaxBatchSize": 32, "MaxQueueDelay": "00:00:00.0001", "PreferredBatchSizes": [ 8, 16 ] } } } } }
/// </code>
/// </example>
public sealed class TypedTrtBatchingOptions
{
    /// <summary>
    /// The most rows one batch holds (at most the optimization profile's maximum of the batch dimension). 0 (default)
    /// turns batching off, so an environment or command-line override can disable a configured section.
    /// </summary>
    public int MaxBatchSize { get; set; }

    /// <summary>How long the oldest request may wait for more rows (<see cref="DynamicBatchingOptions.MaxQueueDelay"/>). Default 1 ms.</summary>
    public TimeSpan MaxQueueDelay { get; set; } = TimeSpan.FromMilliseconds(1);

    /// <summary>Batch sizes that run without waiting for <see cref="MaxQueueDelay"/> once reachable (<see cref="DynamicBatchingOptions.PreferredBatchSizes"/>). Default none.</summary>
    public IList<int> PreferredBatchSizes { get; } = new List<int>();

    /// <summary>Waiting requests beyond which new ones fail at once (<see cref="DynamicBatchingOptions.MaxQueueLength"/>). Default no limit.</summary>
    public int? MaxQueueLength { get; set; }

    /// <summary>The batch dimension every input and output shares (<see cref="DynamicBatchingOptions.BatchDimension"/>). Default 0.</summary>
    public int BatchDimension { get; set; }

    /// <summary>Whether these settings turn batching on (<see cref="MaxBatchSize"/> ≥ 1).</summary>
    public bool IsEnabled => MaxBatchSize > 0;

    /// <summary>The runtime's batching options, or <see langword="null"/> when batching is off.</summary>
    public DynamicBatchingOptions? ToRuntimeOptions() => IsEnabled
        ? new DynamicBatchingOptions
        {
            MaxBatchSize = MaxBatchSize,
            MaxQueueDelay = MaxQueueDelay,
            PreferredBatchSizes = PreferredBatchSizes.Count == 0 ? null : [.. PreferredBatchSizes],
            MaxQueueLength = MaxQueueLength,
            BatchDimension = BatchDimension,
        }
        : null;
}
