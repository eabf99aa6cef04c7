using TypedTrt.Runtime;
using TypedTrt.Runtime.Batching;
using TypedTrt.Runtime.Engine;

// Every wait is bounded by WaitAsync(Long); requests run without a token on purpose (a cancellable token changes the queue path).
#pragma warning disable xUnit1051

namespace TypedTrt.TensorRT.Tests;

/// <summary>
/// Dynamic batching through the TensorRT backend against the fake C ABI (host placement): the runner sets the batch
/// shape on real <c>ttrt_context_*</c> calls, the fake computes scores = 2·images + offset and counts = #positive per
/// row, and every caller must get exactly its rows back.
/// </summary>
public sealed class BatchingContractTests : IDisposable
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(60);
    private static readonly TensorRtEngineOptions HostOptions = new() { PlacementForTesting = BufferPlacement.Host };

    public BatchingContractTests() => FakeShim.Require();

    public void Dispose() => Assert.Equal((0, 0, 0), FakeShim.LiveHandles());

    private static float Pixel(int request, int i) => ((request * 13 + i) % 9) - 4;

    private static InferenceInput[] Request(int request, int rows, int size)
    {
        int n = rows * 3 * size * size;
        var images = new float[n];
        for (int i = 0; i < n; i++)
            images[i] = Pixel(request, i);
        var offset = Enumerable.Range(0, rows).Select(r => (long)(request * 10 + r)).ToArray();
        return [InferenceInput.Create<float>(0, images, [rows, 3, size, size]), InferenceInput.Create<long>(1, offset, [rows])];
    }

    private static void AssertRows(InferenceResult result, int request, int rows, int size)
    {
        Assert.Equal(new long[] { rows, 3, size, size }, result.GetOutput("scores").Shape);
        var scores = result.GetOutput("scores").AsSpan<float>();
        var counts = result.GetOutput("counts").AsSpan<int>();
        int per = 3 * size * size;
        for (int r = 0; r < rows; r++)
        {
            int positive = 0;
            for (int k = 0; k < per; k++)
            {
                float x = Pixel(request, r * per + k);
                Assert.Equal(2 * x + (request * 10 + r), scores[r * per + k]);
                positive += x > 0 ? 1 : 0;
            }

            Assert.Equal(positive, counts[r]);
        }
    }

    [Fact]
    public async Task Concurrent_callers_of_two_image_sizes_get_their_own_rows_through_the_TensorRT_backend()
    {
        using var engine = TensorRtEngine.Load(FakeShim.Plan(), Manifests.Expected(), HostOptions);
        await using (var runner = new InferenceRunner(engine, new InferenceRunnerOptions
        {
            Streams = 2,
            Batching = new DynamicBatchingOptions { MaxBatchSize = 4, MaxQueueDelay = TimeSpan.FromMilliseconds(3) },
        }))
        {
            var rng = new Random(3);
            var plan = Enumerable.Range(0, 200).Select(i => (Id: i, Rows: rng.Next(1, 3), Size: rng.Next(2) == 0 ? 8 : 16)).ToArray();
            using var go = new ManualResetEventSlim();
            var tasks = plan.Select(p => Task.Run(async () =>
            {
                go.Wait();
                AssertRows(await runner.RunAsync(Request(p.Id, p.Rows, p.Size)), p.Id, p.Rows, p.Size);
            })).ToArray();
            go.Set();
            await Task.WhenAll(tasks).WaitAsync(Long);
            var stats = runner.GetBatchingStatistics()!;
            Assert.Equal(200, stats.Requests);
            Assert.True(stats.Batches < 200, stats.ToString());
            Assert.True(stats.BatchSizeCounts.Skip(2).Sum() > 0, "no batch had more than one row");
        }
    }

    [Fact]
    public async Task An_enqueue_failure_in_the_backend_fails_exactly_the_requests_of_that_batch()
    {
        using var engine = TensorRtEngine.Load(FakeShim.Plan(), Manifests.Expected(), HostOptions);
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions
        {
            Streams = 1,
            Batching = new DynamicBatchingOptions { MaxBatchSize = 2, MaxQueueDelay = TimeSpan.FromSeconds(30) },
        });
        FakeShim.FailNext("context_enqueue", "enqueueV3: injected failure");
        var a = runner.RunAsync(Request(1, 1, 8)).AsTask();
        var b = runner.RunAsync(Request(2, 1, 8)).AsTask(); // fills the batch: it runs, and fails
        var ea = await Assert.ThrowsAsync<TensorRtException>(() => a.WaitAsync(Long));
        var eb = await Assert.ThrowsAsync<TensorRtException>(() => b.WaitAsync(Long));
        Assert.Equal("enqueueV3: injected failure", ea.NativeMessage);
        Assert.Equal("enqueueV3: injected failure", eb.NativeMessage);
        var c = runner.RunAsync(Request(3, 1, 8)).AsTask();
        var d = runner.RunAsync(Request(4, 1, 8)).AsTask();
        AssertRows(await c.WaitAsync(Long), 3, 1, 8);
        AssertRows(await d.WaitAsync(Long), 4, 1, 8);
    }

    [Fact]
    public void MaxBatchSize_beyond_the_engines_profile_is_refused_with_its_range()
    {
        using var engine = TensorRtEngine.Load(FakeShim.Plan(), Manifests.Expected(), HostOptions);
        var e = Assert.Throws<ArgumentException>(() => new InferenceRunner(engine, new InferenceRunnerOptions
        {
            Streams = 1,
            Batching = new DynamicBatchingOptions { MaxBatchSize = 8 },
        }));
        Assert.Contains("MaxBatchSize is 8, above optimization profile 0's range 1..4", e.Message);
    }
}
