using TypedTrt.Runtime.Batching;

namespace TypedTrt.Runtime;

/// <summary>Options of an <see cref="InferenceRunner"/>.</summary>
public sealed class InferenceRunnerOptions
{
    /// <summary>Number of slots (streams), each with its own execution context and buffers. Default 2.</summary>
    public int Streams { get; init; } = 2;

    /// <summary>
    /// The model's name in metrics and traces (the <c>model</c> tag, see <see cref="Diagnostics.TypedTrtTelemetry"/>).
    /// Default: the model file's name without extension.
    /// </summary>
    public string? Name { get; init; }

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

    /// <summary>
    /// Dynamic batching: concurrent requests of a few rows each are gathered into one enqueue (see
    /// <see cref="DynamicBatchingOptions"/>). <see langword="null"/> (default): every request is its own enqueue.
    /// </summary>
    public DynamicBatchingOptions? Batching { get; init; }

    /// <summary>
    /// Upper bounds for outputs whose shape is known only after the run (data-dependent outputs such as NonZero or NMS,
    /// ONNX outputs whose dims no input dim names), by output name: the largest shape the output can have. Each slot
    /// allocates that much up front, so no run has to grow the buffer; a run that needs more still grows it. Outputs
    /// without a bound start at 256 bytes and grow to the largest size seen (each slot keeps its largest buffer).
    /// Default: none.
    /// </summary>
    public IReadOnlyDictionary<string, long[]>? OutputBounds { get; init; }

    /// <summary>How host engines (<see cref="Engine.BufferPlacement.Host"/>, e.g. ONNX Runtime) run. Default <see cref="HostExecution.Inline"/>.</summary>
    public HostExecution HostExecution { get; init; } = HostExecution.Inline;
}
