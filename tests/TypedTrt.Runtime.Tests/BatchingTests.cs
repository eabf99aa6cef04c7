using TypedTrt.Runtime.Batching;
using Xunit;

// Every wait in these tests is bounded by WaitAsync(Long); the requests themselves run without a token on purpose
// (a cancellable token changes the queue path: it registers a callback).
#pragma warning disable xUnit1051

namespace TypedTrt.Runtime.Tests;

/// <summary>Dynamic batching over host engines: exact per-caller results, queue semantics, errors, statistics.</summary>
public sealed class BatchingTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    private static float X(long id, int c) => (id * 7 + c * 3) % 101;

    /// <summary>A request of <paramref name="rows"/> rows with ids firstId.. and <paramref name="len"/> columns.</summary>
    private static InferenceInput[] Request(long firstId, int rows, int len)
    {
        var x = new float[rows * len];
        var id = new long[rows];
        for (int r = 0; r < rows; r++)
        {
            id[r] = firstId + r;
            for (int c = 0; c < len; c++)
                x[r * len + c] = X(id[r], c);
        }

        return [InferenceInput.Create<float>(0, x, [rows, len]), InferenceInput.Create<long>(1, id, [rows])];
    }

    private static void AssertExact(InferenceResult result, long firstId, int rows, int len)
    {
        var y = result.GetOutput("y");
        var total = result.GetOutput("total");
        Assert.Equal(new long[] { rows, len }, y.Shape);
        Assert.Equal(new long[] { rows }, total.Shape);
        var ys = y.AsSpan<float>();
        var ts = total.AsSpan<float>();
        for (int r = 0; r < rows; r++)
        {
            long id = firstId + r;
            float sum = 0;
            for (int c = 0; c < len; c++)
            {
                Assert.Equal(RowEngine.Y(X(id, c), id), ys[r * len + c]);
                sum += X(id, c);
            }

            Assert.Equal(sum + id, ts[r]);
        }
    }

    private static InferenceRunner Runner(RowEngine engine, int streams = 2, int maxBatch = 16, double delayMs = 2, int? maxQueue = null, int[]? preferred = null) =>
        new(engine, new InferenceRunnerOptions
        {
            Streams = streams,
            // These tests hold batches in flight behind a gate: host runs go to the thread pool, not the caller's thread.
            HostExecution = HostExecution.ThreadPool,
            Batching = new DynamicBatchingOptions
            {
                MaxBatchSize = maxBatch,
                MaxQueueDelay = TimeSpan.FromMilliseconds(delayMs),
                MaxQueueLength = maxQueue,
                PreferredBatchSizes = preferred,
            },
        });

    [Theory]
    [InlineData(null)]
    [InlineData(3)]
    public async Task A_thousand_concurrent_callers_with_random_row_counts_each_get_exactly_their_own_rows(int? completionThreads)
    {
        var engine = new RowEngine();
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions
        {
            Streams = 2,
            HostExecution = HostExecution.ThreadPool,
            Batching = new DynamicBatchingOptions { MaxBatchSize = 16, MaxQueueDelay = TimeSpan.FromMilliseconds(2), CompletionThreadsForTesting = completionThreads },
        });
        var rng = new Random(1234);
        var plan = Enumerable.Range(0, 1000).Select(i => (Id: i * 100L, Rows: rng.Next(1, 5), Len: rng.Next(1, 4))).ToArray();
        using var start = new ManualResetEventSlim();
        var tasks = plan.Select(p => Task.Run(async () =>
        {
            start.Wait();
            var result = await runner.RunAsync(Request(p.Id, p.Rows, p.Len));
            AssertExact(result, p.Id, p.Rows, p.Len);
        })).ToArray();
        start.Set();
        await Task.WhenAll(tasks).WaitAsync(Long);

        var stats = runner.GetBatchingStatistics()!;
        Assert.Equal(1000, stats.Requests);
        Assert.Equal(plan.Sum(p => p.Rows), stats.Rows);
        Assert.Equal(engine.Batches.Count, stats.Batches);
        Assert.True(stats.Batches < 1000, $"1000 concurrent requests ran as {stats.Batches} batches: nothing was batched");
        Assert.Equal(stats.Batches, stats.BatchSizeCounts.Sum());
        Assert.All(engine.Batches, b => Assert.InRange(b.Batch, 1, 16));
        // Every row ran exactly once.
        Assert.Equal(plan.SelectMany(p => Enumerable.Range(0, p.Rows).Select(r => p.Id + r)).Order(), engine.Batches.SelectMany(b => b.Ids).Order());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public async Task Callers_that_all_came_back_run_at_once_instead_of_waiting_for_the_queue_delay(int completionThreads)
    {
        // Two callers in a closed loop, one row per request after a first 2-row request each (4 rows: a full batch).
        // From then on a batch of their 2 rows never reaches MaxBatchSize 4, and the queue delay is a minute: only the
        // end of the completion wave that brought both callers back can run it.
        var engine = new RowEngine();
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions
        {
            Streams = 1,
            HostExecution = HostExecution.ThreadPool,
            Batching = new DynamicBatchingOptions { MaxBatchSize = 4, MaxQueueDelay = TimeSpan.FromMinutes(1), CompletionThreadsForTesting = completionThreads },
        });
        using var start = new ManualResetEventSlim();
        var callers = Enumerable.Range(0, 2).Select(c => Task.Run(async () =>
        {
            start.Wait();
            long id = c * 1000;
            AssertExact(await runner.RunAsync(Request(id, 2, 3)), id, 2, 3);
            for (int i = 1; i <= 20; i++)
                AssertExact(await runner.RunAsync(Request(id + (i * 10), 1, 3)), id + (i * 10), 1, 3);
        })).ToArray();
        start.Set();
        await Task.WhenAll(callers).WaitAsync(Long);
        var stats = runner.GetBatchingStatistics()!;
        Assert.Equal(42, stats.Requests);
        Assert.Equal(44, stats.Rows);
        Assert.True(stats.QueueWaitMax < TimeSpan.FromSeconds(20), stats.ToString());
    }

    [Fact]
    public async Task Leases_of_a_batching_runner_are_queued_requests_with_their_own_rows()
    {
        var engine = new RowEngine();
        await using var runner = Runner(engine, streams: 2, maxBatch: 8, delayMs: 2);
        var tasks = Enumerable.Range(0, 200).Select(i => Task.Run(async () =>
        {
            int rows = 1 + (i % 3), len = 2;
            long first = i * 10L;
            using var lease = await runner.AcquireAsync();
            Assert.Equal(-1, lease.SlotIndex);
            lease.SetInputShape(0, [rows, len]);
            lease.SetInputShape(1, [rows]);
            var x = lease.GetInputSpan<float>(0);
            var id = lease.GetInputSpan<long>(1);
            for (int r = 0; r < rows; r++)
            {
                id[r] = first + r;
                for (int c = 0; c < len; c++)
                    x[r * len + c] = X(first + r, c);
            }

            for (int round = 0; round < 2; round++)
            {
                await lease.RunAsync();
                Assert.Equal(new long[] { rows, len }, lease.GetOutputShape(2).ToArray());
                var y = lease.GetOutputSpan<float>(2);
                Assert.Equal(rows * len, y.Length);
                for (int r = 0; r < rows; r++)
                {
                    for (int c = 0; c < len; c++)
                        Assert.Equal(RowEngine.Y(X(first + r, c), first + r), y[r * len + c]);
                }

                Assert.InRange(lease.SlotIndex, 0, 1);
            }
        })).ToArray();
        await Task.WhenAll(tasks).WaitAsync(Long);
        Assert.Equal(400, runner.GetBatchingStatistics()!.Requests);
    }

    [Fact]
    public async Task A_lease_in_flight_refuses_its_buffers_and_a_disposed_lease_is_dead()
    {
        var engine = new RowEngine { Gate = new ManualResetEventSlim() };
        await using var runner = Runner(engine, streams: 1, maxBatch: 1, delayMs: 0);
        var lease = await runner.AcquireAsync();
        lease.SetInputShape(0, [1, 1]);
        lease.SetInputShape(1, [1]);
        var run = lease.RunAsync();
        Assert.Throws<InvalidOperationException>(() => lease.GetInputSpan<float>(0));
        engine.Gate.Set();
        await run.AsTask().WaitAsync(Long);
        lease.Dispose();
        Assert.False(lease.IsActive);
        Assert.Throws<ObjectDisposedException>(() => lease.GetOutputSpan<float>(2));
        lease.Dispose(); // twice: no-op
    }

    [Fact]
    public async Task Requests_of_different_shapes_never_share_a_batch_and_keep_their_order_within_a_shape()
    {
        var engine = new RowEngine { Gate = new ManualResetEventSlim() };
        await using var runner = Runner(engine, streams: 1, maxBatch: 4, delayMs: 0);
        // The first request holds the only slot; the others queue behind it in mixed shapes.
        var first = runner.RunAsync(Request(0, 1, 1)).AsTask();
        Assert.True(await engine.Entered.WaitAsync(Long));
        var queued = new List<(Task<InferenceResult> Task, long Id, int Len)>();
        for (int i = 1; i <= 12; i++)
        {
            int len = i % 3 == 0 ? 5 : 3;
            queued.Add((runner.RunAsync(Request(i * 10, 1, len)).AsTask(), i * 10, len));
        }

        engine.Gate.Set();
        await first.WaitAsync(Long);
        foreach (var q in queued)
            AssertExact(await q.Task.WaitAsync(Long), q.Id, 1, q.Len);

        var batches = engine.Batches.Skip(1).ToArray();
        foreach (int len in new[] { 3, 5 })
        {
            long[] ids = batches.Where(b => b.Len == len).SelectMany(b => b.Ids).ToArray();
            Assert.Equal(queued.Where(q => q.Len == len).Select(q => q.Id), ids); // FIFO within the shape
        }

        Assert.All(batches, b => Assert.InRange(b.Batch, 1, 4));
        Assert.Contains(batches, b => b.Batch == 4); // 8 waiting len-3 requests: full batches
    }

    [Fact]
    public async Task Cancelling_a_queued_request_removes_it_and_its_rows_never_run()
    {
        var engine = new RowEngine { Gate = new ManualResetEventSlim() };
        await using var runner = Runner(engine, streams: 1, maxBatch: 2, delayMs: 0);
        var first = runner.RunAsync(Request(1, 2, 1)).AsTask();
        Assert.True(await engine.Entered.WaitAsync(Long));
        using var cts = new CancellationTokenSource();
        var cancelled = runner.RunAsync(Request(50, 1, 1), cts.Token).AsTask();
        var kept = runner.RunAsync(Request(60, 1, 1)).AsTask();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Long));
        engine.Gate.Set();
        await first.WaitAsync(Long);
        AssertExact(await kept.WaitAsync(Long), 60, 1, 1);
        Assert.DoesNotContain(engine.Batches, b => b.Ids.Contains(50));
        var stats = runner.GetBatchingStatistics()!;
        Assert.Equal(1, stats.Cancelled);
        Assert.Equal(2, stats.Requests);

        // An already cancelled token is refused before queueing.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => runner.RunAsync(Request(70, 1, 1), cts.Token).AsTask());
    }

    [Fact]
    public async Task A_failing_batch_fails_exactly_its_requests_with_the_engine_error()
    {
        var engine = new RowEngine { Gate = new ManualResetEventSlim() };
        await using var runner = Runner(engine, streams: 1, maxBatch: 2, delayMs: 0);
        var first = runner.RunAsync(Request(1, 1, 2)).AsTask();
        Assert.True(await engine.Entered.WaitAsync(Long));
        var bad = runner.RunAsync(Request(RowEngine.FailId, 1, 2)).AsTask();
        var sameBatch = runner.RunAsync(Request(100, 1, 2)).AsTask();
        var otherShape = runner.RunAsync(Request(200, 1, 4)).AsTask();
        var later = runner.RunAsync(Request(300, 2, 2)).AsTask();
        engine.Gate.Set();
        AssertExact(await first.WaitAsync(Long), 1, 1, 2);
        var e1 = await Assert.ThrowsAsync<InvalidOperationException>(() => bad.WaitAsync(Long));
        var e2 = await Assert.ThrowsAsync<InvalidOperationException>(() => sameBatch.WaitAsync(Long));
        Assert.Contains("Injected failure", e1.Message);
        Assert.Contains("Injected failure", e2.Message);
        AssertExact(await otherShape.WaitAsync(Long), 200, 1, 4);
        AssertExact(await later.WaitAsync(Long), 300, 2, 2);
        Assert.Contains(engine.Batches, b => b.Ids.SequenceEqual(new[] { RowEngine.FailId, 100 }));
    }

    [Fact]
    public async Task A_full_queue_rejects_at_once_and_loses_nothing_already_queued()
    {
        var engine = new RowEngine { Gate = new ManualResetEventSlim() };
        await using var runner = Runner(engine, streams: 1, maxBatch: 4, delayMs: 200, maxQueue: 2);
        var first = runner.RunAsync(Request(1, 4, 1)).AsTask(); // full batch: runs at once
        Assert.True(await engine.Entered.WaitAsync(Long));
        var a = runner.RunAsync(Request(10, 1, 1)).AsTask();
        var b = runner.RunAsync(Request(20, 1, 1)).AsTask();
        var rejected = runner.RunAsync(Request(30, 1, 1)).AsTask();
        Assert.True(rejected.IsCompleted, "a full queue must reject at once");
        var e = await Assert.ThrowsAsync<BatchQueueFullException>(() => rejected);
        Assert.Equal(2, e.MaxQueueLength);
        Assert.Contains("MaxQueueLength", e.Message);
        engine.Gate.Set();
        await first.WaitAsync(Long);
        AssertExact(await a.WaitAsync(Long), 10, 1, 1);
        AssertExact(await b.WaitAsync(Long), 20, 1, 1);
        Assert.Equal(1, runner.GetBatchingStatistics()!.Rejected);
        Assert.DoesNotContain(engine.Batches, x => x.Ids.Contains(30));
    }

    [Fact]
    public async Task Disposing_with_a_full_queue_fails_the_waiting_requests_and_does_not_hang()
    {
        var engine = new RowEngine { Gate = new ManualResetEventSlim() };
        var runner = Runner(engine, streams: 1, maxBatch: 2, delayMs: 10_000);
        var running = runner.RunAsync(Request(1, 2, 1)).AsTask();
        Assert.True(await engine.Entered.WaitAsync(Long));
        var waiting = Enumerable.Range(0, 50).Select(i => runner.RunAsync(Request(100 + i, 1, 1)).AsTask()).ToArray();
        var leaseWait = runner.AcquireAsync().AsTask();
        var lease = await leaseWait.WaitAsync(Long);
        lease.SetInputShape(0, [1, 1]);
        lease.SetInputShape(1, [1]);
        var leaseRun = lease.RunAsync().AsTask();

        var dispose = runner.DisposeAsync().AsTask();
        foreach (var w in waiting)
            await Assert.ThrowsAsync<ObjectDisposedException>(() => w.WaitAsync(Long));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => leaseRun.WaitAsync(Long));
        lease.Dispose();
        Assert.False(dispose.IsCompleted, "dispose waits for the batch in flight");
        engine.Gate.Set();
        AssertExact(await running.WaitAsync(Long), 1, 2, 1); // the batch in flight finishes
        await dispose.WaitAsync(Long);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => runner.RunAsync(Request(1, 1, 1)).AsTask());
    }

    [Fact]
    public async Task A_lone_request_waits_for_the_queue_delay_and_a_preferred_size_runs_without_it()
    {
        var engine = new RowEngine();
        await using (var runner = Runner(engine, streams: 1, maxBatch: 8, delayMs: 40))
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            AssertExact(await runner.RunAsync(Request(5, 1, 2)).AsTask().WaitAsync(Long), 5, 1, 2);
            Assert.True(sw.Elapsed >= TimeSpan.FromMilliseconds(35), $"a lone request ran after {sw.Elapsed.TotalMilliseconds} ms, before the 40 ms queue delay");
            var stats = runner.GetBatchingStatistics()!;
            Assert.True(stats.QueueWaitP50 >= TimeSpan.FromMilliseconds(35), stats.ToString());
        }

        engine = new RowEngine();
        await using (var runner = Runner(engine, streams: 1, maxBatch: 8, delayMs: 60_000, preferred: [2]))
        {
            var a = runner.RunAsync(Request(1, 1, 1)).AsTask();
            var b = runner.RunAsync(Request(2, 1, 1)).AsTask();
            AssertExact(await a.WaitAsync(Long), 1, 1, 1); // a minute's delay: only the preferred size can have run it
            AssertExact(await b.WaitAsync(Long), 2, 1, 1);
            Assert.Equal(1, runner.GetBatchingStatistics()!.CountOf(2));
        }
    }

    [Fact]
    public async Task Invalid_requests_are_rejected_before_they_are_queued()
    {
        var engine = new RowEngine();
        await using var runner = Runner(engine, streams: 1, maxBatch: 4, delayMs: 0);
        var tooMany = await Assert.ThrowsAsync<ArgumentException>(() => runner.RunAsync(Request(1, 5, 1)).AsTask());
        Assert.Contains("MaxBatchSize (4)", tooMany.Message);
        Assert.Contains("'x'", tooMany.Message);
        var disagree = await Assert.ThrowsAsync<ArgumentException>(() => runner.RunAsync(
            [InferenceInput.Create<float>(0, new float[2], [2, 1]), InferenceInput.Create<long>(1, new long[1], [1])]).AsTask());
        Assert.Contains("disagree on the batch size", disagree.Message);
        var shortData = await Assert.ThrowsAsync<ArgumentException>(() => runner.RunAsync(
            [InferenceInput.Create<float>(0, new float[1], [1, 2]), InferenceInput.Create<long>(1, new long[1], [1])]).AsTask());
        Assert.Contains("takes 8 bytes; got 4", shortData.Message);
        var wideLen = await Assert.ThrowsAsync<ArgumentException>(() => runner.RunAsync(Request(1, 1, 9)).AsTask());
        Assert.Contains("range 1..8", wideLen.Message);
        var missing = await Assert.ThrowsAsync<ArgumentException>(() => runner.RunAsync([InferenceInput.Create<float>(0, new float[1], [1, 1])]).AsTask());
        Assert.Contains("'id'", missing.Message);
        var lease = await runner.AcquireAsync();
        Assert.Throws<ArgumentException>(() => lease.SetInputShape(0, [5, 1]));
        lease.Dispose();
        Assert.Equal(0, runner.GetBatchingStatistics()!.Requests);
        Assert.Empty(engine.Batches);
        AssertExact(await runner.RunAsync(Request(1, 4, 1)), 1, 4, 1); // still serves
    }

    [Fact]
    public async Task An_engine_that_does_not_qualify_is_refused_naming_the_tensor()
    {
        static ArgumentException Refused(Engine.IInferenceEngine engine, DynamicBatchingOptions options) =>
            Assert.Throws<ArgumentException>(() => new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 1, Batching = options }));

        var staticInput = Refused(new FakeEngine(), new DynamicBatchingOptions { MaxBatchSize = 4 });
        Assert.Contains("Input 'k'", staticInput.Message);
        Assert.Contains("dynamic batch dimension", staticInput.Message);

        var fixedOutput = Refused(new RowEngine(outputFollowsBatch: false), new DynamicBatchingOptions { MaxBatchSize = 4 });
        Assert.Contains("Output 'y'", fixedOutput.Message);
        Assert.Contains("does not follow the batch size", fixedOutput.Message);

        var tooLarge = Refused(new RowEngine(maxBatch: 8), new DynamicBatchingOptions { MaxBatchSize = 16 });
        Assert.Contains("MaxBatchSize is 16", tooLarge.Message);
        Assert.Contains("range 1..8", tooLarge.Message);

        Assert.Contains("at least 1", Refused(new RowEngine(), new DynamicBatchingOptions()).Message);
        Assert.Contains("PreferredBatchSizes contains 9", Refused(new RowEngine(), new DynamicBatchingOptions { MaxBatchSize = 8, PreferredBatchSizes = [4, 9] }).Message);
        Assert.Contains("MaxQueueLength is 0", Refused(new RowEngine(), new DynamicBatchingOptions { MaxBatchSize = 8, MaxQueueLength = 0 }).Message);
        Assert.Contains("no dimension 2", Refused(new RowEngine(), new DynamicBatchingOptions { MaxBatchSize = 8, BatchDimension = 2 }).Message);
        Assert.Contains("batch 1", Refused(new RowEngine(minBatch: 2), new DynamicBatchingOptions { MaxBatchSize = 8 }).Message);

        // Qualifying engines are fine, and a runner without batching reports none.
        await using var plain = new InferenceRunner(new RowEngine(), new InferenceRunnerOptions { Streams = 1 });
        Assert.Null(plain.Batching);
        Assert.Null(plain.GetBatchingStatistics());
    }

    [Fact]
    public async Task A_batch_dimension_other_than_the_first_gathers_strided_rows()
    {
        var engine = new MiddleBatchEngine();
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions
        {
            Streams = 1,
            Batching = new DynamicBatchingOptions { MaxBatchSize = 16, BatchDimension = 1, MaxQueueDelay = TimeSpan.FromMilliseconds(5) },
        });
        var tasks = Enumerable.Range(0, 40).Select(i => Task.Run(async () =>
        {
            int k = 1 + (i % 3);
            var x = new float[2 * k * 3];
            for (int j = 0; j < x.Length; j++)
                x[j] = i * 1000 + j;
            var result = await runner.RunAsync([InferenceInput.Create<float>(0, x, [2, k, 3])]);
            var y = result.GetOutput("y");
            Assert.Equal(new long[] { 2, k, 3 }, y.Shape);
            Assert.Equal(x.Select(v => v + 1), y.ToArray<float>());
        })).ToArray();
        await Task.WhenAll(tasks).WaitAsync(Long);
        Assert.True(engine.Batches.Count < 40, "nothing was batched");
    }

    [Fact]
    public async Task Statistics_count_batches_rows_and_waits_and_reset()
    {
        var engine = new RowEngine { Gate = new ManualResetEventSlim() };
        await using var runner = Runner(engine, streams: 1, maxBatch: 4, delayMs: 0);
        var first = runner.RunAsync(Request(1, 1, 1)).AsTask();
        Assert.True(await engine.Entered.WaitAsync(Long));
        var rest = Enumerable.Range(0, 8).Select(i => runner.RunAsync(Request(10 + i, 1, 1)).AsTask()).ToArray();
        engine.Gate.Set();
        await first.WaitAsync(Long);
        await Task.WhenAll(rest).WaitAsync(Long);
        var s = runner.GetBatchingStatistics()!;
        Assert.Equal(3, s.Batches); // 1, then 4 + 4
        Assert.Equal(9, s.Rows);
        Assert.Equal(9, s.Requests);
        Assert.Equal(1, s.CountOf(1));
        Assert.Equal(2, s.CountOf(4));
        Assert.Equal(4, s.ModeBatchSize);
        Assert.Equal(3.0, s.MeanBatchSize);
        Assert.True(s.QueueWaitP99 >= s.QueueWaitP50);
        Assert.True(s.QueueWaitMax >= s.QueueWaitP99);
        string text = s.ToString();
        Assert.Contains("3 batches, 9 rows, 9 requests", text);
        Assert.Contains("batch size histogram", text);
        Assert.Contains("    4 rows         2", text);
        runner.ResetBatchingStatistics();
        Assert.Equal(0, runner.GetBatchingStatistics()!.Batches);
    }

    [Fact]
    public async Task The_bottleneck_report_shows_the_batches_of_a_profiled_run()
    {
        var engine = new RowEngine();
        await using var runner = Runner(engine, streams: 2, maxBatch: 8, delayMs: 2);
        await runner.RunAsync(Request(1, 1, 1)); // before profiling: not counted
        runner.StartProfiling();
        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(async () => AssertExact(await runner.RunAsync(Request(i * 10, 1, 2)), i * 10, 1, 2)))).WaitAsync(Long);
        var t = runner.StopProfiling();
        Assert.NotNull(t.Batching);
        Assert.Equal(40, t.Batching!.Requests);
        Assert.Equal(t.Batching.Batches, t.Requests); // the stage profile counts batches
        string report = Diagnostics.BottleneckReport.Analyze(t, 0).ToString();
        Assert.Contains("dynamic batching: the", report);
        Assert.Contains("40 requests, 40 rows", report);
        Assert.Contains("queue wait p50", report);
    }
}

/// <summary>Runs alone (the allocation counter is process-wide).</summary>
[Collection(nameof(AllocationSensitive))]
public sealed class BatchingAllocationTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    private static InferenceRunner Runner(RowEngine engine) =>
        new(engine, new InferenceRunnerOptions { Streams = 1, HostExecution = HostExecution.ThreadPool, Batching = new DynamicBatchingOptions { MaxBatchSize = 4, MaxQueueDelay = TimeSpan.Zero } });

    [Fact]
    public async Task Steady_state_lease_requests_allocate_nothing_per_request()
    {
        var engine = new RowEngine { Record = false };
        await using var runner = Runner(engine);
        long[] xShape = [2, 3], idShape = [2]; // (constant collection expressions allocate at tier 0)

        async Task Loop(int n)
        {
            for (int i = 0; i < n; i++)
            {
                using var lease = await runner.AcquireAsync().ConfigureAwait(false);
                lease.SetInputShape(0, xShape);
                lease.SetInputShape(1, idShape);
                lease.GetInputSpan<float>(0).Fill(1);
                lease.GetInputSpan<long>(1).Fill(i);
                await lease.RunAsync().ConfigureAwait(false);
                if (lease.GetOutputSpan<float>(3)[1] != 3 + i)
                    throw new InvalidOperationException("wrong result");
            }
        }

        // Off the test framework's execution context (its async-locals and synchronization context allocate per await),
        // on a plain thread-pool loop, as an application would run.
        async Task<long> Measure()
        {
            await Loop(2000).ConfigureAwait(false); // warm up: pools, tiering
            long before = GC.GetTotalAllocatedBytes(precise: true);
            await Loop(10_000).ConfigureAwait(false);
            return (GC.GetTotalAllocatedBytes(precise: true) - before) / 10_000;
        }

        Task<long> measured;
        using (ExecutionContext.SuppressFlow())
            measured = Task.Run(Measure, CancellationToken.None);
        long perRequest = await measured.WaitAsync(Long);
        Assert.True(perRequest == 0, $"{perRequest} bytes allocated per batched lease request");
    }
}
