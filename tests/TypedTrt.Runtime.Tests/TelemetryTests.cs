using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using TypedTrt.Runtime.Cuda;
using TypedTrt.Runtime.Diagnostics;
using Xunit;

namespace TypedTrt.Runtime.Tests;

/// <summary>
/// The runner's metrics and traces, read with a real <see cref="MeterListener"/> and <see cref="ActivityListener"/>.
/// Every test names its runner uniquely and only looks at measurements tagged with that name, so tests running in
/// parallel do not see each other's requests. Listeners are process-wide and would make other tests' requests record
/// (and allocate), so this collection runs alone.
/// </summary>
[Collection(nameof(TelemetryTests))]
[CollectionDefinition(nameof(TelemetryTests), DisableParallelization = true)]
public sealed class TelemetryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string UniqueName() => "m" + Guid.NewGuid().ToString("N")[..12];

    private static async Task RunAsync(InferenceRunner runner, int batch, float a0 = 1, CancellationToken ct = default)
    {
        using var lease = await runner.AcquireAsync(ct);
        lease.SetInputShape(0, [batch, FakeEngine.Width]);
        lease.SetInputShape(1, [batch, FakeEngine.Width]);
        lease.GetInputSpan<float>(0)[0] = a0;
        lease.GetInputSpan<float>(2)[0] = 1;
        await lease.RunAsync(ct);
    }

    [Fact]
    public async Task EveryInstrumentIsPublishedOnTheTypedTrtMeter()
    {
        using var engine = new FakeEngine();
        var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Name = UniqueName() });
        var names = new ConcurrentDictionary<string, string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (i, _) =>
        {
            if (i.Meter.Name == TypedTrtTelemetry.MeterName)
                names[i.Name] = i.Unit ?? "";
        };
        listener.Start();
        await runner.DisposeAsync();

        Assert.Equal("{request}", names[TypedTrtTelemetry.Requests]);
        Assert.Equal("{request}", names[TypedTrtTelemetry.Failures]);
        Assert.Equal("s", names[TypedTrtTelemetry.RequestDuration]);
        Assert.Equal("s", names[TypedTrtTelemetry.QueueWait]);
        Assert.Equal("{request}", names[TypedTrtTelemetry.InFlight]);
        Assert.Equal("1", names[TypedTrtTelemetry.SlotUtilization]);
        Assert.Equal("{row}", names[TypedTrtTelemetry.BatchSize]);
        Assert.Equal("s", names[TypedTrtTelemetry.StageDuration]);
        Assert.Equal(8, names.Count);
    }

    [Fact]
    public async Task SuccessfulRequests_CountDurationQueueWaitAndBatchSize_WithModelBackendDeviceTags()
    {
        string name = UniqueName();
        using var rec = new Recorder(name);
        using var engine = new FakeEngine();
        await using (var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Name = name, Streams = 2 }))
        {
            Assert.Equal(name, runner.Name);
            await RunAsync(runner, 3, ct: Ct);
            await RunAsync(runner, 5, ct: Ct);
            await RunAsync(runner, 5, ct: Ct);
        }

        Assert.Equal(3, rec.Sum(TypedTrtTelemetry.Requests));
        Assert.Equal(0, rec.Sum(TypedTrtTelemetry.Failures));
        var durations = rec.Values(TypedTrtTelemetry.RequestDuration);
        Assert.Equal(3, durations.Count);
        Assert.All(durations, d => Assert.InRange(d, 0, 10));
        Assert.Equal(3, rec.Values(TypedTrtTelemetry.QueueWait).Count);
        Assert.Equal([3, 5, 5], rec.Values(TypedTrtTelemetry.BatchSize).Order().ToArray());
        var tags = rec.Tags(TypedTrtTelemetry.Requests).First();
        Assert.Equal(name, tags[TypedTrtTelemetry.ModelTag]);
        Assert.Equal("fake", tags[TypedTrtTelemetry.BackendTag]);
        Assert.Equal("cpu", tags[TypedTrtTelemetry.DeviceTag]);
    }

    [Fact]
    public async Task ModelTag_DefaultsToTheModelFileName()
    {
        using var engine = new FakeEngine();
        await using var runner = new InferenceRunner(engine);
        Assert.Equal("fake", runner.Name); // fake.engine
    }

    [Fact]
    public async Task QueueWait_MeasuresTheTimeSpentWaitingForASlot()
    {
        string name = UniqueName();
        using var rec = new Recorder(name);
        using var engine = new FakeEngine();
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Name = name, Streams = 1 });
        var held = await runner.AcquireAsync(Ct);
        var waiting = runner.AcquireAsync(Ct).AsTask();
        await Task.Delay(100, Ct);
        Assert.False(waiting.IsCompleted);
        held.Dispose();
        (await waiting).Dispose();
        var waits = rec.Values(TypedTrtTelemetry.QueueWait).Order().ToArray();
        Assert.Equal(2, waits.Length);
        Assert.True(waits[0] < 0.05, $"the first acquire found a free slot but waited {waits[0]} s");
        Assert.True(waits[1] >= 0.09, $"the second acquire waited ~100 ms for the slot; recorded {waits[1]} s");
    }

    [Fact]
    public async Task Failures_AreCountedByKind()
    {
        string name = UniqueName();
        using var rec = new Recorder(name);
        using var engine = new FakeEngine();
        var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Name = name, Streams = 1 });

        // engine: the backend throws
        await Assert.ThrowsAsync<InvalidOperationException>(() => RunAsync(runner, 2, FakeEngine.FailValue, Ct));

        // invalid_input: a shape outside the profile, rejected before anything runs
        using (var lease = await runner.AcquireAsync(Ct))
            Assert.Throws<ArgumentException>(() => lease.SetInputShape(0, [9, FakeEngine.Width]));

        // canceled: while waiting for the only slot
        var held = await runner.AcquireAsync(Ct);
        using (var cts = new CancellationTokenSource())
        {
            var waiting = runner.AcquireAsync(cts.Token).AsTask();
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        }

        held.Dispose();

        // cuda: a non-sticky CUDA error from the engine
        engine.EnqueueFailure = () => new CudaException(2, "cuMemAlloc_v2");
        await Assert.ThrowsAsync<CudaException>(() => RunAsync(runner, 1, ct: Ct));
        engine.EnqueueFailure = null;

        // disposed: a request after the runner was disposed
        await runner.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => runner.AcquireAsync(Ct).AsTask());

        var byKind = rec.Tags(TypedTrtTelemetry.Failures)
            .GroupBy(t => (string)t[TypedTrtTelemetry.ErrorTypeTag]!)
            .ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(1, byKind[TypedTrtTelemetry.ErrorTypes.Engine]);
        Assert.Equal(1, byKind[TypedTrtTelemetry.ErrorTypes.InvalidInput]);
        Assert.Equal(1, byKind[TypedTrtTelemetry.ErrorTypes.Canceled]);
        Assert.Equal(1, byKind[TypedTrtTelemetry.ErrorTypes.Cuda]);
        Assert.False(byKind.ContainsKey(TypedTrtTelemetry.ErrorTypes.CudaSticky));
        Assert.Null(runner.StickyError);
        // Every failure is also a request; the disposed acquire was refused before it counted anywhere else.
        Assert.True(rec.Sum(TypedTrtTelemetry.Requests) >= rec.Sum(TypedTrtTelemetry.Failures));
    }

    [Fact]
    public async Task StickyCudaError_IsCountedAndRemembered()
    {
        string name = UniqueName();
        using var rec = new Recorder(name);
        using var engine = new FakeEngine { EnqueueFailure = () => new CudaException(700, "cuLaunchKernel") };
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Name = name });
        Assert.Null(runner.StickyError);
        var ex = await Assert.ThrowsAsync<CudaException>(() => RunAsync(runner, 1, ct: Ct));
        Assert.True(ex.IsSticky);
        Assert.Same(ex, runner.StickyError);
        var kinds = rec.Tags(TypedTrtTelemetry.Failures).Select(t => t[TypedTrtTelemetry.ErrorTypeTag]).ToArray();
        Assert.Equal([TypedTrtTelemetry.ErrorTypes.CudaSticky], kinds);
    }

    [Fact]
    public async Task InFlightAndSlotUtilization_AreObservedWhenCollected()
    {
        string name = UniqueName();
        using var rec = new Recorder(name);
        using var engine = new FakeEngine();
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Name = name, Streams = 2 });
        rec.Collect();
        Assert.Equal(0, rec.Last(TypedTrtTelemetry.InFlight));
        Assert.Equal(0, rec.Last(TypedTrtTelemetry.SlotUtilization));

        var a = await runner.AcquireAsync(Ct);
        rec.Collect();
        Assert.Equal(1, rec.Last(TypedTrtTelemetry.InFlight));
        Assert.Equal(0.5, rec.Last(TypedTrtTelemetry.SlotUtilization));

        var b = await runner.AcquireAsync(Ct);
        var waiting = runner.AcquireAsync(Ct).AsTask();
        rec.Collect();
        Assert.Equal(3, rec.Last(TypedTrtTelemetry.InFlight));
        Assert.Equal(3, runner.ActiveRequests);
        Assert.Equal(1.0, rec.Last(TypedTrtTelemetry.SlotUtilization));

        a.Dispose();
        b.Dispose();
        (await waiting).Dispose();
        rec.Collect();
        Assert.Equal(0, rec.Last(TypedTrtTelemetry.InFlight));
        Assert.Equal(0, runner.ActiveRequests);
        Assert.Equal(0, rec.Last(TypedTrtTelemetry.SlotUtilization));
    }

    [Fact]
    public async Task ConveniencePath_IsMeasuredLikeLeases()
    {
        string name = UniqueName();
        using var rec = new Recorder(name);
        using var engine = new FakeEngine();
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Name = name });
        var inputs = new[]
        {
            InferenceInput.Create<float>(0, new float[8], [2, FakeEngine.Width]),
            InferenceInput.Create<int>(1, new int[8], [2, FakeEngine.Width]),
            InferenceInput.Create<float>(2, [1f]),
        };
        await runner.RunAsync(inputs, Ct);
        Assert.Equal(1, rec.Sum(TypedTrtTelemetry.Requests));
        Assert.Single(rec.Values(TypedTrtTelemetry.RequestDuration));
        Assert.Equal(0, runner.ActiveRequests);
    }

    [Fact]
    public async Task StageDurations_AreRecordedOnlyWhileProfiling()
    {
        string name = UniqueName();
        using var rec = new Recorder(name);
        using var engine = new FakeEngine { Delay = TimeSpan.FromMilliseconds(2) };
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Name = name, Streams = 1 });
        await RunAsync(runner, 1, ct: Ct);
        Assert.Empty(rec.Values(TypedTrtTelemetry.StageDuration));
        runner.StartProfiling();
        await RunAsync(runner, 1, ct: Ct);
        await RunAsync(runner, 1, ct: Ct);
        runner.StopProfiling();
        var stages = rec.Tags(TypedTrtTelemetry.StageDuration).Select(t => (string)t[TypedTrtTelemetry.StageTag]!).ToArray();
        // host engine: the run is the compute stage; the idle gap exists from the second profiled request on
        Assert.Equal(2, stages.Count(s => s == "compute"));
        Assert.Equal(1, stages.Count(s => s == "idle"));
        Assert.All(rec.Values(TypedTrtTelemetry.StageDuration, "compute"), v => Assert.True(v >= 0.0019, $"compute {v} s < the engine's 2 ms"));
    }

    [Fact]
    public async Task Tracing_OneSpanPerRequest_WithQueueWaitAndRunEvents_UnderTheCallersSpan()
    {
        string name = UniqueName();
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == TypedTrtTelemetry.ActivitySourceName || s.Name == "test-parent",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                if (a.Source.Name == TypedTrtTelemetry.ActivitySourceName && (string?)a.GetTagItem(TypedTrtTelemetry.ModelTag) == name)
                    spans.Enqueue(a);
            },
        };
        ActivitySource.AddActivityListener(listener);
        using var parentSource = new ActivitySource("test-parent");
        using var engine = new FakeEngine();
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Name = name });

        using (var parent = parentSource.StartActivity("request"))
        {
            Assert.NotNull(parent);
            await RunAsync(runner, 2, ct: Ct);
            Assert.Same(parent, Activity.Current); // the runner never changes the caller's current activity
            await Assert.ThrowsAsync<InvalidOperationException>(() => RunAsync(runner, 1, FakeEngine.FailValue, Ct));

            Assert.Equal(2, spans.Count);
            var ok = spans.First();
            Assert.Equal(TypedTrtTelemetry.InferActivityName, ok.OperationName);
            Assert.Equal(parent.TraceId, ok.TraceId);
            Assert.Equal(parent.SpanId, ok.ParentSpanId);
            Assert.Equal(["slot.acquired", "run"], ok.Events.Select(e => e.Name).ToArray());
            Assert.True(ok.StartTimeUtc <= ok.Events.First().Timestamp.UtcDateTime);
            Assert.True(ok.Duration > TimeSpan.Zero);
            Assert.Equal(ActivityStatusCode.Unset, ok.Status);
            var failed = spans.Last();
            Assert.Equal(ActivityStatusCode.Error, failed.Status);
            Assert.Equal(TypedTrtTelemetry.ErrorTypes.Engine, failed.GetTagItem(TypedTrtTelemetry.ErrorTypeTag));
        }
    }

    [Fact]
    public async Task WithAMetricsListener_LeaseRequestsStillAllocateNothing()
    {
        // A listener that sums every measurement without allocating: what the runner itself allocates per request with
        // every metric enabled (counters, histograms with their tag arrays) must be nothing.
        long count = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (i, l) =>
        {
            if (i.Meter.Name == TypedTrtTelemetry.MeterName)
                l.EnableMeasurementEvents(i);
        };
        listener.SetMeasurementEventCallback<long>((_, _, _, _) => Interlocked.Increment(ref count));
        listener.SetMeasurementEventCallback<double>((_, _, _, _) => Interlocked.Increment(ref count));
        listener.Start();
        using var engine = new FakeEngine();
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Name = UniqueName(), Streams = 1 });
        long[] shape = [1, FakeEngine.Width];
        async Task Loop(int n)
        {
            for (int i = 0; i < n; i++)
            {
                using var lease = await runner.AcquireAsync(CancellationToken.None).ConfigureAwait(false);
                lease.SetInputShape(0, shape);
                lease.SetInputShape(1, shape);
                await lease.RunAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }

        async Task<long> Measure()
        {
            await Loop(2000).ConfigureAwait(false);
            long before = GC.GetTotalAllocatedBytes(precise: true);
            await Loop(10_000).ConfigureAwait(false);
            return (GC.GetTotalAllocatedBytes(precise: true) - before) / 10_000;
        }

        Task<long> measured;
        using (ExecutionContext.SuppressFlow())
            measured = Task.Run(Measure, CancellationToken.None);
        long perRequest = await measured;
        Assert.True(perRequest == 0, $"{perRequest} bytes per request with a metrics listener");
        Assert.True(Interlocked.Read(ref count) >= 12_000 * 4, $"only {count} measurements for 12,000 requests");
    }

    /// <summary>Records every TypedTrt measurement tagged with one model name.</summary>
    [Fact]
    public async Task DynamicBatching_CountsEveryRequestNotEveryBatch()
    {
        // 9 single-row requests in 3 batches (1, then 4 + 4): requests, durations and queue waits are per request,
        // the batch-size histogram per batch, and in-flight counts the requests waiting in the queue.
        string name = UniqueName();
        using var rec = new Recorder(name);
        var engine = new RowEngine { Gate = new ManualResetEventSlim() };
        var runner = new InferenceRunner(engine, new InferenceRunnerOptions
        {
            Name = name,
            Streams = 1,
            HostExecution = HostExecution.ThreadPool,
            Batching = new Batching.DynamicBatchingOptions { MaxBatchSize = 4, MaxQueueDelay = TimeSpan.Zero, MaxQueueLength = 8 },
        });
        static InferenceInput[] Row(long id) => [InferenceInput.Create<float>(0, [1f], [1, 1]), InferenceInput.Create<long>(1, [id], [1])];
        var first = runner.RunAsync(Row(1), Ct).AsTask();
        Assert.True(await engine.Entered.WaitAsync(TimeSpan.FromSeconds(30), Ct));
        var rest = Enumerable.Range(0, 8).Select(i => runner.RunAsync(Row(10 + i), Ct).AsTask()).ToArray();
        await Assert.ThrowsAsync<Batching.BatchQueueFullException>(() => runner.RunAsync(Row(99), Ct).AsTask()); // the 9th waiting one
        Assert.Equal(9, runner.ActiveRequests); // one running, eight queued
        rec.Collect();
        Assert.Equal(9, rec.Last(TypedTrtTelemetry.InFlight));
        engine.Gate.Set();
        await first;
        await Task.WhenAll(rest);
        await runner.DisposeAsync();

        Assert.Equal(0, runner.ActiveRequests);
        Assert.Equal(10, rec.Sum(TypedTrtTelemetry.Requests)); // 9 ran, 1 rejected
        Assert.Equal(1, rec.Sum(TypedTrtTelemetry.Failures));
        Assert.Equal(TypedTrtTelemetry.ErrorTypes.QueueFull, rec.Tags(TypedTrtTelemetry.Failures).Single()[TypedTrtTelemetry.ErrorTypeTag]);
        Assert.Equal(9, rec.Values(TypedTrtTelemetry.RequestDuration).Count);
        Assert.Equal(9, rec.Values(TypedTrtTelemetry.QueueWait).Count);
        Assert.Equal([1, 4, 4], rec.Values(TypedTrtTelemetry.BatchSize).Order().ToArray());
    }

    private sealed class Recorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly string _model;
        private readonly ConcurrentQueue<(string Instrument, double Value, Dictionary<string, object?> Tags)> _measurements = new();

        public Recorder(string model)
        {
            _model = model;
            _listener.InstrumentPublished = (i, l) =>
            {
                if (i.Meter.Name == TypedTrtTelemetry.MeterName)
                    l.EnableMeasurementEvents(i);
            };
            _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i, v, tags));
            _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Add(i, v, tags));
            _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i, v, tags));
            _listener.Start();
        }

        private void Add(Instrument i, double v, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var d = new Dictionary<string, object?>();
            foreach (var t in tags)
                d[t.Key] = t.Value;
            if (d.TryGetValue(TypedTrtTelemetry.ModelTag, out var m) && (string?)m == _model)
                _measurements.Enqueue((i.Name, v, d));
        }

        public void Collect() => _listener.RecordObservableInstruments();

        public double Sum(string instrument) => _measurements.Where(m => m.Instrument == instrument).Sum(m => m.Value);

        public List<double> Values(string instrument, string? stage = null) =>
            _measurements.Where(m => m.Instrument == instrument && (stage is null || (string?)m.Tags.GetValueOrDefault(TypedTrtTelemetry.StageTag) == stage))
                .Select(m => m.Value).ToList();

        public List<Dictionary<string, object?>> Tags(string instrument) =>
            _measurements.Where(m => m.Instrument == instrument).Select(m => m.Tags).ToList();

        public double Last(string instrument) => _measurements.Last(m => m.Instrument == instrument).Value;

        public void Dispose() => _listener.Dispose();
    }
}
