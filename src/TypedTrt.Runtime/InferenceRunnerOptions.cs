namespace TypedTrt.Runtime;

/// <summary>Options of an <see cref="InferenceRunner"/>.</summary>
public sealed class InferenceRunnerOptions
{
    /// <summary>Number of slots (streams), each with its own execution context and buffers. Default 2.</summary>
    public int Streams { get; init; } = 2;

    /// <summary>The optimization profile every slot uses. Default 0.</summary>
    public int ProfileIndex { get; init; }

    /// <summary>CUDA device ordinal for device engines. Default 0.</summary>
    public int DeviceOrdinal { get; init; }

    /// <summary>How device requests complete. Default <see cref="CompletionMode.Polling"/> (lowest latency).</summary>
    public CompletionMode Completion { get; init; } = CompletionMode.Polling;

    /// <summary>
    /// Device engines with static shapes only: each slot captures its first request's H2D copies, enqueue and D2H
    /// copies into a CUDA graph and replays it (<c>cuGraphLaunch</c>) for later requests, cutting per-request launch
    /// overhead. If capture fails (an engine whose enqueue cannot be captured), the slot falls back to normal enqueue,
    /// as trtexec does. Ignored for engines with dynamic inputs and for host engines. Requires that the engine's
    /// enqueue does the same work every time for a given context (true of TensorRT with static shapes). Default off.
    /// </summary>
    public bool UseCudaGraphs { get; init; }
}
