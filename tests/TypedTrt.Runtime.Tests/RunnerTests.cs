using TypedTrt.Runtime.Engine;
using Xunit;

namespace TypedTrt.Runtime.Tests;

public sealed class RunnerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static (float[] A, int[] B, float K) MakeInputs(int seed, int batch)
    {
        var rng = new Random(seed);
        var a = new float[batch * FakeEngine.Width];
        var b = new int[batch * FakeEngine.Width];
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = rng.Next(-1000, 1000) / 4f;
            b[i] = rng.Next(-100000, 100000);
        }

        return (a, b, rng.Next(1, 8));
    }

    private static async Task RunAndCheckAsync(InferenceRunner runner, int seed, int batch, CancellationToken ct)
    {
        var (a, b, k) = MakeInputs(seed, batch);
        using var lease = await runner.AcquireAsync(ct);
        lease.SetInputShape(0, [batch, FakeEngine.Width]);
        lease.SetInputShape(1, [batch, FakeEngine.Width]);
        a.CopyTo(lease.GetInputSpan<float>(0));
        b.CopyTo(lease.GetInputSpan<int>(1));
        lease.GetInputSpan<float>(2)[0] = k;
        await lease.RunAsync(ct);
        Assert.Equal([batch, FakeEngine.Width], lease.GetOutputShape(3).ToArray());
        Assert.Equal([batch], lease.GetOutputShape(4).ToArray());
        var y = lease.GetOutputSpan<float>(3);
        var rowsum = lease.GetOutputSpan<long>(4);
        Assert.Equal(a.Length, y.Length);
        for (int i = 0; i < a.Length; i++)
        {
            if (y[i] != a[i] * k + b[i])
                Assert.Fail($"request {seed}: y[{i}] = {y[i]}, expected {a[i] * k + b[i]}");
        }

        for (int r = 0; r < batch; r++)
        {
            long s = 0;
            for (int c = 0; c < FakeEngine.Width; c++)
                s += b[r * FakeEngine.Width + c];
            Assert.Equal(s, rowsum[r]);
        }
    }

    [Fact]
    public async Task ManyConcurrentRequests_EachGetsItsOwnOutputs()
    {
        using var engine = new FakeEngine { Delay = TimeSpan.FromMilliseconds(1) };
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 4 });
        Assert.Equal(4, runner.SlotCount);
        Assert.Equal(4, engine.ContextsCreated);
        var tasks = Enumerable.Range(0, 400).Select(i => Task.Run(() => RunAndCheckAsync(runner, i, 1 + (i % 8), Ct), Ct));
        await Task.WhenAll(tasks);
        Assert.Equal(400, engine.Enqueues);
        // Never more enqueues at once than slots; how many run in parallel depends on the thread pool (1 on a 1-core CI box).
        Assert.InRange(engine.MaxConcurrentEnqueues, 1, 4);
    }

    [Fact]
    public async Task ConvenienceRunAsync_CopiesInAndOut()
    {
        using var engine = new FakeEngine();
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 3 });
        var tasks = Enumerable.Range(0, 200).Select(i => Task.Run(async () =>
        {
            int batch = 1 + (i % 8);
            var (a, b, k) = MakeInputs(i, batch);
            var result = await runner.RunAsync(
                [
                    InferenceInput.Create<float>(0, a, [batch, 4]),
                    InferenceInput.Create<int>(1, b, [batch, 4]),
                    InferenceInput.Create<float>(2, [k]),
                ], Ct);
            Assert.Equal(2, result.Outputs.Count);
            var y = result.GetOutput("y");
            Assert.Equal([batch, 4L], y.Shape);
            float[] yv = y.ToArray<float>();
            for (int j = 0; j < a.Length; j++)
                Assert.Equal(a[j] * k + b[j], yv[j]);
            Assert.Equal(batch, result.GetOutput(4).AsSpan<long>().Length);
        }, Ct));
        await Task.WhenAll(tasks);
    }

    [Fact]
    public async Task ConvenienceRunAsync_ValidatesInputs()
    {
        using var engine = new FakeEngine();
        await using var runner = new InferenceRunner(engine);
        var a = InferenceInput.Create<float>(0, new float[8], [2, 4]);
        var b = InferenceInput.Create<int>(1, new int[8], [2, 4]);
        var k = InferenceInput.Create<float>(2, [1f]);
        var missing = await Assert.ThrowsAsync<ArgumentException>(() => runner.RunAsync([a, b], Ct).AsTask());
        Assert.Contains("'k'", missing.Message, StringComparison.Ordinal);
        var twice = await Assert.ThrowsAsync<ArgumentException>(() => runner.RunAsync([a, b, k, k], Ct).AsTask());
        Assert.Contains("twice", twice.Message, StringComparison.Ordinal);
        var output = await Assert.ThrowsAsync<ArgumentException>(() => runner.RunAsync([a, b, k, new InferenceInput(3, new byte[4])], Ct).AsTask());
        Assert.Contains("not an input", output.Message, StringComparison.Ordinal);
        var wrongLength = await Assert.ThrowsAsync<ArgumentException>(() => runner.RunAsync([a, InferenceInput.Create<int>(1, new int[7], [2, 4]), k], Ct).AsTask());
        Assert.Contains("takes 32 bytes; got 28", wrongLength.Message, StringComparison.Ordinal);
        // The failed requests returned their slots: both slots can be leased.
        using var l1 = await runner.AcquireAsync(Ct);
        using var l2 = await runner.AcquireAsync(Ct);
    }

    [Fact]
    public async Task Failures_AreIsolatedPerRequest()
    {
        using var engine = new FakeEngine { Delay = TimeSpan.FromMilliseconds(1) };
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 2 });
        int failures = 0;
        var tasks = Enumerable.Range(0, 100).Select(i => Task.Run(async () =>
        {
            if (i % 3 != 0)
            {
                await RunAndCheckAsync(runner, i, 2, Ct);
                return;
            }

            using var lease = await runner.AcquireAsync(Ct);
            lease.SetInputShape(0, [1, 4]);
            lease.SetInputShape(1, [1, 4]);
            lease.GetInputSpan<float>(0)[0] = FakeEngine.FailValue;
            var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => lease.RunAsync(Ct).AsTask());
            Assert.Contains("Injected failure", ex.Message, StringComparison.Ordinal);
            Assert.Throws<InvalidOperationException>(() => lease.GetOutputSpan<float>(3));
            Interlocked.Increment(ref failures);

            // The same lease (slot) works again right after its failure.
            lease.GetInputSpan<float>(0)[0] = 1;
            await lease.RunAsync(Ct);
            Assert.Equal(1f * lease.GetInputSpan<float>(2)[0] + lease.GetInputSpan<int>(1)[0], lease.GetOutputSpan<float>(3)[0]);
        }, Ct));
        await Task.WhenAll(tasks);
        Assert.Equal(34, failures);
    }

    [Fact]
    public async Task Cancellation_BeforeAcquire_WhileWaiting_AndBeforeEnqueue()
    {
        using var engine = new FakeEngine();
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 1 });
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => runner.AcquireAsync(cancelled.Token).AsTask());

        var lease = await runner.AcquireAsync(Ct);
        using (var waiting = new CancellationTokenSource(TimeSpan.FromMilliseconds(50)))
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => runner.AcquireAsync(waiting.Token).AsTask());

        lease.SetInputShape(0, [1, 4]);
        lease.SetInputShape(1, [1, 4]);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => lease.RunAsync(cancelled.Token).AsTask());
        Assert.Equal(0, engine.Enqueues);
        await lease.RunAsync(Ct); // still usable
        Assert.Equal(1, engine.Enqueues);
        lease.Dispose();
        await RunAndCheckAsync(runner, 1, 3, Ct);
    }

    [Fact]
    public async Task DisposeAsync_WaitsForWorkInFlight_ThenFreesContexts()
    {
        using var engine = new FakeEngine { Delay = TimeSpan.FromMilliseconds(5) };
        var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 3 });
        int completed = 0, refused = 0;
        var tasks = Enumerable.Range(0, 60).Select(i => Task.Run(async () =>
        {
            try
            {
                await RunAndCheckAsync(runner, i, 4, CancellationToken.None);
                Interlocked.Increment(ref completed);
            }
            catch (ObjectDisposedException)
            {
                Interlocked.Increment(ref refused);
            }
        }, Ct)).ToArray();
        // Dispose once work is really in flight (robust on a slow CI machine).
        Assert.True(SpinWait.SpinUntil(() => engine.Enqueues >= 1, TimeSpan.FromSeconds(30)), "no request started");
        await runner.DisposeAsync();
        Assert.Equal(3, engine.ContextsDisposed);
        Assert.False(engine.Disposed);
        await Task.WhenAll(tasks);
        Assert.Equal(60, completed + refused);
        Assert.True(completed >= 1, "some requests ran before the dispose");
        Assert.Equal(completed, engine.Enqueues);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => runner.AcquireAsync(Ct).AsTask());
        await runner.DisposeAsync(); // idempotent
    }

    [Fact]
    public async Task HostRuns_AreInlineByDefault_AndOnThePoolWhenAsked()
    {
        using var engine = new FakeEngine { Delay = TimeSpan.FromMilliseconds(50) };
        await using (var inline = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 1 }))
        {
            Assert.Equal(HostExecution.Inline, inline.HostExecution);
            using var lease = await inline.AcquireAsync(Ct);
            lease.SetInputShape(0, [1, FakeEngine.Width]);
            lease.SetInputShape(1, [1, FakeEngine.Width]);
            int thread = Environment.CurrentManagedThreadId;
            ValueTask run = lease.RunAsync(Ct);
            Assert.True(run.IsCompletedSuccessfully); // done when RunAsync returns, on this thread
            Assert.Equal(thread, engine.LastEnqueueThread);
            await run;
        }

        await using var pooled = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 1, HostExecution = HostExecution.ThreadPool });
        using var lease2 = await pooled.AcquireAsync(Ct);
        lease2.SetInputShape(0, [1, FakeEngine.Width]);
        lease2.SetInputShape(1, [1, FakeEngine.Width]);
        ValueTask run2 = lease2.RunAsync(Ct);
        Assert.False(run2.IsCompleted); // in flight on a pool thread
        await run2;
        Assert.NotEqual(0, engine.LastEnqueueThread);
        Assert.Throws<ArgumentOutOfRangeException>(() => new InferenceRunner(engine, new InferenceRunnerOptions { HostExecution = (HostExecution)7 }));
    }

    [Fact]
    public async Task DisposingLeaseWhileRunning_ReturnsSlotWhenDone()
    {
        using var engine = new FakeEngine { Delay = TimeSpan.FromMilliseconds(50) };
        // On the thread pool, so the run is in flight when RunAsync returns (inline runs are done by then).
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 1, HostExecution = HostExecution.ThreadPool });
        var lease = await runner.AcquireAsync(Ct);
        lease.SetInputShape(0, [1, 4]);
        lease.SetInputShape(1, [1, 4]);
        ValueTask run = lease.RunAsync(Ct);
        Assert.Throws<InvalidOperationException>(() => lease.GetInputSpan<float>(0)); // in flight
        await Assert.ThrowsAsync<InvalidOperationException>(() => lease.RunAsync(Ct).AsTask());
        lease.Dispose();
        Assert.Throws<ObjectDisposedException>(() => lease.GetInputSpan<float>(0));
        var next = runner.AcquireAsync(Ct);
        await run;
        using var lease2 = await next;
        Assert.Equal(1, engine.Enqueues);
    }

    [Fact]
    public async Task ShapeValidation_NamesTensorDimensionAndRange()
    {
        using var engine = new FakeEngine();
        await using var runner = new InferenceRunner(engine);
        using var lease = await runner.AcquireAsync(Ct);
        var rank = Assert.Throws<ArgumentException>(() => lease.SetInputShape(0, [4]));
        Assert.Contains("'a' has rank 2", rank.Message, StringComparison.Ordinal);
        var range = Assert.Throws<ArgumentException>(() => lease.SetInputShape(0, [9, 4]));
        Assert.Contains("'a' dimension 0 ('batch') is 9", range.Message, StringComparison.Ordinal);
        Assert.Contains("1..8", range.Message, StringComparison.Ordinal);
        var zero = Assert.Throws<ArgumentException>(() => lease.SetInputShape(1, [0, 4]));
        Assert.Contains("'b' dimension 0", zero.Message, StringComparison.Ordinal);
        var fixedDim = Assert.Throws<ArgumentException>(() => lease.SetInputShape(0, [2, 5]));
        Assert.Contains("dimension 1 is 5", fixedDim.Message, StringComparison.Ordinal);
        Assert.Contains("fixed at 4", fixedDim.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => lease.SetInputShape(3, [2, 4])); // an output
        Assert.Throws<ArgumentOutOfRangeException>(() => lease.SetInputShape(7, [2, 4]));

        var noShape = Assert.Throws<InvalidOperationException>(() => lease.GetInputSpan<float>(0));
        Assert.Contains("SetInputShape", noShape.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidOperationException>(() => lease.RunAsync(Ct).AsTask());

        lease.SetInputShape(0, [3, 4]);
        Assert.Equal(12, lease.GetInputSpan<float>(0).Length);
        Assert.Equal(48, lease.GetInputSpan<byte>(0).Length);
        var type = Assert.Throws<ArgumentException>(() => lease.GetInputSpan<int>(0));
        Assert.Contains("'a' has type 'float'", type.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => lease.GetInputSpan<double>(0));
        Assert.Throws<InvalidOperationException>(() => lease.GetOutputShape(3)); // no run yet
    }

    [Fact]
    public async Task Sizing_UsesProfileMaxAndResolvedOutputs()
    {
        using var engine = new FakeEngine(maxBatch: 100);
        await using var runner = new InferenceRunner(engine);
        Assert.Equal([100L, 4], runner.GetMaxShape(0).ToArray());
        Assert.Equal([100L], runner.GetMaxShape(4).ToArray());
        Assert.Equal(1792, runner.GetBufferCapacity(0)); // 1600 bytes rounded up to 256
        Assert.Equal(1024, runner.GetBufferCapacity(4)); // 800 bytes
        Assert.Equal(256, runner.GetBufferCapacity(2));
        await RunAndCheckAsync(runner, 5, 100, Ct);
    }

    [Fact]
    public async Task TensorSpans_HaveTheCurrentShape()
    {
        using var engine = new FakeEngine();
        await using var runner = new InferenceRunner(engine);
        using var lease = await runner.AcquireAsync(Ct);
        lease.SetInputShape(0, [2, 4]);
        lease.SetInputShape(1, [2, 4]);
        var a = lease.GetInputTensorSpan<float>(0);
        Assert.Equal([2, 4], a.Lengths.ToArray());
        a[1, 3] = 7;
        lease.GetInputTensorSpan<int>(1)[1, 3] = 5;
        lease.GetInputSpan<float>(2)[0] = 2;
        await lease.RunAsync(Ct);
        var y = lease.GetOutputTensorSpan<float>(3);
        Assert.Equal(19f, y[1, 3]);
        Assert.Throws<ArgumentException>(() => lease.GetOutputTensorSpan<byte>(3));
    }

    [Fact]
    public void Options_AreValidated()
    {
        using var engine = new FakeEngine();
        Assert.Throws<ArgumentOutOfRangeException>(() => new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 0 }));
        var profile = Assert.Throws<ArgumentException>(() => new InferenceRunner(engine, new InferenceRunnerOptions { ProfileIndex = 1 }));
        Assert.Contains("profile 1", profile.Message, StringComparison.Ordinal);
        Assert.Equal(0, engine.ContextsCreated);
    }

    [Fact]
    public async Task DeviceEngine_WithoutDriver_FailsClearly()
    {
        if (Cuda.CudaDriver.IsAvailable)
            Assert.Skip("A CUDA driver is present on this machine; the missing-driver path is covered by CudaTests.MissingDriver_*.");
        using var engine = new FakeEngine(BufferPlacement.Device);
        var ex = Assert.Throws<Cuda.CudaUnavailableException>(() => new InferenceRunner(engine));
        Assert.Contains("No NVIDIA driver", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, engine.ContextsCreated);
        await Task.CompletedTask;
    }
}
