using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;
using TypedTrt.Manifest;
using TypedTrt.Runtime.Cuda;
using TypedTrt.Runtime.Engine;

namespace TypedTrt.Runtime;

/// <summary>Per-tensor facts the runner computes once: profile range, max shape, buffer capacity.</summary>
internal sealed class TensorPlan
{
    public required int Index { get; init; }
    public required TensorBinding Binding { get; init; }
    public bool IsInput => Binding.Mode == TensorMode.Input;
    public long[] Min { get; set; } = [];
    public long[] Max { get; set; } = [];
    public long Capacity { get; set; }
}

/// <summary>
/// One slot: an execution context, a stream (device engines), host buffers (pinned for device engines) and device
/// buffers, the current shapes, and the completion source of its one request in flight. Completion of device work
/// comes from a stream callback (<c>cuStreamAddCallback</c>), of host work from a thread-pool work item; neither
/// blocks a thread per request, and the reusable <see cref="ManualResetValueTaskSourceCore{TResult}"/> makes the
/// awaited <see cref="ValueTask"/> allocation-free.
/// </summary>
internal sealed unsafe class RunnerSlot : IValueTaskSource, IThreadPoolWorkItem
{
    internal const int Free = 0, Leased = 1, Running = 2, RunningReleaseRequested = 3;

    private readonly InferenceRunner _runner;
    private readonly TensorPlan[] _plan;
    private readonly long[][] _shapes;
    private readonly long[] _bytes;
    private readonly bool[] _shapeSet;
    private readonly nint[] _host;
    private readonly PinnedBuffer?[] _pinned;
    private readonly DeviceBuffer?[] _device;
    private ManualResetValueTaskSourceCore<bool> _core;
    private GCHandle _self;
    private int _status;
    private CancellationToken _token;
    private bool _outputsValid;
    internal int State;

    // Lease version: bumped on every release, so a disposed lease (a struct holding the old version) is detected.
    internal int LeaseVersion;

    // Polling completion (device engines, CompletionMode.Polling): the event recorded after the request's last copy,
    // and 1 while the completion poller should watch it.
    private CudaEvent? _done;
    internal int Pending;

    // CUDA graph replay (UseCudaGraphs, static shapes): captured once, replayed per request; disabled after a failed capture.
    private CudaGraph? _graph;
    internal bool GraphDisabled;
    internal bool GraphCaptureFailedForTest;

    // Stage profiling: two sets (alternating per request) of four timing events: start, after H2D, after enqueue, after D2H.
    private CudaEvent[]? _timing;
    private int _timingSet;
    private bool _timedThisRequest;
    private bool _haveLastEnd;
    internal StageAccumulator Stages;

    private long _hostLastEnd;

    internal RunnerSlot(InferenceRunner runner, int index, TensorPlan[] plan)
    {
        _runner = runner;
        Index = index;
        _plan = plan;
        int n = plan.Length;
        _shapes = new long[n][];
        _bytes = new long[n];
        _shapeSet = new bool[n];
        _host = new nint[n];
        _pinned = new PinnedBuffer?[n];
        _device = new DeviceBuffer?[n];
        for (int i = 0; i < n; i++)
            _shapes[i] = new long[plan[i].Binding.Rank];
        // Device engines with CompletionMode.Callback complete on a driver thread: continuations must leave it. Host
        // engines complete on a thread-pool work item and polling completes on the runner's poller thread: both resume
        // inline (CreateContext), which saves a thread-pool hop and its allocation per request.
        _core.RunContinuationsAsynchronously = runner.Placement == BufferPlacement.Device;
        _self = GCHandle.Alloc(this);
    }

    internal int Index { get; }

    internal IEngineContext? Context { get; private set; }

    internal CudaStream? Stream { get; private set; }

    private bool IsDevice => _runner.Placement == BufferPlacement.Device;

    /// <summary>Creates the context and stream and selects the profile (the runner's CUDA context is current).</summary>
    internal void CreateContext(IInferenceEngine engine, CudaContext? cuda, int profile)
    {
        if (cuda is not null)
        {
            cuda.MakeCurrent();
            Stream = cuda.CreateStream();
            if (_runner.Completion == CompletionMode.Polling)
            {
                _done = cuda.CreateEvent();
                // Completion runs on the runner's poller thread, which resumes the awaiting code inline (no thread-pool hop).
                _core.RunContinuationsAsynchronously = false;
            }
        }

        Context = engine.CreateContext();
        Context.SetOptimizationProfile(profile, Stream?.Handle ?? 0);
    }

    /// <summary>Allocates every tensor's buffers at the plan's capacities and binds them to the context.</summary>
    internal void AllocateBuffers(CudaContext? cuda)
    {
        for (int i = 0; i < _plan.Length; i++)
        {
            long cap = _plan[i].Capacity;
            if (cuda is not null)
            {
                _pinned[i] = cuda.AllocatePinned(cap);
                _host[i] = _pinned[i]!.Pointer;
                _device[i] = cuda.Allocate(cap);
                Context!.SetTensorAddress(i, (nint)_device[i]!.Address, cap);
            }
            else
            {
                _host[i] = (nint)NativeMemory.AlignedAlloc((nuint)cap, 256);
                NativeMemory.Clear((void*)_host[i], (nuint)cap);
                Context!.SetTensorAddress(i, _host[i], cap);
            }

            if (_plan[i].IsInput && !_plan[i].Binding.IsDynamic)
            {
                _plan[i].Binding.Shape.ToArray().CopyTo(_shapes[i], 0);
                _bytes[i] = _plan[i].Binding.GetByteCount(_shapes[i]);
                _shapeSet[i] = true;
            }
        }
    }

    /// <summary>Called when the slot is leased: dynamic inputs need their shapes again, outputs are stale.</summary>
    internal void OnLeased()
    {
        for (int i = 0; i < _plan.Length; i++)
        {
            if (_plan[i].IsInput && _plan[i].Binding.IsDynamic)
                _shapeSet[i] = false;
        }

        _outputsValid = false;
        Volatile.Write(ref State, Leased);
    }

    internal TensorPlan GetPlan(int tensorIndex, TensorMode mode)
    {
        if ((uint)tensorIndex >= (uint)_plan.Length)
            throw new ArgumentOutOfRangeException(nameof(tensorIndex), tensorIndex, $"The engine has {_plan.Length} tensors.");
        var p = _plan[tensorIndex];
        if (p.Binding.Mode != mode)
            throw new ArgumentException($"Tensor {tensorIndex} ('{p.Binding.Name}') is an {(p.IsInput ? "input" : "output")}, not an {(mode == TensorMode.Input ? "input" : "output")}.", nameof(tensorIndex));
        return p;
    }

    internal void EnsureNotRunning()
    {
        if (Volatile.Read(ref State) != Leased)
            throw new InvalidOperationException("A request is in flight on this lease; await RunAsync before touching its buffers or shapes.");
    }

    internal void SetInputShape(int tensorIndex, ReadOnlySpan<long> dims)
    {
        EnsureNotRunning();
        var p = GetPlan(tensorIndex, TensorMode.Input);
        var b = p.Binding;
        if (dims.Length != b.Rank)
            throw new ArgumentException($"Input '{b.Name}' has rank {b.Rank}; got a shape of rank {dims.Length} ({TensorBinding.FormatShape(dims)}).", nameof(dims));
        for (int d = 0; d < dims.Length; d++)
        {
            if (dims[d] < p.Min[d] || dims[d] > p.Max[d])
            {
                string dimName = b.DimNames[d].Length > 0 ? $" ('{b.DimNames[d]}')" : "";
                string range = p.Min[d] == p.Max[d]
                    ? $"fixed at {p.Min[d]}"
                    : $"outside optimization profile {_runner.ProfileIndex}'s range {p.Min[d]}..{p.Max[d]}";
                throw new ArgumentException($"Input '{b.Name}' dimension {d}{dimName} is {dims[d]}, {(p.Min[d] == p.Max[d] ? "but it is " : "")}{range}.", nameof(dims));
            }
        }

        if (b.IsDynamic)
            Context!.SetInputShape(tensorIndex, dims);
        dims.CopyTo(_shapes[tensorIndex]);
        _bytes[tensorIndex] = b.GetByteCount(dims);
        _shapeSet[tensorIndex] = true;
        _outputsValid = false;
    }

    internal Span<T> GetInputSpan<T>(int tensorIndex)
        where T : unmanaged
    {
        EnsureNotRunning();
        var p = GetPlan(tensorIndex, TensorMode.Input);
        CheckElementType<T>(p.Binding);
        if (!_shapeSet[tensorIndex])
            throw new InvalidOperationException($"Input '{p.Binding.Name}' has dynamic dimensions; call SetInputShape first.");
        return new Span<T>((void*)_host[tensorIndex], checked((int)(_bytes[tensorIndex] / sizeof(T))));
    }

    internal ReadOnlySpan<T> GetOutputSpan<T>(int tensorIndex)
        where T : unmanaged
    {
        EnsureNotRunning();
        var p = GetPlan(tensorIndex, TensorMode.Output);
        CheckElementType<T>(p.Binding);
        EnsureOutputs();
        return new ReadOnlySpan<T>((void*)_host[tensorIndex], checked((int)(_bytes[tensorIndex] / sizeof(T))));
    }

    internal ReadOnlySpan<long> GetInputShape(int tensorIndex)
    {
        var p = GetPlan(tensorIndex, TensorMode.Input);
        if (!_shapeSet[tensorIndex])
            throw new InvalidOperationException($"Input '{p.Binding.Name}' has dynamic dimensions; call SetInputShape first.");
        return _shapes[tensorIndex];
    }

    internal ReadOnlySpan<long> GetOutputShape(int tensorIndex)
    {
        EnsureNotRunning();
        GetPlan(tensorIndex, TensorMode.Output);
        EnsureOutputs();
        return _shapes[tensorIndex];
    }

    private void EnsureOutputs()
    {
        if (!_outputsValid)
            throw new InvalidOperationException("No outputs: the lease has no successfully completed RunAsync since its inputs last changed.");
    }

    internal static void CheckElementType<T>(TensorBinding b)
        where T : unmanaged
    {
        if (typeof(T) == typeof(byte))
            return;
        bool ok = b.DataType switch
        {
            TensorDataType.Float => typeof(T) == typeof(float),
            TensorDataType.Half => typeof(T) == typeof(Half),
            TensorDataType.Int8 => typeof(T) == typeof(sbyte),
            TensorDataType.Int32 => typeof(T) == typeof(int),
            TensorDataType.Int64 => typeof(T) == typeof(long),
            TensorDataType.Bool => typeof(T) == typeof(bool),
            _ => false,
        };
        if (!ok)
            throw new ArgumentException($"Tensor '{b.Name}' has type '{b.DTypeName}'; read it as {ExpectedClrType(b.DataType)}, not {typeof(T).Name}.");
    }

    private static string ExpectedClrType(TensorDataType t) => t switch
    {
        TensorDataType.Float => "float (or byte)",
        TensorDataType.Half => "Half (or byte)",
        TensorDataType.Int8 => "sbyte (or byte)",
        TensorDataType.Int32 => "int (or byte)",
        TensorDataType.Int64 => "long (or byte)",
        TensorDataType.Bool => "bool (or byte)",
        _ => "byte (raw bytes)",
    };

    /// <summary>Starts one request: H2D, enqueue, D2H (device) or enqueue on the thread pool (host).</summary>
    internal ValueTask RunAsync(CancellationToken cancellationToken)
    {
        EnsureNotRunning();
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled(cancellationToken);
        try
        {
            for (int i = 0; i < _plan.Length; i++)
            {
                if (_plan[i].IsInput && !_shapeSet[i])
                    throw new InvalidOperationException($"Input '{_plan[i].Binding.Name}' has dynamic dimensions; call SetInputShape before RunAsync.");
            }

            ResolveOutputShapes();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return ValueTask.FromException(ex);
        }

        _outputsValid = false;
        _status = 0;
        _core.Reset();
        short version = _core.Version; // read before the request can complete (and the slot be leased again)
        Volatile.Write(ref State, Running);
        if (!IsDevice)
        {
            _token = cancellationToken;
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
            return new ValueTask(this, version);
        }

        try
        {
            _runner.Cuda!.MakeCurrent();
            nint stream = Stream!.Handle;
            bool profiling = _runner.ProfilingActive && EnsureTimingEvents();
            _timedThisRequest = profiling;
            if (!profiling && _runner.UseCudaGraphs && !GraphDisabled)
            {
                if (_graph is null)
                    TryCapture(stream);
                if (_graph is not null)
                {
                    CudaException.Check(CudaNative.cuGraphLaunch(_graph.ExecHandle, stream), "cuGraphLaunch");
                    Interlocked.Increment(ref _runner.GraphLaunches);
                }
                else
                {
                    EnqueueWork(stream, false);
                }
            }
            else
            {
                EnqueueWork(stream, profiling);
            }

            if (_done is not null)
            {
                CudaException.Check(CudaNative.cuEventRecord(_done.Handle, stream), "cuEventRecord");
                _runner.Poller!.Submit(this);
            }
            else
            {
                CudaException.Check(CudaNative.cuStreamAddCallback(stream, &OnStreamDone, GCHandle.ToIntPtr(_self), 0), "cuStreamAddCallback");
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The request fails on its own; work already queued on the stream is drained so the slot starts clean.
            try
            {
                Stream!.Synchronize();
            }
            catch (CudaException)
            {
            }

            Complete(ex);
        }

        return new ValueTask(this, version);
    }

    private void EnqueueWork(nint stream, bool profiling)
    {
        CudaEvent[]? t = profiling ? _timing : null;
        int b = _timingSet * 4;
        if (t is not null)
            CudaException.Check(CudaNative.cuEventRecord(t[b].Handle, stream), "cuEventRecord");
        for (int i = 0; i < _plan.Length; i++)
        {
            if (_plan[i].IsInput && _bytes[i] > 0)
                CudaException.Check(CudaNative.cuMemcpyHtoDAsync_v2(_device[i]!.Address, (void*)_host[i], (nuint)_bytes[i], stream), "cuMemcpyHtoDAsync_v2");
        }

        if (t is not null)
            CudaException.Check(CudaNative.cuEventRecord(t[b + 1].Handle, stream), "cuEventRecord");
        Context!.Enqueue(stream);
        if (t is not null)
            CudaException.Check(CudaNative.cuEventRecord(t[b + 2].Handle, stream), "cuEventRecord");
        for (int i = 0; i < _plan.Length; i++)
        {
            if (!_plan[i].IsInput && _bytes[i] > 0)
                CudaException.Check(CudaNative.cuMemcpyDtoHAsync_v2((void*)_host[i], _device[i]!.Address, (nuint)_bytes[i], stream), "cuMemcpyDtoHAsync_v2");
        }

        if (t is not null)
            CudaException.Check(CudaNative.cuEventRecord(t[b + 3].Handle, stream), "cuEventRecord");
    }

    /// <summary>
    /// Captures H2D + enqueue + D2H into a graph (static shapes only). A capture or instantiation failure, e.g. an
    /// engine that cannot be captured, disables graphs for this slot and the request runs the normal path, as trtexec does.
    /// </summary>
    private void TryCapture(nint stream)
    {
        if (!_runner.GraphsPossible)
        {
            GraphDisabled = true;
            return;
        }

        bool capturing = false;
        try
        {
            Stream!.BeginCapture();
            capturing = true;
            EnqueueWork(stream, false);
            if (GraphCaptureFailedForTest)
                throw new CudaException(900, "injected capture failure");
            capturing = false;
            _graph = Stream.EndCapture();
        }
        catch (Exception ex) when (ex is CudaException or InvalidOperationException or NotSupportedException)
        {
            if (capturing)
            {
                nint g;
                if (CudaNative.cuStreamEndCapture(stream, &g) == 0 && g != 0)
                    _ = CudaNative.cuGraphDestroy(g);
            }

            _graph = null;
            GraphDisabled = true;
            Interlocked.Increment(ref _runner.GraphFallbacks);
        }
    }

    private bool EnsureTimingEvents()
    {
        if (_timing is null)
        {
            var t = new CudaEvent[8];
            for (int i = 0; i < t.Length; i++)
                t[i] = _runner.Cuda!.CreateEvent(enableTiming: true);
            _timing = t;
        }

        return true;
    }

    /// <summary>After a profiled request completed: adds its stage times (and the idle gap since the slot's previous request).</summary>
    private void CollectStageTimes()
    {
        if (!_timedThisRequest || _timing is null)
            return;
        _timedThisRequest = false;
        int b = _timingSet * 4;
        float h2d, comp, d2h, gap = -1;
        if (CudaNative.cuEventElapsedTime(&h2d, _timing[b].Handle, _timing[b + 1].Handle) != 0
            || CudaNative.cuEventElapsedTime(&comp, _timing[b + 1].Handle, _timing[b + 2].Handle) != 0
            || CudaNative.cuEventElapsedTime(&d2h, _timing[b + 2].Handle, _timing[b + 3].Handle) != 0)
            return;
        int prev = (1 - _timingSet) * 4;
        if (_haveLastEnd && CudaNative.cuEventElapsedTime(&gap, _timing[prev + 3].Handle, _timing[b].Handle) != 0)
            gap = -1;
        Stages.Add(h2d * 1000.0, comp * 1000.0, d2h * 1000.0, gap >= 0 ? gap * 1000.0 : -1);
        _haveLastEnd = true;
        _timingSet = 1 - _timingSet;
    }

    /// <summary>
    /// Times <paramref name="repeats"/> back-to-back H2D copies of every input (max shape) from this slot's pinned
    /// buffers, as native-pipeline's stage line times its pinned copy. The slot must be idle.
    /// </summary>
    internal (long Bytes, double Microseconds) TimeInputCopies(int repeats)
    {
        var cuda = _runner.Cuda!;
        cuda.MakeCurrent();
        nint stream = Stream!.Handle;
        long bytes = 0;
        for (int i = 0; i < _plan.Length; i++)
        {
            if (_plan[i].IsInput)
                bytes += _plan[i].Binding.GetByteCount(_plan[i].Max);
        }

        using var a = cuda.CreateEvent(enableTiming: true);
        using var b = cuda.CreateEvent(enableTiming: true);
        void Copies()
        {
            for (int i = 0; i < _plan.Length; i++)
            {
                long n = _plan[i].Binding.GetByteCount(_plan[i].Max);
                if (_plan[i].IsInput && n > 0)
                    CudaException.Check(CudaNative.cuMemcpyHtoDAsync_v2(_device[i]!.Address, (void*)_host[i], (nuint)n, stream), "cuMemcpyHtoDAsync_v2");
            }
        }

        for (int w = 0; w < 3; w++)
            Copies();
        a.Record(Stream);
        for (int r = 0; r < repeats; r++)
            Copies();
        b.Record(Stream);
        b.Synchronize();
        return (bytes, b.ElapsedSince(a) * 1000.0 / repeats);
    }

    internal void ResetProfiling()
    {
        Stages = default;
        _haveLastEnd = false;
    }

    /// <summary>Host engines: the run itself is the compute stage (no copies); the gap is the slot's idle time since its previous run.</summary>
    private void AddHostStageTimes(long start, long end)
    {
        double gap = _haveLastEnd ? Stopwatch.GetElapsedTime(_hostLastEnd, start).TotalMicroseconds : -1;
        Stages.Add(0, Stopwatch.GetElapsedTime(start, end).TotalMicroseconds, 0, gap);
        _hostLastEnd = end;
        _haveLastEnd = true;
    }

    /// <summary>Poller thread: checks the completion event; completes the request when its work is done.</summary>
    internal bool PollDone()
    {
        int rc = CudaNative.cuEventQuery(_done!.Handle);
        if (rc == 600)
            return false;
        _status = rc;
        Volatile.Write(ref Pending, 0);
        if (rc == 0)
            CollectStageTimes();
        Complete(null);
        return true;
    }

    private void ResolveOutputShapes()
    {
        for (int i = 0; i < _plan.Length; i++)
        {
            var p = _plan[i];
            if (p.IsInput)
                continue;
            ResolveOutputShape(p);
        }
    }

    private void ResolveOutputShape(TensorPlan p)
    {
        int i = p.Index;
        Span<long> dims = stackalloc long[Math.Max(8, p.Binding.Rank)];
        int rank = Context!.GetTensorShape(i, dims);
        if (rank != p.Binding.Rank)
            throw new InvalidOperationException($"The engine reports rank {rank} for output '{p.Binding.Name}', whose signature has rank {p.Binding.Rank}.");
        for (int d = 0; d < rank; d++)
        {
            if (dims[d] < 0)
                throw new NotSupportedException($"Output '{p.Binding.Name}' dimension {d} is not resolved by the input shapes (data-dependent shapes are not supported).");
        }

        long bytes = p.Binding.GetByteCount(dims[..rank]);
        if (bytes > p.Capacity)
            throw new InvalidOperationException($"Output '{p.Binding.Name}' needs {bytes} bytes at shape {TensorBinding.FormatShape(dims[..rank])}, more than its {p.Capacity}-byte buffer.");
        dims[..rank].CopyTo(_shapes[i]);
        _bytes[i] = bytes;
    }

    /// <summary>Host engines: runs the context on a thread-pool thread.</summary>
    void IThreadPoolWorkItem.Execute()
    {
        Exception? error = null;
        try
        {
            _token.ThrowIfCancellationRequested();
            bool profiling = _runner.ProfilingActive;
            long start = profiling ? Stopwatch.GetTimestamp() : 0;
            Context!.Enqueue(0);
            ResolveOutputShapes();
            if (profiling)
                AddHostStageTimes(start, Stopwatch.GetTimestamp());
        }
#pragma warning disable CA1031 // every failure belongs to this request only
        catch (Exception ex)
#pragma warning restore CA1031
        {
            error = ex;
        }

        _token = default;
        Complete(error);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnStreamDone(nint stream, int status, nint userData)
    {
        // Runs on a CUDA driver thread: no CUDA calls here, and nothing may throw into the driver.
        try
        {
            var slot = (RunnerSlot)GCHandle.FromIntPtr(userData).Target!;
            slot._status = status;
            slot.Complete(null);
        }
#pragma warning disable CA1031
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    private void Complete(Exception? error)
    {
        _outputsValid = error is null && _status == 0;
        int prev = Interlocked.CompareExchange(ref State, Leased, Running);
        bool release = prev == RunningReleaseRequested;
        if (release)
            Volatile.Write(ref State, Free);
        if (error is null)
            _core.SetResult(true);
        else
            _core.SetException(error);
        if (release)
            _runner.ReturnSlot(this);
    }

    /// <summary>Returns the slot to the runner now, or when its request completes, if <paramref name="version"/> is the current lease's.</summary>
    internal void Release(int version)
    {
        if (Interlocked.CompareExchange(ref LeaseVersion, version + 1, version) != version)
            return; // a stale lease (already disposed): nothing to do
        Release();
    }

    /// <summary>Returns the slot to the runner now, or when its request completes.</summary>
    internal void Release()
    {
        while (true)
        {
            int s = Volatile.Read(ref State);
            if (s == Leased)
            {
                if (Interlocked.CompareExchange(ref State, Free, Leased) == Leased)
                {
                    _runner.ReturnSlot(this);
                    return;
                }
            }
            else if (s == Running)
            {
                if (Interlocked.CompareExchange(ref State, RunningReleaseRequested, Running) == Running)
                    return;
            }
            else
            {
                return;
            }
        }
    }

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    void IValueTaskSource.GetResult(short token)
    {
        _core.GetResult(token);
        int status = _status;
        if (status != 0)
            throw new CudaException(status, "the request's stream work (H2D copies, engine enqueue, D2H copies)");
    }

    /// <summary>Frees the context, stream and buffers (the slot is idle).</summary>
    internal void DisposeResources(List<Exception> errors)
    {
        void Try(Action a)
        {
            try
            {
                a();
            }
#pragma warning disable CA1031 // collect, keep freeing, rethrow at the end
            catch (Exception ex)
#pragma warning restore CA1031
            {
                errors.Add(ex);
            }
        }

        if (Stream is { } stream)
            Try(stream.Synchronize);
        if (Context is { } ctx)
            Try(ctx.Dispose);
        Context = null;
        for (int i = 0; i < _plan.Length; i++)
        {
            if (_device[i] is { } d)
                Try(d.Dispose);
            if (_pinned[i] is { } p)
                Try(p.Dispose);
            else if (_host[i] != 0)
                NativeMemory.AlignedFree((void*)_host[i]);
            _device[i] = null;
            _pinned[i] = null;
            _host[i] = 0;
        }

        if (_graph is { } g)
            Try(g.Dispose);
        _graph = null;
        if (_done is { } done)
            Try(done.Dispose);
        _done = null;
        if (_timing is { } timing)
        {
            foreach (var e in timing)
                Try(e.Dispose);
        }

        _timing = null;
        if (Stream is { } s2)
            Try(s2.Dispose);
        Stream = null;
        if (_self.IsAllocated)
            _self.Free();
    }
}
