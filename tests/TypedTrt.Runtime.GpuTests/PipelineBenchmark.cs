#pragma warning disable xUnit1051 // the benchmark measures the default (no token) path
using System.Diagnostics;
using System.Globalization;
using TypedTrt.Runtime.Testing;
using Xunit;

namespace TypedTrt.Runtime.GpuTests;

/// <summary>
/// The runner doing native-pipeline.cu's work (same kernel, grid and sizes): S concurrent callers, each request
/// H2D + engine + D2H on a leased slot. Prints one JSON line per stream count to $TYPEDTRT_GPU_OUT/gpu-tests.log.
/// Runs only with TYPEDTRT_BENCH=1 (skips otherwise, visibly).
/// </summary>
public sealed class PipelineBenchmark
{
    [Fact]
    public async Task Throughput_ByStreamCount()
    {
        Gpu.Require();
        if (Environment.GetEnvironmentVariable("TYPEDTRT_BENCH") != "1")
            Assert.Skip("Benchmark: set TYPEDTRT_BENCH=1 to run it.");
        static long Env(string name, long fallback) =>
            long.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) ? v : fallback;
        long inBytes = Env("BENCH_IN_BYTES", 8 << 20), outBytes = Env("BENCH_OUT_BYTES", 64 << 10);
        int iters = (int)Env("BENCH_ITERS", 64), blocks = (int)Env("BENCH_BLOCKS", 66), requests = (int)Env("BENCH_REQUESTS", 512);
        int maxStreams = (int)Env("BENCH_MAX_STREAMS", 8);
        const int reps = 5;
        using var engine = NvrtcTestEngine.CreatePipeline(inBytes, outBytes, iters, blocks);
        double baseRps = 0;
        for (int streams = 1; streams <= maxStreams; streams *= 2)
        {
            await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = streams });
            // Fill every slot's input once, as the native pipeline does.
            var leases = new List<InferenceLease>();
            for (int s = 0; s < streams; s++)
            {
                var l = await runner.AcquireAsync();
                var span = l.GetInputSpan<float>(0);
                for (int i = 0; i < span.Length; i++)
                    span[i] = (float)((uint)(i * 2654435761u + (uint)l.SlotIndex) % 1000) / 1000f;
                leases.Add(l);
            }

            foreach (var l in leases)
                l.Dispose();
            var rps = new List<double>();
            for (int rep = 0; rep < reps + 1; rep++)
            {
                int next = 0;
                var sw = Stopwatch.StartNew();
                var workers = Enumerable.Range(0, streams).Select(_ => Task.Run(async () =>
                {
                    while (Interlocked.Increment(ref next) <= requests)
                    {
                        using var lease = await runner.AcquireAsync();
                        await lease.RunAsync();
                    }
                }));
                await Task.WhenAll(workers);
                sw.Stop();
                if (rep > 0)
                    rps.Add(requests / sw.Elapsed.TotalSeconds);
            }

            rps.Sort();
            double median = rps[rps.Count / 2];
            if (streams == 1)
                baseRps = median;
            long allocated = GC.GetTotalAllocatedBytes(precise: true);
            Gpu.Log(string.Create(CultureInfo.InvariantCulture,
                $"{{\"kind\":\"runner_pipeline\",\"streams\":{streams},\"requests\":{requests},\"req_per_s_median\":{median:F1},\"req_per_s_min\":{rps[0]:F1},\"req_per_s_max\":{rps[^1]:F1},\"speedup_vs_1\":{median / baseRps:F3}}}"));
            _ = allocated;
        }

        // Allocation per steady-state lease request (one caller, one slot).
        await using (var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 1 }))
        {
            for (int i = 0; i < 50; i++)
            {
                using var lease = await runner.AcquireAsync();
                await lease.RunAsync();
            }

            long before = GC.GetTotalAllocatedBytes(precise: true);
            const int n = 200;
            for (int i = 0; i < n; i++)
            {
                using var lease = await runner.AcquireAsync();
                await lease.RunAsync();
            }

            long perRequest = (GC.GetTotalAllocatedBytes(precise: true) - before) / n;
            Gpu.Log(string.Create(CultureInfo.InvariantCulture, $"{{\"kind\":\"alloc\",\"bytes_per_lease_request\":{perRequest}}}"));
        }
    }
}
