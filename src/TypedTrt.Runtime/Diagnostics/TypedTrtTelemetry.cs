namespace TypedTrt.Runtime.Diagnostics;

/// <summary>
/// Names of the runtime's <see cref="System.Diagnostics.Metrics.Meter"/>, <see cref="System.Diagnostics.ActivitySource"/>
/// and instruments, for <c>dotnet-counters monitor --counters TypedTrt</c>, OpenTelemetry's
/// <c>AddMeter(TypedTrtTelemetry.MeterName)</c> / <c>AddSource(TypedTrtTelemetry.ActivitySourceName)</c>, and
/// <see cref="System.Diagnostics.Metrics.MeterListener"/>s.
/// </summary>
/// <remarks>
/// <para>Every measurement carries the tags <see cref="ModelTag"/> (<see cref="InferenceRunnerOptions.Name"/>, default the
/// model file's name without extension), <see cref="BackendTag"/> (e.g. <c>onnxruntime</c>, <c>tensorrt</c>) and
/// <see cref="DeviceTag"/> (<c>cuda:0</c>, or <c>cpu</c> for host engines).</para>
/// <para>Nothing is measured and nothing is allocated while no listener enables an instrument; a span is created per
/// request only while an <see cref="System.Diagnostics.ActivityListener"/> samples the source.</para>
/// </remarks>
public static class TypedTrtTelemetry
{
    /// <summary>The meter's name: <c>TypedTrt</c>.</summary>
    public const string MeterName = "TypedTrt";

    /// <summary>The activity source's name: <c>TypedTrt</c>. One span per request, named <see cref="InferActivityName"/>.</summary>
    public const string ActivitySourceName = "TypedTrt";

    /// <summary>The name of the per-request span. Its events: <c>slot.acquired</c> (end of the queue wait) and <c>run</c> (enqueue).</summary>
    public const string InferActivityName = "typedtrt.infer";

    /// <summary>Counter: requests that ended (succeeded, failed, or were rejected before they ran). Unit <c>{request}</c>.</summary>
    public const string Requests = "typedtrt.requests";

    /// <summary>Counter: requests that failed, tagged with <see cref="ErrorTypeTag"/> (see <see cref="ErrorTypes"/>). Unit <c>{request}</c>.</summary>
    public const string Failures = "typedtrt.request.failures";

    /// <summary>Histogram: seconds from asking for a slot (or from a later <c>RunAsync</c> on the same lease) until the run completed.</summary>
    public const string RequestDuration = "typedtrt.request.duration";

    /// <summary>Histogram: seconds a request waited for a free slot (0 when one was free).</summary>
    public const string QueueWait = "typedtrt.queue.wait";

    /// <summary>Up-down counter: requests waiting for a slot or holding one (a lease not yet disposed). Unit <c>{request}</c>.</summary>
    public const string InFlight = "typedtrt.requests.in_flight";

    /// <summary>Observable gauge: the fraction of the runner's slots that are leased (0..1), read when collected.</summary>
    public const string SlotUtilization = "typedtrt.slots.utilization";

    /// <summary>Histogram: rows per enqueue (dimension 0 of the first dynamic input; with dynamic batching, the formed batch). Unit <c>{row}</c>.</summary>
    public const string BatchSize = "typedtrt.batch.size";

    /// <summary>Histogram, only while stage profiling is on (<see cref="InferenceRunner.StartProfiling"/>): seconds per stage, tagged <see cref="StageTag"/> = <c>h2d</c>, <c>compute</c>, <c>d2h</c> or <c>idle</c>.</summary>
    public const string StageDuration = "typedtrt.stage.duration";

    /// <summary>Tag: the model's name.</summary>
    public const string ModelTag = "model";

    /// <summary>Tag: the backend that runs the engine.</summary>
    public const string BackendTag = "backend";

    /// <summary>Tag: the device (<c>cuda:N</c> or <c>cpu</c>).</summary>
    public const string DeviceTag = "device";

    /// <summary>Tag of <see cref="Failures"/>: the kind of failure, one of <see cref="ErrorTypes"/>.</summary>
    public const string ErrorTypeTag = "error.type";

    /// <summary>Tag of <see cref="StageDuration"/>: the stage.</summary>
    public const string StageTag = "stage";

    /// <summary>The values of <see cref="ErrorTypeTag"/>.</summary>
    public static class ErrorTypes
    {
        /// <summary>Cancelled while waiting for a slot or before enqueue.</summary>
        public const string Canceled = "canceled";

        /// <summary>An input's shape or data was rejected (<see cref="ArgumentException"/>), before anything ran.</summary>
        public const string InvalidInput = "invalid_input";

        /// <summary>The runner was disposed (or being disposed) when the request came.</summary>
        public const string Disposed = "disposed";

        /// <summary>A CUDA driver call or the request's stream work failed; the context is still usable.</summary>
        public const string Cuda = "cuda";

        /// <summary>A sticky CUDA error (<see cref="Cuda.CudaException.IsSticky"/>): the CUDA context is lost and the process must be restarted.</summary>
        public const string CudaSticky = "cuda_sticky";

        /// <summary>The engine (backend) threw.</summary>
        public const string Engine = "engine";

        /// <summary>The request queue was full (dynamic batching's <c>MaxQueueLength</c>).</summary>
        public const string QueueFull = "queue_full";
    }
}
