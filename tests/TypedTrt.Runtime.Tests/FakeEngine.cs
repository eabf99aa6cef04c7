using TypedTrt.Manifest;
using TypedTrt.Runtime.Engine;

namespace TypedTrt.Runtime.Tests;

/// <summary>
/// A CPU engine (host placement) with exact results, for testing the runner without a GPU.
/// Inputs: 0 "a" float [batch, 4], 1 "b" int32 [batch, 4], 2 "k" float [1] (static).
/// Outputs: 3 "y" float [batch, 4] = a * k + b, 4 "rowsum" int64 [batch] = Σ b over the row.
/// Profile 0: batch 1..8 (opt 4). A request whose a[0] equals <see cref="FailValue"/> throws from Enqueue.
/// </summary>
internal sealed class FakeEngine : IInferenceEngine
{
    public const float FailValue = -12345f;
    public const int Width = 4;
    private int _running;
    private int _maxRunning;
    private int _contextsCreated;
    private int _contextsDisposed;
    private long _enqueues;

    public FakeEngine(BufferPlacement placement = BufferPlacement.Host, int maxBatch = 8)
    {
        Placement = placement;
        Signature = CreateSignature(maxBatch);
    }

    public static BindingManifest CreateSignature(int maxBatch) => new(
        new ModelSource(ModelKind.TensorRTEngine, "fake.engine", new string('0', 64), 1),
        [
            new TensorBinding("a", TensorMode.Input, "float", [-1, Width], ["batch", ""]),
            new TensorBinding("b", TensorMode.Input, "int32", [-1, Width], ["batch", ""]),
            new TensorBinding("k", TensorMode.Input, "float", [1]),
            new TensorBinding("y", TensorMode.Output, "float", [-1, Width], ["batch", ""]),
            new TensorBinding("rowsum", TensorMode.Output, "int64", [-1], ["batch"]),
        ],
        [new OptimizationProfile([
            new ProfileShape("a", [1, Width], [4, Width], [maxBatch, Width]),
            new ProfileShape("b", [1, Width], [4, Width], [maxBatch, Width]),
        ])]);

    public BindingManifest Signature { get; }

    public BufferPlacement Placement { get; }

    public TimeSpan Delay { get; set; }

    /// <summary>When set, every enqueue waits until the gate is open (tests that need runs held in flight, whatever the load).</summary>
    public ManualResetEventSlim? Gate { get; set; }

    /// <summary>The managed thread id of the last enqueue.</summary>
    public int LastEnqueueThread { get; set; }

    /// <summary>When set, every Enqueue throws the exception it makes (e.g. a sticky CudaException).</summary>
    public Func<Exception>? EnqueueFailure { get; set; }

    public int MaxConcurrentEnqueues => Volatile.Read(ref _maxRunning);

    public int ContextsCreated => Volatile.Read(ref _contextsCreated);

    public int ContextsDisposed => Volatile.Read(ref _contextsDisposed);

    public long Enqueues => Interlocked.Read(ref _enqueues);

    public bool Disposed { get; private set; }

    /// <summary>The device a multi-device test's factory created this engine for (host placement: logical only).</summary>
    public int DeviceOrdinal { get; init; }

    /// <summary>Thrown by <see cref="CreateContext"/> when set (a device that fails at start-up).</summary>
    public Exception? CreateContextError { get; set; }

    public IEngineContext CreateContext()
    {
        ObjectDisposedException.ThrowIf(Disposed, this);
        if (CreateContextError is { } error)
            throw error;
        Interlocked.Increment(ref _contextsCreated);
        return new Context(this);
    }

    public void Dispose() => Disposed = true;

    private sealed unsafe class Context(FakeEngine engine) : IEngineContext
    {
        private readonly nint[] _addr = new nint[5];
        private readonly long[] _cap = new long[5];
        private long _batchA = -1, _batchB = -1;
        private int _profile;
        private bool _disposed;

        public void SetOptimizationProfile(int profileIndex, nint stream)
        {
            ArgumentOutOfRangeException.ThrowIfNotEqual(profileIndex, 0);
            _profile = profileIndex;
        }

        public void SetInputShape(int tensorIndex, ReadOnlySpan<long> dims)
        {
            Check();
            if (dims.Length != 2 || dims[1] != Width)
                throw new ArgumentException("bad shape");
            if (tensorIndex == 0)
                _batchA = dims[0];
            else if (tensorIndex == 1)
                _batchB = dims[0];
            else
                throw new ArgumentException("static input");
        }

        public int GetTensorShape(int tensorIndex, Span<long> dims)
        {
            Check();
            switch (tensorIndex)
            {
                case 0: dims[0] = _batchA; dims[1] = Width; return 2;
                case 1: dims[0] = _batchB; dims[1] = Width; return 2;
                case 2: dims[0] = 1; return 1;
                case 3: dims[0] = _batchA; dims[1] = Width; return 2;
                case 4: dims[0] = _batchA; return 1;
                default: throw new ArgumentOutOfRangeException(nameof(tensorIndex));
            }
        }

        public void SetTensorAddress(int tensorIndex, nint address, long capacityBytes)
        {
            Check();
            if (address % 256 != 0)
                throw new ArgumentException("unaligned");
            _addr[tensorIndex] = address;
            _cap[tensorIndex] = capacityBytes;
        }

        public void Enqueue(nint stream)
        {
            Check();
            if (stream != 0)
                throw new ArgumentException("host engine got a stream");
            if (_batchA != _batchB || _batchA < 1)
                throw new InvalidOperationException($"batch mismatch {_batchA} vs {_batchB}");
            int running = Interlocked.Increment(ref engine._running);
            try
            {
                int seen;
                while (running > (seen = Volatile.Read(ref engine._maxRunning)) && Interlocked.CompareExchange(ref engine._maxRunning, running, seen) != seen)
                {
                }

                Interlocked.Increment(ref engine._enqueues);
                int n = checked((int)_batchA * Width);
                if (n * 4L > _cap[0] || n * 4L > _cap[1] || n * 4L > _cap[3] || _batchA * 8 > _cap[4])
                    throw new InvalidOperationException("buffer too small");
                var a = new ReadOnlySpan<float>((void*)_addr[0], n);
                var b = new ReadOnlySpan<int>((void*)_addr[1], n);
                float k = *(float*)_addr[2];
                var y = new Span<float>((void*)_addr[3], n);
                var rowsum = new Span<long>((void*)_addr[4], (int)_batchA);
                if (engine.EnqueueFailure is { } fail)
                    throw fail();
                if (a[0] == FailValue)
                    throw new InvalidOperationException("Injected failure: a[0] is the fail value.");
                engine.LastEnqueueThread = Environment.CurrentManagedThreadId;
                if (engine.Delay > TimeSpan.Zero)
                    Thread.Sleep(engine.Delay);
                engine.Gate?.Wait();
                for (int i = 0; i < n; i++)
                    y[i] = a[i] * k + b[i];
                for (int r = 0; r < _batchA; r++)
                {
                    long s = 0;
                    for (int c = 0; c < Width; c++)
                        s += b[r * Width + c];
                    rowsum[r] = s;
                }
            }
            finally
            {
                Interlocked.Decrement(ref engine._running);
            }
        }

        public void Dispose()
        {
            if (_disposed)
                return;
            _disposed = true;
            Interlocked.Increment(ref engine._contextsDisposed);
        }

        private void Check()
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (engine.Disposed)
                throw new InvalidOperationException("The engine was disposed before its context.");
            _ = _profile;
        }
    }
}
