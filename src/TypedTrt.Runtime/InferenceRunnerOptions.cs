using TypedTrt.Runtime.Batching;
using TypedTrt.Runtime.Engine;

namespace TypedTrt.Runtime;

/// <summary>Options of an <see cref="InferenceRunner"/>.</summary>
public sealed class InferenceRunnerOptions
{
    /// <summary>
    /// The value of <see cref="Devices"/> that means every device the driver shows this process (<c>cuDeviceGetCount</c>,
    /// after <c>CUDA_VISIBLE_DEVICES</c>), resolved when the runner starts. An empty list.
    /// </summary>
    public static IReadOnlyList<int> AllVisibleDevices { get; } = [];

    /// <summary>Number of slots (streams) per device, each with its own execution context and buffers. Default 2.</summary>
    public int Streams { get; init; } = 2;

    /// <summary>
    /// The model's name in metrics and traces (the <c>model</c> tag, see <see cref="Diagnostics.TypedTrtTelemetry"/>).
    /// Default: the model file's name without extension.
    /// </summary>
    public string? Name { get; init; }

    /// <summary>The optimization profile every slot uses. Default 0.</summary>
    public int ProfileIndex { get; init; }

    /// <summary>CUDA device ordinal for device engines when <see cref="Devices"/> is <see langword="null"/>. Default 0.</summary>
    public int DeviceOrdinal { get; init; }

    /// <summary>
    /// The CUDA devices the runner spreads its slots over: <see cref="Streams"/> slots on each, each device with its own
    /// primary context, engine, streams and buffers; a request goes to the least-loaded device that has a free slot.
    /// <see langword="null"/> (default): the one device <see cref="DeviceOrdinal"/>. <see cref="AllVisibleDevices"/>
    /// (empty): every visible device. Ordinals must be distinct and non-negative. Device engines on more than one
    /// device need <see cref="EngineFactory"/> (or the <see cref="InferenceRunner(Func{int, IInferenceEngine}, InferenceRunnerOptions?)"/>
    /// constructor), because an engine is bound to the device it was created on. Host engines ignore devices: the
    /// runner still groups slots per listed ordinal (one engine serves all), and "all visible" is one group.
    /// </summary>
    public IReadOnlyList<int>? Devices { get; init; }

    /// <summary>
    /// Creates the engine of one device (argument: the device ordinal), e.g.
    /// <c>d =&gt; TensorRtEngine.Load(plan, signature, new() { DeviceOrdinal = d })</c>. With the
    /// <see cref="InferenceRunner(IInferenceEngine, InferenceRunnerOptions?)"/> constructor (what generated runners
    /// call), the engine passed there serves the first device of <see cref="Devices"/> and the factory is called for
    /// each further device; with one device it is never called. The runner owns the engines the factory returns and
    /// disposes them after its slots. Every engine must have the first engine's signature (tensors and profiles).
    /// </summary>
    public Func<int, IInferenceEngine>? EngineFactory { get; init; }

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
