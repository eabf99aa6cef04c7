using TypedTrt.Runtime.Batching;
using TypedTrt.Runtime.Cuda;
using TypedTrt.Runtime.Testing;
using Xunit;

// Every wait is bounded by WaitAsync(Long); requests run without a token on purpose (a cancellable token changes the queue path).
#pragma warning disable xUnit1051

namespace TypedTrt.Runtime.GpuTests;

/// <summary>Dynamic batching on the GPU with the NVRTC engines: exact results per caller, failure isolation with real driver errors.</summary>
public sealed class BatchingGpuTests
{
    private const int Width = 64;
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(60);

    private static (float[] A, float[] B, int[] Bias) Make(int seed, int rows)
    {
        var rng = new Random(seed);
        var a = new float[rows * Width];
        var b = new float[rows * Width];
        var bias = new int[rows];
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = rng.Next(-64, 65);
            b[i] = rng.Next(-64, 65);
        }

        for (int i = 0; i < rows; i++)
            bias[i] = rng.Next(-100000, 100000);
        return (a, b, bias);
    }

    private static InferenceInput[] Inputs((float[] A, float[] B, int[] Bias) r, int rows) =>
    [
        InferenceInput.Create<float>(0, r.A, [rows, Width]),
        InferenceInput.Create<float>(1, r.B, [rows, Width]),
        InferenceInput.Create<int>(2, r.Bias, [rows]),
    ];

    private static void Check(int seed, (float[] A, float[] B, int[] Bias) r, int rows, ReadOnlySpan<float> sum, ReadOnlySpan<float> prod, ReadOnlySpan<float> rowdot, ReadOnlySpan<long> greater)
    {
        Assert.Equal(rows * Width, sum.Length);
        Assert.Equal(rows, rowdot.Length);
        for (int i = 0; i < r.A.Length; i++)
        {
            if (sum[i] != r.A[i] + r.B[i] || prod[i] != r.A[i] * r.B[i])
                Assert.Fail($"caller {seed}: element {i}: sum {sum[i]} prod {prod[i]}, expected {r.A[i] + r.B[i]} and {r.A[i] * r.B[i]}");
        }

        for (int row = 0; row < rows; row++)
        {
            float dot = 0;
            long gt = 0;
            for (int j = 0; j < Width; j++)
            {
                dot += r.A[row * Width + j] * r.B[row * Width + j];
                gt += r.A[row * Width + j] > r.B[row * Width + j] ? 1 : 0;
            }

            if (rowdot[row] != dot + r.Bias[row] || greater[row] != gt)
                Assert.Fail($"caller {seed}: row {row}: rowdot {rowdot[row]} greater {greater[row]}, expected {dot + r.Bias[row]} and {gt}");
        }
    }

    [Fact]
    public async Task A_thousand_concurrent_callers_with_random_rows_get_exact_results_from_batches()
    {
        Gpu.Require();
        using var engine = NvrtcTestEngine.CreateElementwise(Width, maxBatch: 32);
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions
        {
            Streams = 4,
            Batching = new DynamicBatchingOptions { MaxBatchSize = 32, MaxQueueDelay = TimeSpan.FromMilliseconds(1) },
        });
        var rng = new Random(99);
        var plan = Enumerable.Range(0, 1000).Select(i => (Seed: i, Rows: rng.Next(1, 5))).ToArray();
        using var go = new ManualResetEventSlim();
        var tasks = plan.Select(p => Task.Run(async () =>
        {
            go.Wait();
            var r = Make(p.Seed, p.Rows);
            if (p.Seed % 2 == 0)
            {
                var result = await runner.RunAsync(Inputs(r, p.Rows));
                Check(p.Seed, r, p.Rows, result.GetOutput("sum").AsSpan<float>(), result.GetOutput("prod").AsSpan<float>(), result.GetOutput("rowdot").AsSpan<float>(), result.GetOutput("greater").AsSpan<long>());
            }
            else
            {
                using var lease = await runner.AcquireAsync();
                lease.SetInputShape(0, [p.Rows, Width]);
                lease.SetInputShape(1, [p.Rows, Width]);
                lease.SetInputShape(2, [p.Rows]);
                r.A.CopyTo(lease.GetInputSpan<float>(0));
                r.B.CopyTo(lease.GetInputSpan<float>(1));
                r.Bias.CopyTo(lease.GetInputSpan<int>(2));
                await lease.RunAsync();
                Check(p.Seed, r, p.Rows, lease.GetOutputSpan<float>(3), lease.GetOutputSpan<float>(4), lease.GetOutputSpan<float>(5), lease.GetOutputSpan<long>(6));
            }
        })).ToArray();
        go.Set();
        await Task.WhenAll(tasks).WaitAsync(Long);
        var stats = runner.GetBatchingStatistics()!;
        Gpu.Log($"{{\"test\":\"batching_1000_callers\",\"batches\":{stats.Batches},\"rows\":{stats.Rows},\"mean_batch\":{stats.MeanBatchSize:F2},\"wait_p50_us\":{stats.QueueWaitP50.TotalMicroseconds:F0},\"wait_p99_us\":{stats.QueueWaitP99.TotalMicroseconds:F0}}}");
        Assert.Equal(1000, stats.Requests);
        Assert.Equal(plan.Sum(p => p.Rows), stats.Rows);
        Assert.True(stats.Batches < 1000, stats.ToString());
    }

    [Fact]
    public async Task A_batch_that_fails_in_the_driver_fails_only_its_requests()
    {
        Gpu.Require();
        using var engine = NvrtcTestEngine.CreateElementwise(Width, maxBatch: 8);
        engine.InvalidLaunchBatch = 2; // cuLaunchKernel fails with CUDA_ERROR_INVALID_VALUE (not sticky) for batches of 2
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions
        {
            Streams = 1,
            Batching = new DynamicBatchingOptions { MaxBatchSize = 3, MaxQueueDelay = TimeSpan.FromSeconds(30), PreferredBatchSizes = [2] },
        });
        // Two single-row requests fill the preferred size 2 (a lone row waits for the 30 s delay): one batch of 2 that fails.
        var failing = Enumerable.Range(0, 2).Select(i => runner.RunAsync(Inputs(Make(i, 1), 1)).AsTask()).ToArray();
        foreach (var f in failing)
        {
            var e = await Assert.ThrowsAsync<CudaException>(() => f.WaitAsync(Long));
            Assert.Equal(1, e.Result); // CUDA_ERROR_INVALID_VALUE
        }

        // The slot stays usable: a request of MaxBatchSize rows runs at once as a batch of 3.
        var r = Make(7, 3);
        var ok = await runner.RunAsync(Inputs(r, 3)).AsTask().WaitAsync(Long);
        Check(7, r, 3, ok.GetOutput("sum").AsSpan<float>(), ok.GetOutput("prod").AsSpan<float>(), ok.GetOutput("rowdot").AsSpan<float>(), ok.GetOutput("greater").AsSpan<long>());
    }

    [Fact]
    public async Task The_batched_pipeline_engine_is_row_exact_for_64_single_row_callers()
    {
        Gpu.Require();
        using var engine = NvrtcTestEngine.CreateBatchedPipeline(4, 4, 0, 1, maxBatch: 64);
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions
        {
            Streams = 2,
            Batching = new DynamicBatchingOptions { MaxBatchSize = 32, MaxQueueDelay = TimeSpan.FromMicroseconds(200) },
        });
        var tasks = Enumerable.Range(0, 64).Select(c => Task.Run(async () =>
        {
            for (int i = 0; i < 50; i++)
            {
                float v = c * 1000 + i;
                var result = await runner.RunAsync([InferenceInput.Create<float>(0, [v], [1, 1])]);
                Assert.Equal(v, result.GetOutput("out").AsSpan<float>()[0]);
            }
        })).ToArray();
        await Task.WhenAll(tasks).WaitAsync(Long);
        var stats = runner.GetBatchingStatistics()!;
        Gpu.Log($"{{\"test\":\"batching_pipeline_64_callers\",\"batches\":{stats.Batches},\"mean_batch\":{stats.MeanBatchSize:F2}}}");
        Assert.Equal(64 * 50, stats.Requests);
        Assert.True(stats.MeanBatchSize > 1, stats.ToString());
    }
}
