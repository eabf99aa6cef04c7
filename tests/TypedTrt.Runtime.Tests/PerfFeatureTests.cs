using TypedTrt.Runtime.Diagnostics;
using Xunit;

namespace TypedTrt.Runtime.Tests;

/// <summary>Runs alone: the allocation test reads the process-wide allocation counter.</summary>
[CollectionDefinition(nameof(AllocationSensitive), DisableParallelization = true)]
public sealed class AllocationSensitive;

/// <summary>Issue 4 runner logic that runs without a GPU: lease versions, allocation-free requests, graph option fallback, profiling math, tuner choice.</summary>
[Collection(nameof(AllocationSensitive))]
public sealed class PerfFeatureTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_disposed_lease_stays_disposed_after_its_slot_is_leased_again()
    {
        using var engine = new FakeEngine();
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 1 });
        var first = await runner.AcquireAsync(Ct);
        var copy = first; // a struct: copies share the version token
        Assert.True(first.IsActive);
        first.Dispose();
        Assert.False(copy.IsActive);

        using var second = await runner.AcquireAsync(Ct); // the same slot, next version
        Assert.Equal(0, second.SlotIndex);
        Assert.NotEqual(first, second);
        Assert.Throws<ObjectDisposedException>(() => copy.GetInputSpan<float>(2));
        Assert.Throws<ObjectDisposedException>(() => first.SetInputShape(0, [1, 4]));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await copy.RunAsync(Ct));

        // Disposing the stale copy again must not return the slot that `second` holds.
        copy.Dispose();
        first.Dispose();
        Assert.True(second.IsActive);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => runner.AcquireAsync(cts.Token).AsTask());
        second.GetInputSpan<float>(2)[0] = 1; // still usable
    }

    [Fact]
    public void A_default_lease_is_disposed()
    {
        InferenceLease lease = default;
        Assert.False(lease.IsActive);
        Assert.Throws<ObjectDisposedException>(() => lease.SlotIndex);
        lease.Dispose(); // no-op
    }

    private static readonly long[] Shape = [1, 4];

    [Fact]
    public async Task Lease_requests_allocate_nothing_in_steady_state()
    {
        using var engine = new FakeEngine();
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 1 });
        async Task Loop(int n)
        {
            for (int i = 0; i < n; i++)
            {
                // ConfigureAwait(false): xunit's synchronization context would allocate a post per await.
                using var lease = await runner.AcquireAsync(CancellationToken.None).ConfigureAwait(false);
                lease.SetInputShape(0, Shape);
                lease.SetInputShape(1, Shape);
                await lease.RunAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }

        // Measured off the test framework's execution context (its async-locals and synchronization context would
        // allocate per await), on a plain thread-pool loop, as an application would run.
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
        Assert.True(perRequest == 0, $"{perRequest} bytes per request");
    }

    [Fact]
    public async Task Cuda_graph_option_on_a_host_engine_runs_the_normal_path()
    {
        using var engine = new FakeEngine();
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 2, UseCudaGraphs = true });
        Assert.True(runner.UseCudaGraphs);
        using var lease = await runner.AcquireAsync(Ct);
        lease.SetInputShape(0, [2, 4]);
        lease.SetInputShape(1, [2, 4]);
        lease.GetInputSpan<float>(0).Fill(2);
        lease.GetInputSpan<int>(1).Fill(3);
        lease.GetInputSpan<float>(2)[0] = 5;
        await lease.RunAsync(Ct);
        Assert.All(lease.GetOutputSpan<float>(3).ToArray(), v => Assert.Equal(13f, v));
        Assert.Equal(0, runner.GraphLaunchCount);
        Assert.Equal(0, runner.GraphFallbackCount);
    }

    [Fact]
    public async Task Profiling_a_host_engine_times_each_run_as_compute_and_the_idle_gaps()
    {
        using var engine = new FakeEngine { Delay = TimeSpan.FromMilliseconds(20) };
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 2 });
        Assert.Throws<InvalidOperationException>(() => runner.StopProfiling());
        runner.StartProfiling();
        for (int i = 0; i < 3; i++)
        {
            using var lease = await runner.AcquireAsync(Ct);
            lease.SetInputShape(0, [1, FakeEngine.Width]);
            lease.SetInputShape(1, [1, FakeEngine.Width]);
            await lease.RunAsync(Ct);
            await Task.Delay(30, Ct); // idle time between this slot's runs
        }

        var t = runner.StopProfiling();
        Assert.Equal(3, t.Requests);
        Assert.Equal(2, t.Streams);
        Assert.InRange(t.ComputeMicroseconds, 20_000, 2_000_000);
        Assert.Equal(0, t.H2DMicroseconds);
        Assert.Equal(0, t.D2HMicroseconds);
        Assert.Equal(0, t.H2DBytes);
        Assert.True(t.HostGapMicroseconds >= 30_000, $"gap {t.HostGapMicroseconds} µs");
        Assert.Throws<InvalidOperationException>(() => runner.StopProfiling());

        // Not profiling: nothing is collected.
        using (var lease = await runner.AcquireAsync(Ct))
        {
            lease.SetInputShape(0, [1, FakeEngine.Width]);
            lease.SetInputShape(1, [1, FakeEngine.Width]);
            await lease.RunAsync(Ct);
        }

        runner.StartProfiling();
        Assert.Equal(0, runner.StopProfiling().Requests);
    }

    [Fact]
    public void Profiling_aggregation_averages_per_request_and_gaps_per_gap()
    {
        var a = default(StageAccumulator);
        a.Add(100, 50, 10, -1); // first request of a slot: no gap
        a.Add(120, 70, 14, 20);
        var b = default(StageAccumulator);
        b.Add(80, 30, 6, 40);
        a.AddFrom(b);
        var t = InferenceRunner.Aggregate(a, streams: 2, wallSeconds: 0.001, h2dBytes: 1_000_000, d2hBytes: 1000);
        Assert.Equal(3, t.Requests);
        Assert.Equal(100, t.H2DMicroseconds, 9);
        Assert.Equal(50, t.ComputeMicroseconds, 9);
        Assert.Equal(10, t.D2HMicroseconds, 9);
        Assert.Equal(30, t.HostGapMicroseconds, 9); // (20 + 40) / 2 gaps
        Assert.Equal(10, t.H2DGigabytesPerSecond, 9); // 1 MB in 100 µs
        Assert.Equal(3000, t.Throughput, 9);
        var empty = InferenceRunner.Aggregate(default, 1, 1, 0, 0);
        Assert.Equal(0, empty.H2DMicroseconds);
        Assert.Equal(0, empty.HostGapMicroseconds);
    }

    [Fact]
    public void Tuner_recommends_the_fewest_streams_within_tolerance()
    {
        TuneResult R(int s, double rps, double p99) => new(s, 0, rps, 1, 2, p99);
        var best = TuneReport.Recommend([R(1, 4300, 270), R(2, 6360, 330), R(4, 6400, 670), R(8, 6290, 2300)], 0.03);
        Assert.Equal(2, best.Streams);
        Assert.Equal(4, TuneReport.Recommend([R(1, 100, 1), R(2, 150, 1), R(4, 300, 1)], 0.03).Streams);
        Assert.Throws<ArgumentException>(() => TuneReport.Recommend([], 0.03));
    }
}
