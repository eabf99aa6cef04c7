using System.Diagnostics;
using TypedTrt.Runtime.Cuda;
using TypedTrt.Runtime.Testing;
using Xunit;

namespace TypedTrt.Runtime.GpuTests;

public sealed class NvrtcRunnerTests
{
    private const int Width = 64;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed record Request(int Batch, float[] A, float[] B, int[] Bias);

    private static Request Make(int seed, int batch, int width = Width)
    {
        var rng = new Random(seed);
        var a = new float[batch * width];
        var b = new float[batch * width];
        var bias = new int[batch];
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = rng.Next(-64, 65);
            b[i] = rng.Next(-64, 65);
        }

        for (int i = 0; i < batch; i++)
            bias[i] = rng.Next(-100000, 100000);
        return new Request(batch, a, b, bias);
    }

    private static void Check(Request r, int seed, int width, ReadOnlySpan<float> sum, ReadOnlySpan<float> prod, ReadOnlySpan<float> rowdot, ReadOnlySpan<long> greater)
    {
        Assert.Equal(r.A.Length, sum.Length);
        Assert.Equal(r.Batch, rowdot.Length);
        for (int i = 0; i < r.A.Length; i++)
        {
            if (sum[i] != r.A[i] + r.B[i] || prod[i] != r.A[i] * r.B[i])
                Assert.Fail($"request {seed}: element {i}: sum {sum[i]} prod {prod[i]}, expected {r.A[i] + r.B[i]} and {r.A[i] * r.B[i]}");
        }

        for (int row = 0; row < r.Batch; row++)
        {
            float dot = 0;
            long gt = 0;
            for (int j = 0; j < width; j++)
            {
                dot += r.A[row * width + j] * r.B[row * width + j];
                gt += r.A[row * width + j] > r.B[row * width + j] ? 1 : 0;
            }

            if (rowdot[row] != dot + r.Bias[row] || greater[row] != gt)
                Assert.Fail($"request {seed}: row {row}: rowdot {rowdot[row]} greater {greater[row]}, expected {dot + r.Bias[row]} and {gt}");
        }
    }

    private static async Task RunLeaseAsync(InferenceRunner runner, int seed, int batch, CancellationToken ct, int width = Width)
    {
        var r = Make(seed, batch, width);
        using var lease = await runner.AcquireAsync(ct);
        lease.SetInputShape(0, [batch, width]);
        lease.SetInputShape(1, [batch, width]);
        lease.SetInputShape(2, [batch]);
        r.A.CopyTo(lease.GetInputSpan<float>(0));
        r.B.CopyTo(lease.GetInputSpan<float>(1));
        r.Bias.CopyTo(lease.GetInputSpan<int>(2));
        await lease.RunAsync(ct);
        Assert.Equal([batch, width], lease.GetOutputShape(3).ToArray());
        Assert.Equal([batch], lease.GetOutputShape(6).ToArray());
        Check(r, seed, width, lease.GetOutputSpan<float>(3), lease.GetOutputSpan<float>(4), lease.GetOutputSpan<float>(5), lease.GetOutputSpan<long>(6));
    }

    [Fact]
    public async Task HeavyConcurrency_OutputsExact_NoCrossTalk()
    {
        Gpu.Require();
        using var engine = NvrtcTestEngine.CreateElementwise(Width, maxBatch: 32);
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 4 });
        const int requests = 4000;
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, requests).Select(i => Task.Run(() => RunLeaseAsync(runner, i, 1 + (i * 7 % 32), Ct), Ct)));
        sw.Stop();
        Assert.Equal(requests, engine.Enqueues);
        Gpu.Log($"{{\"kind\":\"concurrency\",\"requests\":{requests},\"streams\":4,\"seconds\":{sw.Elapsed.TotalSeconds:F3},\"req_per_s\":{requests / sw.Elapsed.TotalSeconds:F0}}}");
    }

    [Fact]
    public async Task ConvenienceRunAsync_Concurrent_Exact()
    {
        Gpu.Require();
        using var engine = NvrtcTestEngine.CreateElementwise(Width, maxBatch: 16);
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 3 });
        await Task.WhenAll(Enumerable.Range(0, 600).Select(i => Task.Run(async () =>
        {
            int batch = 1 + (i % 16);
            var r = Make(i, batch);
            var result = await runner.RunAsync(
                [
                    InferenceInput.Create<float>(0, r.A, [batch, Width]),
                    InferenceInput.Create<float>(1, r.B, [batch, Width]),
                    InferenceInput.Create<int>(2, r.Bias, [batch]),
                ], Ct);
            Check(r, i, Width, result.GetOutput("sum").AsSpan<float>(), result.GetOutput("prod").AsSpan<float>(),
                result.GetOutput("rowdot").AsSpan<float>(), result.GetOutput("greater").AsSpan<long>());
        }, Ct)));
    }

    [Fact]
    public async Task DynamicBatch_EverySizeOnOneLease()
    {
        Gpu.Require();
        using var engine = NvrtcTestEngine.CreateElementwise(Width, maxBatch: 48);
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 1 });
        Assert.Equal([48L, Width], runner.GetMaxShape(3).ToArray());
        for (int batch = 48; batch >= 1; batch -= 1)
            await RunLeaseAsync(runner, batch, batch, Ct);
        using var lease = await runner.AcquireAsync(Ct);
        var ex = Assert.Throws<ArgumentException>(() => lease.SetInputShape(0, [49, Width]));
        Assert.Contains("'a' dimension 0 ('batch') is 49", ex.Message, StringComparison.Ordinal);
        Assert.Contains("1..48", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancellation_BeforeEnqueue_LeavesSlotUsable()
    {
        Gpu.Require();
        using var engine = NvrtcTestEngine.CreateElementwise(Width, maxBatch: 8);
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 1 });
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        using (var lease = await runner.AcquireAsync(Ct))
        {
            lease.SetInputShape(0, [2, Width]);
            lease.SetInputShape(1, [2, Width]);
            lease.SetInputShape(2, [2]);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => lease.RunAsync(cts.Token).AsTask());
            Assert.Equal(0, engine.Enqueues);
            using var waiting = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => runner.AcquireAsync(waiting.Token).AsTask());
        }

        await RunLeaseAsync(runner, 3, 5, Ct);
    }

    [Fact]
    public async Task FailingRequests_AreIsolated()
    {
        Gpu.Require();
        using var engine = NvrtcTestEngine.CreateElementwise(Width, maxBatch: 16);
        engine.FailingBatch = 7;
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 2 });
        int failed = 0;
        await Task.WhenAll(Enumerable.Range(0, 400).Select(i => Task.Run(async () =>
        {
            int batch = 1 + (i % 16);
            if (batch != 7)
            {
                await RunLeaseAsync(runner, i, batch, Ct);
                return;
            }

            var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => RunLeaseAsync(runner, i, batch, Ct));
            Assert.Contains("Injected failure", ex.Message, StringComparison.Ordinal);
            Interlocked.Increment(ref failed);
        }, Ct)));
        Assert.Equal(25, failed);
        await RunLeaseAsync(runner, 1, 8, Ct);
    }

    [Fact]
    public async Task DriverErrorInEnqueue_FailsThatRequestOnly()
    {
        Gpu.Require();
        using var engine = NvrtcTestEngine.CreateElementwise(Width, maxBatch: 16);
        engine.InvalidLaunchBatch = 5;
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 2 });
        int failed = 0;
        await Task.WhenAll(Enumerable.Range(0, 160).Select(i => Task.Run(async () =>
        {
            int batch = 1 + (i % 16);
            if (batch != 5)
            {
                await RunLeaseAsync(runner, i, batch, Ct);
                return;
            }

            var ex = await Assert.ThrowsAsync<CudaException>(() => RunLeaseAsync(runner, i, batch, Ct));
            Assert.Equal("cuLaunchKernel", ex.Call);
            Assert.Equal("CUDA_ERROR_INVALID_VALUE", ex.ErrorName);
            Assert.False(ex.IsSticky);
            Interlocked.Increment(ref failed);
        }, Ct)));
        Assert.Equal(10, failed);
    }

    [Fact]
    public async Task DisposeAsync_WithWorkInFlight()
    {
        Gpu.Require();
        using var engine = NvrtcTestEngine.CreateElementwise(Width, maxBatch: 32);
        var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 4 });
        int done = 0, refused = 0;
        var tasks = Enumerable.Range(0, 2000).Select(i => Task.Run(async () =>
        {
            try
            {
                await RunLeaseAsync(runner, i, 32, CancellationToken.None);
                Interlocked.Increment(ref done);
            }
            catch (ObjectDisposedException)
            {
                Interlocked.Increment(ref refused);
            }
        }, Ct)).ToArray();
        Assert.True(SpinWait.SpinUntil(() => engine.Enqueues >= 1, TimeSpan.FromSeconds(30)), "no request started");
        await runner.DisposeAsync();
        await Task.WhenAll(tasks);
        Assert.Equal(2000, done + refused);
        Assert.Equal(done, engine.Enqueues);
        Gpu.Log($"{{\"kind\":\"dispose_in_flight\",\"completed\":{done},\"refused\":{refused}}}");
    }

    [Fact]
    public async Task NoLeaks_AfterDispose()
    {
        Gpu.Require();
        using var ctx = CudaContext.RetainPrimary(0);
        using var engine = NvrtcTestEngine.CreateElementwise(1024, maxBatch: 8192); // 32 MiB per [batch, width] tensor
        await using (var warm = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 1 }))
            await RunLeaseAsync(warm, 0, 1, Ct, width: 1024);
        long pinned0 = CudaDiagnostics.LivePinnedBytes, device0 = CudaDiagnostics.LiveDeviceBytes;
        var (free0, _) = ctx.GetMemoryInfo();
        long freeDuring;
        await using (var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 4 }))
        {
            await Task.WhenAll(Enumerable.Range(0, 16).Select(i => RunLeaseAsync(runner, i, 1 + i * 100, Ct, width: 1024)));
            freeDuring = ctx.GetMemoryInfo().Free;
            Assert.True(CudaDiagnostics.LivePinnedBytes - pinned0 >= 4L * 4 * 32 * 1024 * 1024, "pinned buffers were allocated");
        }

        var (free1, _) = ctx.GetMemoryInfo();
        Gpu.Log($"{{\"kind\":\"leaks\",\"free_before\":{free0},\"free_during\":{freeDuring},\"free_after\":{free1},\"pinned_before\":{pinned0},\"pinned_after\":{CudaDiagnostics.LivePinnedBytes}}}");
        Assert.True(free0 - freeDuring > 4L * 4 * 32 * 1024 * 1024, $"the runner should hold > 512 MiB of device memory (free {free0} -> {freeDuring})");
        Assert.Equal(pinned0, CudaDiagnostics.LivePinnedBytes);
        Assert.Equal(device0, CudaDiagnostics.LiveDeviceBytes);
        Assert.InRange(free0 - free1, -(4L << 20), 4L << 20);
    }

    [Fact]
    public async Task PipelineKernel_MatchesCpuReferenceBitForBit()
    {
        Gpu.Require();
        const int nIn = 1 << 16, nOut = 1 << 10, iters = 16;
        using var engine = NvrtcTestEngine.CreatePipeline(nIn * 4, nOut * 4, iters, blocks: 66);
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 2 });
        var input = new float[nIn];
        for (int i = 0; i < nIn; i++)
            input[i] = (float)((uint)(i * 2654435761u) % 1000) / 1000f;
        var expected = new float[nOut];
        NvrtcTestEngine.PipelineReference(input, expected, iters);
        using var lease = await runner.AcquireAsync(Ct);
        input.CopyTo(lease.GetInputSpan<float>(0));
        await lease.RunAsync(Ct);
        Assert.Equal(expected, lease.GetOutputSpan<float>(1).ToArray());
    }

    [Fact]
    public void DriverFacts()
    {
        Gpu.Require();
        Gpu.Log($"{{\"kind\":\"device\",\"name\":\"{CudaDriver.GetDeviceName(0)}\",\"driver\":{CudaDriver.Version},\"cc\":\"{CudaDriver.GetComputeCapability(0)}\",\"sms\":{CudaDriver.GetMultiprocessorCount(0)},\"nvrtc\":\"{Nvrtc.Version}\",\"nvrtc_lib\":\"{CudaDriver.LoadedNvrtcLibrary}\"}}");
        Assert.True(CudaDriver.Version >= 12000);
        var ex = Assert.Throws<NvrtcException>(() => Nvrtc.CompileToPtx("this is not C++", "bad.cu"));
        Assert.Contains("nvrtcCompileProgram", ex.Message, StringComparison.Ordinal);
        Assert.Contains("bad.cu", ex.Log, StringComparison.Ordinal);
        using var ctx = CudaContext.RetainPrimary(0);
        var oom = Assert.Throws<CudaException>(() => ctx.Allocate(1L << 50));
        Assert.Equal("CUDA_ERROR_OUT_OF_MEMORY", oom.ErrorName);
        Assert.StartsWith("cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (2)", oom.Message, StringComparison.Ordinal);
        // A non-sticky error leaves the context usable.
        using var buffer = ctx.Allocate(1024);
        using var stream = ctx.CreateStream();
        stream.Synchronize();
    }
}
