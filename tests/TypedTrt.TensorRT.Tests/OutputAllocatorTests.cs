using System.Runtime.InteropServices;
using TypedTrt.Runtime;
using TypedTrt.Runtime.Engine;

namespace TypedTrt.TensorRT.Tests;

/// <summary>
/// The output allocator contract (TensorRT's IOutputAllocator through ttrt_context_set_output_allocator) against the
/// fake's data-dependent 'counts' output, whose length varies per request: the context asks for memory of the size it
/// needs, writes there and reports the shape before Enqueue returns; the runner grows each slot's buffer only when a
/// request needs more than it has seen.
/// </summary>
public sealed class OutputAllocatorTests : IDisposable
{
    private static readonly TensorRtEngineOptions HostOptions = new() { PlacementForTesting = BufferPlacement.Host };

    public OutputAllocatorTests()
    {
        FakeShim.Require();
        FakeShim.Reset();
        FakeShim.SetDataDependentCounts(true);
    }

    public void Dispose()
    {
        FakeShim.SetDataDependentCounts(false);
        Assert.Equal((0, 0, 0), FakeShim.LiveHandles());
    }

    /// <summary>Records every call and hands out aligned host memory, growing when asked for more.</summary>
    private sealed unsafe class RecordingAllocator : IOutputAllocator, IDisposable
    {
        public readonly List<(int Tensor, nint Current, long Bytes, long Alignment)> Reallocations = [];
        public readonly List<(int Tensor, long[] Shape)> Shapes = [];
        public nint Memory;
        public long Capacity;
        public bool ReturnNull;

        public nint ReallocateOutput(int tensorIndex, nint currentAddress, long bytes, long alignment, nint stream)
        {
            Reallocations.Add((tensorIndex, currentAddress, bytes, alignment));
            if (ReturnNull)
                return 0;
            if (bytes > Capacity)
            {
                if (Memory != 0)
                    NativeMemory.AlignedFree((void*)Memory);
                Memory = (nint)NativeMemory.AlignedAlloc((nuint)bytes, 256);
                Capacity = bytes;
            }

            return Memory;
        }

        public void NotifyShape(int tensorIndex, ReadOnlySpan<long> dims) => Shapes.Add((tensorIndex, dims.ToArray()));

        public void Dispose()
        {
            if (Memory != 0)
                NativeMemory.AlignedFree((void*)Memory);
        }
    }

    private sealed unsafe class Buffers : IDisposable
    {
        public readonly float* Images = (float*)NativeMemory.AlignedAlloc(4 * 3 * 8 * 8 * sizeof(float), 256);
        public readonly long* Offset = (long*)NativeMemory.AlignedAlloc(4 * sizeof(long), 256);
        public readonly float* Scores = (float*)NativeMemory.AlignedAlloc(4 * 3 * 8 * 8 * sizeof(float), 256);

        public void Bind(IEngineContext context)
        {
            context.SetTensorAddress(0, (nint)Images, 4 * 3 * 8 * 8 * sizeof(float));
            context.SetTensorAddress(1, (nint)Offset, 4 * sizeof(long));
            context.SetTensorAddress(2, (nint)Scores, 4 * 3 * 8 * 8 * sizeof(float));
        }

        /// <summary>Batch item b gets (b + 1) positive elements when positive[b], none otherwise.</summary>
        public void Fill(bool[] positive)
        {
            const int PerItem = 3 * 8 * 8;
            for (int b = 0; b < positive.Length; b++)
            {
                for (int k = 0; k < PerItem; k++)
                    Images[(b * PerItem) + k] = positive[b] && k <= b ? 1f : -1f;
                Offset[b] = b;
            }
        }

        public void Dispose()
        {
            NativeMemory.AlignedFree(Images);
            NativeMemory.AlignedFree(Offset);
            NativeMemory.AlignedFree(Scores);
        }
    }

    [Fact]
    public unsafe void The_context_asks_for_the_bytes_it_needs_writes_there_and_reports_the_shape_per_request()
    {
        using var engine = TensorRtEngine.Load(FakeShim.Plan(), Manifests.Expected(), HostOptions);
        using var context = engine.CreateContext();
        using var buffers = new Buffers();
        using var allocator = new RecordingAllocator();
        buffers.Bind(context);
        context.SetOutputAllocator(3, allocator);
        context.SetInputShape(0, [4, 3, 8, 8]);
        context.SetInputShape(1, [4]);
        Span<long> dims = stackalloc long[8];
        Assert.Equal(1, context.GetTensorShape(3, dims));
        Assert.Equal(-1, dims[0]); // data-dependent: unknown before the run

        bool[][] requests = [[true, false, true, false], [true, true, true, true], [false, false, false, false], [false, true, false, false]];
        foreach (bool[] positive in requests)
        {
            buffers.Fill(positive);
            allocator.Reallocations.Clear();
            allocator.Shapes.Clear();
            context.Enqueue(0);
            int[] expected = positive.Select((p, b) => p ? b + 1 : 0).Where(static c => c > 0).ToArray();
            var call = Assert.Single(allocator.Reallocations);
            Assert.Equal(3, call.Tensor);
            Assert.Equal(Math.Max(expected.Length * 4, 1), call.Bytes); // TensorRT asks for at least one byte
            Assert.Equal(256, call.Alignment);
            var shape = Assert.Single(allocator.Shapes);
            Assert.Equal(3, shape.Tensor);
            Assert.Equal([(long)expected.Length], shape.Shape);
            Assert.Equal(expected, new ReadOnlySpan<int>((void*)allocator.Memory, expected.Length).ToArray());
            Assert.Equal(1, context.GetTensorShape(3, dims));
            Assert.Equal(expected.Length, dims[0]);
        }

        Assert.Contains("context_set_output_allocator(counts)", FakeShim.CallLog(), StringComparison.Ordinal);
    }

    [Fact]
    public void An_allocator_returning_null_fails_the_enqueue_with_the_engines_error()
    {
        using var engine = TensorRtEngine.Load(FakeShim.Plan(), Manifests.Expected(), HostOptions);
        using var context = engine.CreateContext();
        using var buffers = new Buffers();
        using var allocator = new RecordingAllocator { ReturnNull = true };
        buffers.Bind(context);
        context.SetOutputAllocator(3, allocator);
        context.SetInputShape(0, [2, 3, 8, 8]);
        context.SetInputShape(1, [2]);
        buffers.Fill([true, true]);
        var e = Assert.Throws<TensorRtException>(() => context.Enqueue(0));
        Assert.Contains("reallocateOutputAsync for 'counts' (8 bytes) returned NULL", e.Message, StringComparison.Ordinal);
        Assert.Empty(allocator.Shapes);
    }

    [Fact]
    public void Without_an_allocator_a_data_dependent_output_is_a_clear_error_and_inputs_take_none()
    {
        using var engine = TensorRtEngine.Load(FakeShim.Plan(), Manifests.Expected(), HostOptions);
        using var context = engine.CreateContext();
        using var buffers = new Buffers();
        buffers.Bind(context);
        context.SetInputShape(0, [1, 3, 8, 8]);
        context.SetInputShape(1, [1]);
        var e = Assert.Throws<TensorRtException>(() => context.Enqueue(0));
        Assert.Contains("set an output allocator", e.Message, StringComparison.Ordinal);
        using var allocator = new RecordingAllocator();
        Assert.Throws<ArgumentException>(() => context.SetOutputAllocator(0, allocator));
        context.SetOutputAllocator(3, allocator);
        context.SetOutputAllocator(3, null); // removing it again is allowed
        Assert.Throws<TensorRtException>(() => context.Enqueue(0));
    }

    [Fact]
    public async Task The_runner_sizes_the_output_at_run_time_and_stops_growing_once_it_has_seen_the_largest()
    {
        using var engine = TensorRtEngine.Load(FakeShim.Plan(), Manifests.Expected(), HostOptions);
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 1 });
        Assert.True(runner.IsShapeKnownAfterRun(3));
        Assert.False(runner.IsShapeKnownAfterRun(2));
        const int PerItem = 3 * 8 * 8;
        bool[][] requests = [[true], [true, true, false, true], [true, true, true, true], [false, false], [true, false, true, true], [true, true, true, true]];
        long growthsAfterLargest = -1;
        for (int r = 0; r < requests.Length; r++)
        {
            bool[] positive = requests[r];
            int batch = positive.Length;
            using var lease = await runner.AcquireAsync(TestContext.Current.CancellationToken);
            lease.SetInputShape(0, [batch, 3, 8, 8]);
            lease.SetInputShape(1, [batch]);
            var images = lease.GetInputSpan<float>(0);
            for (int b = 0; b < batch; b++)
            {
                for (int k = 0; k < PerItem; k++)
                    images[(b * PerItem) + k] = positive[b] && k <= b ? 1f : -1f;
            }

            lease.GetInputSpan<long>(1).Clear();
            await lease.RunAsync(TestContext.Current.CancellationToken);
            int[] expected = positive.Select((p, b) => p ? b + 1 : 0).Where(static c => c > 0).ToArray();
            Assert.Equal([(long)expected.Length], lease.GetOutputShape(3).ToArray());
            Assert.Equal(expected, lease.GetOutputSpan<int>(3).ToArray());
            Assert.Equal([(long)batch, 3, 8, 8], lease.GetOutputShape(2).ToArray());
            if (r == 2)
                growthsAfterLargest = runner.OutputBufferGrowthCount;
        }

        Assert.Equal(growthsAfterLargest, runner.OutputBufferGrowthCount);
    }
}
