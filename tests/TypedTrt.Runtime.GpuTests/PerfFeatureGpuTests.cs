using TypedTrt.Runtime.Testing;
using Xunit;

namespace TypedTrt.Runtime.GpuTests;

/// <summary>Issue 4 features on the GPU: completion modes, CUDA graph replay and its fallback, stage profiling.</summary>
public sealed class PerfFeatureGpuTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task RunAndCheck(InferenceRunner runner, int requests, int iters)
    {
        var input = new float[runner.GetMaxShape(0)[0]];
        var expected = new float[runner.GetMaxShape(1)[0]];
        for (int r = 0; r < requests; r++)
        {
            using var lease = await runner.AcquireAsync(Ct);
            var span = lease.GetInputSpan<float>(0);
            for (int i = 0; i < span.Length; i++)
                span[i] = input[i] = (i * 7 + r) % 13;
            await lease.RunAsync(Ct);
            NvrtcTestEngine.PipelineReference(input, expected, iters);
            Assert.Equal(expected, lease.GetOutputSpan<float>(1).ToArray());
        }
    }

    [Theory]
    [InlineData(CompletionMode.Polling, false)]
    [InlineData(CompletionMode.Callback, false)]
    [InlineData(CompletionMode.Polling, true)]
    [InlineData(CompletionMode.Callback, true)]
    public async Task Every_mode_gives_exact_results(CompletionMode mode, bool graphs)
    {
        Gpu.Require();
        using var engine = NvrtcTestEngine.CreatePipeline(4096, 256, 3, 2);
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 2, Completion = mode, UseCudaGraphs = graphs });
        await RunAndCheck(runner, 20, 3);
        if (graphs)
        {
            Assert.True(runner.GraphLaunchCount >= 18, $"{runner.GraphLaunchCount} graph launches");
            Assert.Equal(0, runner.GraphFallbackCount);
        }
        else
        {
            Assert.Equal(0, runner.GraphLaunchCount);
        }
    }

    [Fact]
    public async Task A_failed_capture_falls_back_to_normal_enqueue()
    {
        Gpu.Require();
        using var engine = NvrtcTestEngine.CreatePipeline(4096, 256, 3, 2);
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 1, UseCudaGraphs = true });
        // Inject a capture failure into the (only) slot's first request.
        runner.FailGraphCaptureForTesting = true;

        await RunAndCheck(runner, 5, 3);
        Assert.Equal(1, runner.GraphFallbackCount);
        Assert.Equal(0, runner.GraphLaunchCount);
    }

    [Fact]
    public async Task Dynamic_shapes_never_use_graphs()
    {
        Gpu.Require();
        using var engine = NvrtcTestEngine.CreateElementwise(16, 4);
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 1, UseCudaGraphs = true });
        using var lease = await runner.AcquireAsync(Ct);
        lease.SetInputShape(0, [2, 16]);
        lease.SetInputShape(1, [2, 16]);
        lease.SetInputShape(2, [2]);
        await lease.RunAsync(Ct);
        Assert.Equal(0, runner.GraphLaunchCount);
        Assert.Equal(0, runner.GraphFallbackCount);
    }

    [Fact]
    public async Task Profiling_reports_positive_stage_times()
    {
        Gpu.Require();
        using var engine = NvrtcTestEngine.CreatePipeline(1 << 20, 4096, 8, 8);
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 2 });
        runner.StartProfiling();
        await RunAndCheck(runner, 10, 8);
        var t = runner.StopProfiling();
        Assert.Equal(10, t.Requests);
        Assert.True(t.H2DMicroseconds > 0 && t.ComputeMicroseconds > 0 && t.D2HMicroseconds > 0, t.ToString());
        Assert.Equal(1 << 20, t.H2DBytes);
        var (gbps, _) = await runner.MeasureInputCopyBandwidthAsync(cancellationToken: Ct);
        Assert.True(gbps > 1, $"{gbps} GB/s");
        Gpu.Log($"{{\"kind\":\"profile_test\",\"h2d_us\":{t.H2DMicroseconds:F1},\"compute_us\":{t.ComputeMicroseconds:F1},\"d2h_us\":{t.D2HMicroseconds:F1},\"gap_us\":{t.HostGapMicroseconds:F1},\"copy_gbps\":{gbps:F2}}}");
    }
}
