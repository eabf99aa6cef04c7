using System.Diagnostics;
using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;
using TypedTrt.Runtime.Diagnostics;
using TypedTrt.Runtime.Tests;

namespace TypedTrt.Runtime.Benchmarks;

/// <summary>
/// What the runner's metrics and traces cost per request: the whole lease request of <see cref="RunnerHotPath.FullRequest"/>
/// with nobody listening, with a <see cref="MeterListener"/> enabling every TypedTrt instrument (a non-allocating
/// callback, as an aggregating exporter would be), and with an <see cref="ActivityListener"/> sampling every span.
/// The first must allocate nothing (the hot path when nobody listens); so should the second.
/// </summary>
[MemoryDiagnoser]
public class TelemetryHotPath
{
    private const int Ops = 1000;
    private FakeEngine _engine = null!;
    private InferenceRunner _runner = null!;
    private MeterListener? _meters;
    private ActivityListener? _traces;
    private long _measurements;
    private readonly float[] _input = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];

    /// <summary>Who listens: nobody, a meter listener, or an activity listener.</summary>
    [Params("none", "metrics", "traces")]
    public string Listener { get; set; } = "none";

    [GlobalSetup]
    public void Setup()
    {
        _engine = new FakeEngine(maxBatch: 8);
        _runner = new InferenceRunner(_engine, new InferenceRunnerOptions { Streams = 2, Name = "bench" });
        if (Listener == "metrics")
        {
            _meters = new MeterListener();
            _meters.InstrumentPublished = (i, l) =>
            {
                if (i.Meter.Name == TypedTrtTelemetry.MeterName)
                    l.EnableMeasurementEvents(i);
            };
            _meters.SetMeasurementEventCallback<long>((_, _, _, _) => _measurements++);
            _meters.SetMeasurementEventCallback<double>((_, _, _, _) => _measurements++);
            _meters.Start();
        }
        else if (Listener == "traces")
        {
            _traces = new ActivityListener
            {
                ShouldListenTo = s => s.Name == TypedTrtTelemetry.ActivitySourceName,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            };
            ActivitySource.AddActivityListener(_traces);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _meters?.Dispose();
        _traces?.Dispose();
        _runner.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _engine.Dispose();
    }

    /// <summary>Lease, shapes, input copy, RunAsync, read one output, release.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public async Task FullRequest()
    {
        for (int i = 0; i < Ops; i++)
        {
            using var lease = await _runner.AcquireAsync().ConfigureAwait(false);
            lease.SetInputShape(0, [4, FakeEngine.Width]);
            lease.SetInputShape(1, [4, FakeEngine.Width]);
            _input.CopyTo(lease.GetInputSpan<float>(0));
            lease.GetInputSpan<float>(2)[0] = 2;
            await lease.RunAsync().ConfigureAwait(false);
            _ = lease.GetOutputSpan<float>(3)[0];
        }
    }
}
