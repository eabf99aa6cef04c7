using System.Collections.Concurrent;
using TypedTrt.Manifest;
using TypedTrt.Runtime.Engine;

namespace TypedTrt.Runtime.Tests;

/// <summary>
/// A host engine for batching tests with exact, per-row results and a second dynamic dimension.
/// Inputs: 0 "x" float [batch, len] (len 1..<see cref="MaxLen"/>), 1 "id" int64 [batch].
/// Outputs: 2 "y" float [batch, len] = 2·x + id, 3 "total" float [batch] = Σ x + id (integer-valued inputs: exact).
/// Records every enqueue (batch size, len, the ids in order); <see cref="Gate"/> can hold enqueues; a row whose id is
/// <see cref="FailId"/> makes its enqueue throw.
/// </summary>
internal sealed class RowEngine : IInferenceEngine
{
    public const int MaxLen = 8;
    public const long FailId = -7;

    public RowEngine(int maxBatch = 64, bool outputFollowsBatch = true, int minBatch = 1)
    {
        OutputFollowsBatch = outputFollowsBatch;
        Signature = new BindingManifest(
            new ModelSource(ModelKind.TensorRTEngine, "rows.engine", new string('0', 64), 1),
            [
                new TensorBinding("x", TensorMode.Input, "float", [-1, -1], ["batch", "len"]),
                new TensorBinding("id", TensorMode.Input, "int64", [-1], ["batch"]),
                new TensorBinding("y", TensorMode.Output, "float", [-1, -1], ["batch", "len"]),
                new TensorBinding("total", TensorMode.Output, "float", [-1], ["batch"]),
            ],
            [new OptimizationProfile([
                new ProfileShape("x", [minBatch, 1], [maxBatch, 4], [maxBatch, MaxLen]),
                new ProfileShape("id", [minBatch], [maxBatch], [maxBatch]),
            ])]);
    }

    public BindingManifest Signature { get; }

    public BufferPlacement Placement => BufferPlacement.Host;

    public bool OutputFollowsBatch { get; }

    /// <summary>When set, every enqueue waits for it first (tests fill the queue while the first batch is held).</summary>
    public ManualResetEventSlim? Gate { get; set; }

    /// <summary>Signalled when an enqueue starts (before the gate).</summary>
    public SemaphoreSlim Entered { get; } = new(0);

    public ConcurrentQueue<(int Batch, int Len, long[] Ids)> Batches { get; } = new();

    /// <summary>Whether enqueues are recorded in <see cref="Batches"/> and signalled (off for allocation measurements).</summary>
    public bool Record { get; set; } = true;

    public IEngineContext CreateContext() => new Context(this);

    public void Dispose()
    {
    }

    public static float Y(float x, long id) => 2 * x + id;

    private sealed unsafe class Context(RowEngine engine) : IEngineContext
    {
        private readonly nint[] _addr = new nint[4];
        private readonly long[] _cap = new long[4];
        private long _bx = -1, _len = -1, _bid = -1;

        public void SetOptimizationProfile(int profileIndex, nint stream) => ArgumentOutOfRangeException.ThrowIfNotEqual(profileIndex, 0);

        public void SetInputShape(int tensorIndex, ReadOnlySpan<long> dims)
        {
            if (tensorIndex == 0)
            {
                _bx = dims[0];
                _len = dims[1];
            }
            else if (tensorIndex == 1)
            {
                _bid = dims[0];
            }
            else
            {
                throw new ArgumentException("not an input");
            }
        }

        public int GetTensorShape(int tensorIndex, Span<long> dims)
        {
            long batch = engine.OutputFollowsBatch ? _bx : 1;
            switch (tensorIndex)
            {
                case 0: dims[0] = _bx; dims[1] = _len; return 2;
                case 1: dims[0] = _bid; return 1;
                case 2: dims[0] = batch; dims[1] = _len; return 2;
                case 3: dims[0] = batch; return 1;
                default: throw new ArgumentOutOfRangeException(nameof(tensorIndex));
            }
        }

        public void SetTensorAddress(int tensorIndex, nint address, long capacityBytes)
        {
            _addr[tensorIndex] = address;
            _cap[tensorIndex] = capacityBytes;
        }

        public void Enqueue(nint stream)
        {
            if (_bx != _bid || _bx < 1)
                throw new InvalidOperationException($"batch mismatch {_bx} vs {_bid}");
            int b = (int)_bx, len = (int)_len;
            if (b * len * 4L > _cap[0] || b * 8L > _cap[1] || b * len * 4L > _cap[2] || b * 4L > _cap[3])
                throw new InvalidOperationException("buffer too small");
            var x = new ReadOnlySpan<float>((void*)_addr[0], b * len);
            var id = new ReadOnlySpan<long>((void*)_addr[1], b);
            if (engine.Record)
            {
                engine.Batches.Enqueue((b, len, id.ToArray()));
                engine.Entered.Release();
            }

            engine.Gate?.Wait();
            if (id.Contains(FailId))
                throw new InvalidOperationException("Injected failure: a row has the engine's FailId.");
            var y = new Span<float>((void*)_addr[2], b * len);
            var total = new Span<float>((void*)_addr[3], b);
            for (int r = 0; r < b; r++)
            {
                float s = 0;
                for (int c = 0; c < len; c++)
                {
                    y[r * len + c] = Y(x[r * len + c], id[r]);
                    s += x[r * len + c];
                }

                total[r] = s + id[r];
            }
        }

        public void Dispose()
        {
        }
    }
}

/// <summary>A host engine batched over dimension 1: x float [2, batch, 3] → y float [2, batch, 3] = x + 1.</summary>
internal sealed class MiddleBatchEngine : IInferenceEngine
{
    public BindingManifest Signature { get; } = new(
        new ModelSource(ModelKind.TensorRTEngine, "middle.engine", new string('0', 64), 1),
        [
            new TensorBinding("x", TensorMode.Input, "float", [2, -1, 3], ["", "batch", ""]),
            new TensorBinding("y", TensorMode.Output, "float", [2, -1, 3], ["", "batch", ""]),
        ],
        [new OptimizationProfile([new ProfileShape("x", [2, 1, 3], [2, 4, 3], [2, 16, 3])])]);

    public BufferPlacement Placement => BufferPlacement.Host;

    public ConcurrentQueue<int> Batches { get; } = new();

    public IEngineContext CreateContext() => new Context(this);

    public void Dispose()
    {
    }

    private sealed unsafe class Context(MiddleBatchEngine engine) : IEngineContext
    {
        private readonly nint[] _addr = new nint[2];
        private long _b = -1;

        public void SetOptimizationProfile(int profileIndex, nint stream)
        {
        }

        public void SetInputShape(int tensorIndex, ReadOnlySpan<long> dims) => _b = dims[1];

        public int GetTensorShape(int tensorIndex, Span<long> dims)
        {
            dims[0] = 2;
            dims[1] = _b;
            dims[2] = 3;
            return 3;
        }

        public void SetTensorAddress(int tensorIndex, nint address, long capacityBytes) => _addr[tensorIndex] = address;

        public void Enqueue(nint stream)
        {
            engine.Batches.Enqueue((int)_b);
            int n = (int)(2 * _b * 3);
            var x = new ReadOnlySpan<float>((void*)_addr[0], n);
            var y = new Span<float>((void*)_addr[1], n);
            for (int i = 0; i < n; i++)
                y[i] = x[i] + 1;
        }

        public void Dispose()
        {
        }
    }
}
