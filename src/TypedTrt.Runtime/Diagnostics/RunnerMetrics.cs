using System.Diagnostics;
using System.Diagnostics.Metrics;
using TypedTrt.Runtime.Cuda;
using TypedTrt.Runtime.Engine;
using static TypedTrt.Runtime.Diagnostics.TypedTrtTelemetry;

namespace TypedTrt.Runtime.Diagnostics;

/// <summary>
/// One runner's metrics and traces (see <see cref="TypedTrtTelemetry"/> for the names): the library's one
/// <see cref="Meter"/> and <see cref="ActivitySource"/>, this runner's tags, its count of requests in flight and the
/// first sticky CUDA error it saw. The runner calls it at a handful of points (acquire, slot taken, run start, run end,
/// slot returned, stage times; with dynamic batching, per request at queue, batch formation and completion, while the
/// batch's slot reports only its batch size); every call checks whether anyone listens before it does any work, so with no listener
/// a request costs two interlocked operations and a few field reads, and allocates nothing.
/// </summary>
internal sealed class RunnerMetrics
{
    private static readonly string? Version = typeof(RunnerMetrics).Assembly.GetName().Version?.ToString();

    internal static readonly Meter Meter = new(MeterName, Version);
    internal static readonly ActivitySource Source = new(ActivitySourceName, Version);

    private static readonly Counter<long> RequestCounter = Meter.CreateCounter<long>(
        Requests, "{request}", "Requests that ended: succeeded, failed, or rejected before they ran.");

    private static readonly Counter<long> FailureCounter = Meter.CreateCounter<long>(
        Failures, "{request}", "Requests that failed, by error.type (canceled, invalid_input, disposed, cuda, cuda_sticky, engine, queue_full).");

    private static readonly Histogram<double> DurationHistogram = Meter.CreateHistogram<double>(
        RequestDuration, "s", "From asking for a slot (or a later RunAsync on the same lease) to the run's completion.",
        tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets() });

    private static readonly Histogram<double> QueueWaitHistogram = Meter.CreateHistogram<double>(
        QueueWait, "s", "Time a request waited for a free slot.",
        tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets() });

    private static readonly Histogram<long> BatchHistogram = Meter.CreateHistogram<long>(
        BatchSize, "{row}", "Rows per enqueue (dimension 0 of the first dynamic input; with dynamic batching, the formed batch).",
        tags: null, advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024] });

    private static readonly Histogram<double> StageHistogram = Meter.CreateHistogram<double>(
        StageDuration, "s", "Per-request stage times while stage profiling is on: h2d, compute, d2h, and the stream's idle gap between requests.",
        tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets() });

    private static readonly object LiveLock = new();
    private static RunnerMetrics[] s_live = [];

    private readonly InferenceRunner _runner;
    private readonly KeyValuePair<string, object?>[] _tags;
    private readonly KeyValuePair<string, object?>[][] _stageTags;
    private int _active;
    private CudaException? _sticky;

#pragma warning disable CA1823 // kept alive by the meter; read through their callbacks
    private static readonly ObservableUpDownCounter<int> InFlightCounter = Meter.CreateObservableUpDownCounter(
        InFlight, ObserveInFlight, "{request}", "Requests waiting for a slot or holding one.");

    private static readonly ObservableGauge<double> UtilizationGauge = Meter.CreateObservableGauge(
        SlotUtilization, ObserveUtilization, "1", "Fraction of the runner's slots that are leased.");
#pragma warning restore CA1823

    internal RunnerMetrics(InferenceRunner runner, IInferenceEngine engine, string? name, IReadOnlyList<int> deviceOrdinals)
    {
        _runner = runner;
        Model = string.IsNullOrEmpty(name) ? DefaultModelName(engine) : name;
        Backend = BackendName(engine);
        Device = engine.Placement == BufferPlacement.Device ? $"cuda:{string.Join(",", deviceOrdinals)}" : "cpu"; // several devices: cuda:0,1
        _tags = [new(ModelTag, Model), new(BackendTag, Backend), new(DeviceTag, Device)];
        _stageTags = new KeyValuePair<string, object?>[4][];
        string[] stages = ["h2d", "compute", "d2h", "idle"];
        for (int i = 0; i < stages.Length; i++)
            _stageTags[i] = [.. _tags, new(StageTag, stages[i])];
        BatchInputIndex = -1;
        var tensors = engine.Signature.Tensors;
        for (int i = 0; i < tensors.Count && BatchInputIndex < 0; i++)
        {
            if (tensors[i].Mode == Manifest.TensorMode.Input && tensors[i].Rank > 0 && tensors[i].Shape[0] < 0)
                BatchInputIndex = i;
        }

        lock (LiveLock)
            s_live = [.. s_live, this];
    }

    /// <summary>The <see cref="TypedTrtTelemetry.ModelTag"/> value.</summary>
    internal string Model { get; }

    /// <summary>The <see cref="TypedTrtTelemetry.BackendTag"/> value.</summary>
    internal string Backend { get; }

    /// <summary>The <see cref="TypedTrtTelemetry.DeviceTag"/> value.</summary>
    internal string Device { get; }

    /// <summary>The input whose dimension 0 is reported as the batch size, or -1.</summary>
    internal int BatchInputIndex { get; }

    /// <summary>Requests waiting for a slot or holding one.</summary>
    internal int Active => Volatile.Read(ref _active);

    /// <summary>The first sticky CUDA error a request of this runner failed with.</summary>
    internal CudaException? StickyError => Volatile.Read(ref _sticky);

    /// <summary>Whether per-request timestamps are needed (a duration histogram or the activity source is listened to).</summary>
    internal static bool Timing => DurationHistogram.Enabled || QueueWaitHistogram.Enabled || Source.HasListeners();

    /// <summary>Whether stage times are recorded.</summary>
    internal static bool StagesEnabled => StageHistogram.Enabled;

    /// <summary>A request asks for a slot. Returns its start timestamp, or 0 when nobody measures time.</summary>
    internal long OnAcquireStart()
    {
        Interlocked.Increment(ref _active);
        return Timing ? Stopwatch.GetTimestamp() : 0;
    }

    /// <summary>Asking for a slot failed (cancelled, disposed): the request ends without running.</summary>
    internal void OnAcquireFailed(Exception error)
    {
        Interlocked.Decrement(ref _active);
        RecordRejected(error);
    }

    /// <summary>A slot went back to the runner: the request holding it has ended.</summary>
    internal void OnSlotReturned() => Interlocked.Decrement(ref _active);

    /// <summary>A slot was granted: records the queue wait and starts the request's timing and trace.</summary>
    internal void OnTaken(ref RequestState request, long start)
    {
        request = default;
        if (start == 0)
            return;
        long now = Stopwatch.GetTimestamp();
        request.Start = start;
        request.Acquired = now;
        if (QueueWaitHistogram.Enabled)
            QueueWaitHistogram.Record(Stopwatch.GetElapsedTime(start, now).TotalSeconds, _tags);
        if (Source.HasListeners())
        {
            request.Traced = true;
            request.Parent = Activity.Current?.Context ?? default;
        }
    }

    /// <summary>A run starts on the slot (<paramref name="rows"/>: the batch size, or -1).</summary>
    internal void OnRunStart(ref RequestState request, long rows)
    {
        if (rows > 0 && BatchHistogram.Enabled)
            BatchHistogram.Record(rows, _tags);
        if (request.Start == 0)
        {
            // A later run on the same lease (or timing was off when the slot was taken): time it from now.
            if (!Timing)
                return;
            request.Start = Stopwatch.GetTimestamp();
            request.Acquired = 0;
            if (Source.HasListeners())
            {
                request.Traced = true;
                request.Parent = Activity.Current?.Context ?? default;
            }
        }

        request.RunStart = Stopwatch.GetTimestamp();
    }

    /// <summary>A run ended: <paramref name="error"/> or a failed stream <paramref name="cudaStatus"/>, or success.</summary>
    internal void OnRunEnd(ref RequestState request, Exception? error, int cudaStatus)
    {
        try
        {
            if (error is null && cudaStatus != 0)
                error = new CudaException(cudaStatus, "the request's stream work (H2D copies, engine enqueue, D2H copies)");
            string? kind = error is null ? null : Classify(error);
            RequestCounter.Add(1, _tags);
            if (kind is not null)
                RecordFailure(kind, error!);
            if (request.Start != 0)
            {
                long end = Stopwatch.GetTimestamp();
                if (DurationHistogram.Enabled)
                    DurationHistogram.Record(Stopwatch.GetElapsedTime(request.Start, end).TotalSeconds, _tags);
                if (request.Traced)
                    EmitSpan(in request, end, kind, error);
            }
        }
#pragma warning disable CA1031 // a listener's exception must never break the request's completion
        catch (Exception)
#pragma warning restore CA1031
        {
        }

        request = default;
    }

    /// <summary>
    /// Dynamic batching: a request joined the batch queue at <paramref name="enqueuedAt"/>. It counts as active until
    /// <see cref="OnBatchRequestEnd"/>; its queue wait, duration and span are its own, not its batch's.
    /// </summary>
    internal void OnBatchRequestQueued(ref RequestState request, long enqueuedAt)
    {
        Interlocked.Increment(ref _active);
        request = default;
        if (!Timing)
            return;
        request.Start = enqueuedAt;
        if (Source.HasListeners())
        {
            request.Traced = true;
            request.Parent = Activity.Current?.Context ?? default;
        }
    }

    /// <summary>Dynamic batching: a request counted by <see cref="OnBatchRequestQueued"/> was refused after all (counted as rejected with <paramref name="error"/>, if given).</summary>
    internal void OnBatchRequestNotQueued(Exception? error)
    {
        Interlocked.Decrement(ref _active);
        if (error is not null)
            RecordRejected(error);
    }

    /// <summary>Dynamic batching: the request was taken into a batch at <paramref name="now"/> (its queue wait ends).</summary>
    internal void OnBatchRequestFormed(ref RequestState request, long now)
    {
        if (request.Start == 0)
            return;
        request.Acquired = now;
        request.RunStart = now;
        if (QueueWaitHistogram.Enabled)
            QueueWaitHistogram.Record(Stopwatch.GetElapsedTime(request.Start, now).TotalSeconds, _tags);
    }

    /// <summary>Dynamic batching: the request ended (its batch's result, its cancellation, or the runner's disposal).</summary>
    internal void OnBatchRequestEnd(ref RequestState request, Exception? error, bool counted = false)
    {
        if (!counted)
            Interlocked.Decrement(ref _active);
        OnRunEnd(ref request, error, 0);
    }

    /// <summary>Dynamic batching: <paramref name="n"/> requests are about to end together (a completion chain); they then end with <c>counted: true</c>.</summary>
    internal void OnBatchRequestsEnding(int n) => Interlocked.Add(ref _active, -n);

    /// <summary>A request was refused before it ran (bad shape, cancelled, disposed): counts it as a request and a failure.</summary>
    internal void RecordRejected(Exception error)
    {
        RequestCounter.Add(1, _tags);
        RecordFailure(Classify(error), error);
    }

    /// <summary><see cref="RecordRejected"/>, returning the exception for a <c>throw</c>.</summary>
    internal T Rejected<T>(T error)
        where T : Exception
    {
        RecordRejected(error);
        return error;
    }

    /// <summary>Rows of a batch that ran as one enqueue (for batchers that do not go through <see cref="OnRunStart"/>).</summary>
    internal void RecordBatchSize(long rows)
    {
        if (BatchHistogram.Enabled)
            BatchHistogram.Record(rows, _tags);
    }

    /// <summary>Stage times of one profiled request, in microseconds (negative: not measured).</summary>
    internal void RecordStages(double h2dUs, double computeUs, double d2hUs, double idleUs)
    {
        if (!StageHistogram.Enabled)
            return;
        if (_runner.Placement == BufferPlacement.Device)
        {
            StageHistogram.Record(h2dUs / 1e6, _stageTags[0]);
            StageHistogram.Record(d2hUs / 1e6, _stageTags[2]);
        }

        StageHistogram.Record(computeUs / 1e6, _stageTags[1]);
        if (idleUs >= 0)
            StageHistogram.Record(idleUs / 1e6, _stageTags[3]);
    }

    /// <summary>The runner is being disposed: its observable instruments stop reporting it.</summary>
    internal void Unregister()
    {
        lock (LiveLock)
            s_live = Array.FindAll(s_live, m => !ReferenceEquals(m, this));
    }

    /// <summary>The <see cref="TypedTrtTelemetry.ErrorTypes"/> value of a failure.</summary>
    internal static string Classify(Exception error) => error switch
    {
        OperationCanceledException => ErrorTypes.Canceled,
        Batching.BatchQueueFullException => ErrorTypes.QueueFull,
        ObjectDisposedException => ErrorTypes.Disposed,
        CudaException { IsSticky: true } => ErrorTypes.CudaSticky,
        CudaException => ErrorTypes.Cuda,
        ArgumentException => ErrorTypes.InvalidInput,
        _ => ErrorTypes.Engine,
    };

    private void RecordFailure(string kind, Exception error)
    {
        if (kind == ErrorTypes.CudaSticky)
            Interlocked.CompareExchange(ref _sticky, (CudaException)error, null);
        if (FailureCounter.Enabled)
        {
            var tags = new TagList(_tags) { { ErrorTypeTag, kind } };
            FailureCounter.Add(1, in tags);
        }
    }

    private void EmitSpan(in RequestState request, long end, string? kind, Exception? error)
    {
        // The span is created when the request ends, with the start time and events it measured: nothing about it
        // exists before (no allocation while waiting), and Activity.Current of the caller is never touched.
        DateTime nowUtc = DateTime.UtcNow;
        DateTime At(long ts) => nowUtc - Stopwatch.GetElapsedTime(ts, end);
        using var activity = Source.StartActivity(InferActivityName, ActivityKind.Internal, request.Parent, _tags, links: null, startTime: At(request.Start));
        if (activity is null)
            return;
        activity.DisplayName = $"infer {Model}";
        if (request.Acquired != 0)
        {
            activity.AddEvent(new ActivityEvent("slot.acquired", At(request.Acquired), new ActivityTagsCollection
            {
                ["queue_wait_us"] = Stopwatch.GetElapsedTime(request.Start, request.Acquired).TotalMicroseconds,
            }));
        }

        if (request.RunStart != 0)
            activity.AddEvent(new ActivityEvent("run", At(request.RunStart)));
        if (kind is not null)
        {
            activity.SetTag(ErrorTypeTag, kind);
            activity.SetStatus(ActivityStatusCode.Error, error?.Message);
        }

        activity.SetEndTime(nowUtc);
    }

    private static IEnumerable<Measurement<int>> ObserveInFlight()
    {
        var live = Volatile.Read(ref s_live);
        var list = new List<Measurement<int>>(live.Length);
        foreach (var m in live)
            list.Add(new Measurement<int>(m.Active, m._tags));
        return list;
    }

    private static IEnumerable<Measurement<double>> ObserveUtilization()
    {
        var live = Volatile.Read(ref s_live);
        var list = new List<Measurement<double>>(live.Length);
        foreach (var m in live)
            list.Add(new Measurement<double>((double)m._runner.LeasedSlots / m._runner.SlotCount, m._tags));
        return list;
    }

    private static string DefaultModelName(IInferenceEngine engine)
    {
        string file = engine.Signature.Source.FileName;
        string name = Path.GetFileNameWithoutExtension(file);
        return name.Length > 0 ? name : file;
    }

    // TensorRtEngine -> "tensorrt", OnnxRuntimeEngine -> "onnxruntime", NvrtcTestEngine -> "nvrtctest".
    private static string BackendName(IInferenceEngine engine)
    {
        string type = engine.GetType().Name;
        if (type.EndsWith("Engine", StringComparison.Ordinal) && type.Length > "Engine".Length)
            type = type[..^"Engine".Length];
#pragma warning disable CA1308 // a lower-case tag value, not a comparison
        return type.ToLowerInvariant();
#pragma warning restore CA1308
    }

    // 50 µs .. 10 s, roughly ×2: inference latencies are far below the default buckets' 5 ms resolution.
    private static double[] LatencyBuckets() =>
        [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
}

/// <summary>Per-request telemetry state kept in the slot: timestamps (Stopwatch ticks, 0 = not measured) and the trace parent.</summary>
[System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Auto)]
internal struct RequestState
{
    public long Start;
    public long Acquired;
    public long RunStart;
    public bool Traced;
    public ActivityContext Parent;
}
