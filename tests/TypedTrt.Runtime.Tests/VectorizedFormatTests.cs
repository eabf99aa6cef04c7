using TypedTrt.Manifest;
using TypedTrt.Runtime.Engine;
using Xunit;

namespace TypedTrt.Runtime.Tests;

/// <summary>Buffers of vectorized formats are sized with TensorBinding.GetByteCount (the vectorized dim is padded).</summary>
public sealed class VectorizedFormatTests
{
    // x: half [batch, 3, 2, 2] in CHW4 (dim 1 padded to 4); y: same layout, y = x copied.
    private sealed unsafe class EchoEngine : IInferenceEngine
    {
        public BindingManifest Signature { get; } = new(
            new ModelSource(ModelKind.TensorRTEngine, "echo.engine", new string('0', 64), 1),
            [
                new TensorBinding("x", TensorMode.Input, "half", [-1, 3, 2, 2], null, new EngineTensorLayout(TensorFormat.Chw4, 1, 4, 2)),
                new TensorBinding("y", TensorMode.Output, "half", [-1, 3, 2, 2], null, new EngineTensorLayout(TensorFormat.Chw4, 1, 4, 2)),
            ],
            [new OptimizationProfile([new ProfileShape("x", [1, 3, 2, 2], [2, 3, 2, 2], [5, 3, 2, 2])])]);

        public BufferPlacement Placement => BufferPlacement.Host;

        public IEngineContext CreateContext() => new Ctx();

        public void Dispose()
        {
        }

        private sealed class Ctx : IEngineContext
        {
            private long _batch;
            private readonly nint[] _addr = new nint[2];

            public void SetOptimizationProfile(int profileIndex, nint stream)
            {
            }

            public void SetInputShape(int tensorIndex, ReadOnlySpan<long> dims) => _batch = dims[0];

            public int GetTensorShape(int tensorIndex, Span<long> dims)
            {
                dims[0] = _batch;
                dims[1] = 3;
                dims[2] = 2;
                dims[3] = 2;
                return 4;
            }

            public void SetTensorAddress(int tensorIndex, nint address, long capacityBytes) => _addr[tensorIndex] = address;

            public void Enqueue(nint stream)
            {
                long bytes = _batch * 4 * 2 * 2 * 2;
                Buffer.MemoryCopy((void*)_addr[0], (void*)_addr[1], bytes, bytes);
            }

            public void Dispose()
            {
            }
        }
    }

    [Fact]
    public async Task PaddedBuffers_AndSpans()
    {
        using var engine = new EchoEngine();
        await using var runner = new InferenceRunner(engine);
        Assert.Equal(256, runner.GetBufferCapacity(0)); // 160 bytes rounded up
        using var lease = await runner.AcquireAsync(TestContext.Current.CancellationToken);
        lease.SetInputShape(0, [2, 3, 2, 2]);
        var x = lease.GetInputSpan<Half>(0);
        Assert.Equal(2 * 4 * 2 * 2, x.Length); // padded: 4 channels, not 3
        for (int i = 0; i < x.Length; i++)
            x[i] = (Half)i;
        await lease.RunAsync(TestContext.Current.CancellationToken);
        Assert.Equal([2L, 3, 2, 2], lease.GetOutputShape(1).ToArray());
        var y = lease.GetOutputSpan<Half>(1);
        Assert.Equal(32, y.Length);
        Assert.Equal((Half)31, y[31]);
        Assert.Throws<NotSupportedException>(() => lease.GetOutputTensorSpan<Half>(1));
    }
}
