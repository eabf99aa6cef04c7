using TypedTrt.Runtime;

namespace TypedTrt.Hosting;

/// <summary>
/// One hosted model's settings, bound from configuration (by default the section <c>TypedTrt:Models:&lt;name&gt;</c>,
/// e.g. appsettings.json) as named options, the name being the model's.
/// </summary>
/// <example>
/// <code language="json">
/// { "TypedTrt": { "Models": { "digits": {
///     "ModelPath": "model/digits.onnx", "Backend": "onnxruntime", "Streams": 2, "Profile": 0 } } } }
/// </code>
/// </example>
public sealed class TypedTrtModelOptions
{
    /// <summary>
    /// The model or engine file. A relative path is looked up in the content root (the current directory under
    /// <c>dotnet run</c>), then next to the application (<see cref="AppContext.BaseDirectory"/>). Required.
    /// </summary>
    public string? ModelPath { get; set; }

    /// <summary>
    /// The backend that loads <see cref="ModelPath"/>: a name given to
    /// <see cref="TypedTrtServiceCollectionExtensions.AddTypedTrtBackend"/> (case-insensitive), e.g. <c>onnxruntime</c>
    /// or <c>tensorrt</c>. May be left out when exactly one backend is registered.
    /// </summary>
    public string? Backend { get; set; }

    /// <summary>Runner slots (streams). Default 2 (<see cref="InferenceRunnerOptions.Streams"/>).</summary>
    public int Streams { get; set; } = 2;

    /// <summary>The optimization profile every slot uses (<see cref="InferenceRunnerOptions.ProfileIndex"/>). Default 0.</summary>
    public int Profile { get; set; }

    /// <summary>CUDA device ordinal for device engines (<see cref="InferenceRunnerOptions.DeviceOrdinal"/>). Default 0.</summary>
    public int Device { get; set; }

    /// <summary>How device requests complete (<see cref="InferenceRunnerOptions.Completion"/>). Default polling.</summary>
    public CompletionMode Completion { get; set; } = CompletionMode.Polling;

    /// <summary>CUDA graph replay for static-shape device engines (<see cref="InferenceRunnerOptions.UseCudaGraphs"/>). Default off.</summary>
    public bool CudaGraphs { get; set; }

    /// <summary>
    /// Runs of every slot at start-up before the model reports ready (zero-filled inputs at the profile's optimal
    /// shape), so the first real request does not pay for lazy initialisation. Default 1; 0 turns warm-up off.
    /// </summary>
    public int WarmUpRuns { get; set; } = 1;

    /// <summary>
    /// Keeps stage profiling on (<see cref="InferenceRunner.StartProfiling"/>) so the <c>typedtrt.stage.duration</c>
    /// histogram reports H2D / compute / D2H / idle times. Costs four CUDA event records per device request and
    /// bypasses CUDA graphs. Default off.
    /// </summary>
    public bool StageProfiling { get; set; }

    /// <summary>
    /// Dynamic batching (section <c>Batching</c>): concurrent requests are gathered into one enqueue of up to
    /// <see cref="TypedTrtBatchingOptions.MaxBatchSize"/> rows (<see cref="InferenceRunnerOptions.Batching"/>).
    /// <see langword="null"/> (default) or <c>MaxBatchSize: 0</c>: every request is its own enqueue.
    /// </summary>
    public TypedTrtBatchingOptions? Batching { get; set; }

    /// <summary>The runner options these settings give, for a model called <paramref name="name"/>.</summary>
    public InferenceRunnerOptions ToRunnerOptions(string name) => new()
    {
        Name = name,
        Streams = Streams,
        ProfileIndex = Profile,
        DeviceOrdinal = Device,
        Completion = Completion,
        UseCudaGraphs = CudaGraphs,
        Batching = Batching?.ToRuntimeOptions(),
    };
}
