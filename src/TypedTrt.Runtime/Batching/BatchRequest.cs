using System.Buffers;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;
using TypedTrt.Manifest;

namespace TypedTrt.Runtime.Batching;

/// <summary>
/// One request of a batching runner, pooled: its input shapes and data (the caller's memory for the convenience
/// <see cref="InferenceRunner.RunAsync(IReadOnlyList{InferenceInput}, CancellationToken)"/>, pooled staging arrays for a
/// lease), its place in its shape's FIFO list, and the completion source its caller awaits. Completion goes to the thread
/// pool as this object itself (an <see cref="IThreadPoolWorkItem"/>: alone, or as the head of a chain of its batch's
/// requests), so it allocates nothing.
/// </summary>
internal sealed class BatchRequest : IValueTaskSource, IValueTaskSource<InferenceResult>, IThreadPoolWorkItem
{
    // Lease states (the convenience path uses Idle → Running → Idle and is recycled in GetResult).
    internal const int Idle = 0, Running = 1, RunningReleaseRequested = 2, Pooled = 3;
    private const int KeepStagingBytes = 64 << 10;

    private readonly DynamicBatcher _batcher;
    private readonly BatchLayout _layout;
    private readonly byte[]?[] _staging;
    private readonly long[][] _shapes;
    private readonly long[] _bytes;
    private readonly bool[] _shapeSet;
    private ManualResetValueTaskSourceCore<InferenceResult?> _core;
    private InferenceOutput[]? _outputs;
    private bool _outputsValid;
    internal int State;
    internal int LeaseVersion;

    /// <summary>1 once the caller registered its continuation for the current run (it then resumes inside the completion chain).</summary>
    internal int Awaited;

    internal BatchRequest(DynamicBatcher batcher, BatchLayout layout)
    {
        _batcher = batcher;
        _layout = layout;
        int n = layout.Plan.Length;
        _staging = new byte[]?[n];
        _shapes = new long[n][];
        _bytes = new long[n];
        _shapeSet = new bool[n];
        Sources = new ReadOnlyMemory<byte>[n];
        for (int i = 0; i < n; i++)
            _shapes[i] = new long[layout.Plan[i].Binding.Rank];
    }

    /// <summary>Whether this request is a lease (staged data, kept after completion) or a convenience run (recycled when awaited).</summary>
    internal bool IsLease;

    /// <summary>Per input tensor: the bytes of this request's rows.</summary>
    internal ReadOnlyMemory<byte>[] Sources { get; }

    internal int Rows;
    internal BatchGroup? Group;
    internal BatchRequest? Prev, Next;
    internal bool InQueue;
    internal long EnqueuedAt;
    internal CancellationToken Token;
    internal CancellationTokenRegistration Registration;
    internal Exception? Error;

    /// <summary>The slot the request's last batch ran on, or -1.</summary>
    internal int SlotIndex = -1;

    /// <summary>
    /// Completion chains (<see cref="DynamicBatcher.RunChain"/>): a finished batch hands its requests back in a few
    /// chains, each one thread-pool work item (the chain's head) that completes its requests one after another.
    /// <see cref="ChainNext"/> links a chain; on a head, <see cref="ChainLength"/> is its length (0: a lone completion)
    /// and <see cref="NextChain"/> the batch's next chain while they are being dispatched.
    /// </summary>
    internal BatchRequest? ChainNext, NextChain;

    internal int ChainLength;

    /// <summary>The request's metrics state (queued → formed → ended), its own and not its batch's.</summary>
    internal Diagnostics.RequestState Telemetry;

    internal short Version => _core.Version;

    internal DynamicBatcher Batcher => _batcher;

    internal ReadOnlySpan<long> GetShape(int tensor) => _shapes[tensor];

    /// <summary>Prepares a pooled request for reuse.</summary>
    internal void Reset(bool lease)
    {
        IsLease = lease;
        State = Idle;
        Awaited = 0;
        Rows = 0;
        Group = null;
        Error = null;
        SlotIndex = -1;
        _outputs = null;
        _outputsValid = false;
        Array.Clear(_shapeSet);
        Array.Clear(Sources);
    }

    // ---- convenience path -------------------------------------------------------------------------------------

    /// <summary>Takes the caller's inputs (by reference: the batch copies them straight into the slot's buffers).</summary>
    /// <exception cref="ArgumentException">A shape outside the profile or MaxBatchSize, inputs that disagree on the batch size, data of the wrong length.</exception>
    internal void SetConvenienceInputs(IReadOnlyList<InferenceInput> inputs)
    {
        foreach (var input in inputs)
        {
            var b = _layout.Plan[input.TensorIndex].Binding;
            if (input.Shape.IsEmpty)
                throw new ArgumentException($"Input '{b.Name}' has dynamic dimensions; give its shape.", nameof(inputs));
            SetShapeCore(input.TensorIndex, input.Shape.Span);
            if (input.Data.Length != _bytes[input.TensorIndex])
                throw new ArgumentException($"Input '{b.Name}' at shape {TensorBinding.FormatShape(input.Shape.Span)} takes {_bytes[input.TensorIndex]} bytes; got {input.Data.Length}.", nameof(inputs));
            Sources[input.TensorIndex] = input.Data;
        }

        Rows = CheckRows();
    }

    // ---- lease path ------------------------------------------------------------------------------------------

    internal void SetInputShape(int tensor, ReadOnlySpan<long> dims)
    {
        EnsureIdle();
        GetPlan(tensor, TensorMode.Input);
        SetShapeCore(tensor, dims);
        long bytes = _bytes[tensor];
        if (_staging[tensor] is not { } a || a.Length < bytes)
        {
            if (_staging[tensor] is { } old)
                ArrayPool<byte>.Shared.Return(old);
            _staging[tensor] = null;
            _staging[tensor] = ArrayPool<byte>.Shared.Rent(checked((int)Math.Max(bytes, 1)));
        }

        _outputsValid = false;
    }

    internal ReadOnlySpan<long> GetInputShape(int tensor)
    {
        var p = GetPlan(tensor, TensorMode.Input);
        if (!_shapeSet[tensor])
            throw new InvalidOperationException($"Input '{p.Binding.Name}' has dynamic dimensions; call SetInputShape first.");
        return _shapes[tensor];
    }

    internal Span<T> GetInputSpan<T>(int tensor)
        where T : unmanaged
    {
        EnsureIdle();
        var p = GetPlan(tensor, TensorMode.Input);
        RunnerSlot.CheckElementType<T>(p.Binding);
        if (!_shapeSet[tensor])
            throw new InvalidOperationException($"Input '{p.Binding.Name}' has dynamic dimensions (the batch dimension); call SetInputShape first.");
        return MemoryMarshal.Cast<byte, T>(_staging[tensor].AsSpan(0, (int)_bytes[tensor]));
    }

    internal ReadOnlySpan<long> GetOutputShape(int tensor)
    {
        EnsureIdle();
        GetPlan(tensor, TensorMode.Output);
        EnsureOutputs();
        return _shapes[tensor];
    }

    internal ReadOnlySpan<T> GetOutputSpan<T>(int tensor)
        where T : unmanaged
    {
        EnsureIdle();
        var p = GetPlan(tensor, TensorMode.Output);
        RunnerSlot.CheckElementType<T>(p.Binding);
        EnsureOutputs();
        return MemoryMarshal.Cast<byte, T>(_staging[tensor].AsSpan(0, (int)_bytes[tensor]));
    }

    internal TensorPlan GetPlan(int tensor, TensorMode mode)
    {
        var plan = _layout.Plan;
        if ((uint)tensor >= (uint)plan.Length)
            throw new ArgumentOutOfRangeException(nameof(tensor), tensor, $"The engine has {plan.Length} tensors.");
        var p = plan[tensor];
        if (p.Binding.Mode != mode)
            throw new ArgumentException($"Tensor {tensor} ('{p.Binding.Name}') is an {(p.IsInput ? "input" : "output")}, not an {(mode == TensorMode.Input ? "input" : "output")}.", nameof(tensor));
        return p;
    }

    /// <summary>Queues the lease's staged rows.</summary>
    internal ValueTask RunLeaseAsync(CancellationToken cancellationToken)
    {
        EnsureIdle();
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled(cancellationToken);
        try
        {
            foreach (int i in _layout.Inputs)
            {
                if (!_shapeSet[i])
                    throw new InvalidOperationException($"Input '{_layout.Plan[i].Binding.Name}' has dynamic dimensions (the batch dimension); call SetInputShape before RunAsync.");
                Sources[i] = _staging[i].AsMemory(0, (int)_bytes[i]);
            }

            Rows = CheckRows();
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            return ValueTask.FromException(ex);
        }

        _outputsValid = false;
        _core.Reset();
        short version = _core.Version; // read before the request can complete
        Awaited = 0;
        Volatile.Write(ref State, Running);
        var error = _batcher.Submit(this, cancellationToken);
        if (error is not null)
        {
            Volatile.Write(ref State, Idle);
            return ValueTask.FromException(error);
        }

        return new ValueTask(this, version);
    }

    /// <summary>Ends the lease now, or when its queued request completes.</summary>
    internal void Release(int version)
    {
        if (Interlocked.CompareExchange(ref LeaseVersion, version + 1, version) != version)
            return;
        while (true)
        {
            int s = Volatile.Read(ref State);
            if (s == Idle)
            {
                if (Interlocked.CompareExchange(ref State, Pooled, Idle) == Idle)
                {
                    Recycle();
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

    private void EnsureIdle()
    {
        if (Volatile.Read(ref State) != Idle)
            throw new InvalidOperationException("A request is in flight on this lease; await RunAsync before touching its buffers or shapes.");
    }

    private void EnsureOutputs()
    {
        if (!_outputsValid)
            throw new InvalidOperationException("No outputs: the lease has no successfully completed RunAsync since its inputs last changed.");
    }

    // ---- shared ----------------------------------------------------------------------------------------------

    private void SetShapeCore(int tensor, ReadOnlySpan<long> dims)
    {
        var p = _layout.Plan[tensor];
        var b = p.Binding;
        int d = _layout.Dim;
        if (dims.Length != b.Rank)
            throw new ArgumentException($"Input '{b.Name}' has rank {b.Rank}; got a shape of rank {dims.Length} ({TensorBinding.FormatShape(dims)}).", nameof(dims));
        for (int i = 0; i < dims.Length; i++)
        {
            long lo = i == d ? 1 : p.Min[i], hi = i == d ? _layout.MaxBatch : p.Max[i];
            if (dims[i] >= lo && dims[i] <= hi)
                continue;
            string dimName = b.DimNames[i].Length > 0 ? $" ('{b.DimNames[i]}')" : "";
            string range = i == d
                ? $"outside 1..{hi}: it is the batch dimension, and one request may carry at most DynamicBatchingOptions.MaxBatchSize ({hi}) rows"
                : lo == hi ? $"but it is fixed at {lo}" : $"outside optimization profile's range {lo}..{hi}";
            throw new ArgumentException($"Input '{b.Name}' dimension {i}{dimName} is {dims[i]}, {range}.", nameof(dims));
        }

        dims.CopyTo(_shapes[tensor]);
        _bytes[tensor] = b.GetByteCount(dims);
        _shapeSet[tensor] = true;
    }

    private int CheckRows()
    {
        int d = _layout.Dim;
        long rows = -1;
        string? first = null;
        foreach (int i in _layout.Inputs)
        {
            long k = _shapes[i][d];
            if (rows < 0)
            {
                rows = k;
                first = _layout.Plan[i].Binding.Name;
            }
            else if (k != rows)
            {
                throw new ArgumentException($"Inputs disagree on the batch size (dimension {d}): '{first}' has {rows} row(s), '{_layout.Plan[i].Binding.Name}' has {k}. A batched request needs the same number of rows in every input.");
            }
        }

        return (int)rows;
    }

    /// <summary>Takes this request's rows of one output from the batch's output buffer (on the completing thread).</summary>
    internal void TakeOutput(int tensor, int ordinal, ReadOnlySpan<long> batchShape, ReadOnlySpan<byte> batch, long outer, long inner, long rowStart, long batchRows)
    {
        long bytes = outer * Rows * inner;
        var b = _layout.Plan[tensor].Binding;
        if (IsLease)
        {
            var shape = _shapes[tensor];
            batchShape.CopyTo(shape);
            shape[_layout.Dim] = Rows;
            _bytes[tensor] = bytes;
            if (_staging[tensor] is not { } a || a.Length < bytes)
            {
                if (_staging[tensor] is { } old)
                    ArrayPool<byte>.Shared.Return(old);
                _staging[tensor] = null;
                _staging[tensor] = ArrayPool<byte>.Shared.Rent(checked((int)Math.Max(bytes, 1)));
            }

            BatchLayout.CopyOut(batch, _staging[tensor].AsSpan(0, (int)bytes), outer, inner, Rows, rowStart, batchRows);
        }
        else
        {
            long[] shape = Group!.OutputShape(ordinal, batchShape, _layout.Dim, Rows);
            byte[] data = new byte[bytes];
            BatchLayout.CopyOut(batch, data, outer, inner, Rows, rowStart, batchRows);
            _outputs ??= new InferenceOutput[_layout.Outputs.Length];
            _outputs[ordinal] = new InferenceOutput(tensor, b, shape, data);
        }
    }

    /// <summary>Completes the request with <paramref name="error"/> (or success) on the thread pool, outside any chain.</summary>
    internal void CompleteLater(Exception? error)
    {
        Error = error;
        ChainLength = 0;
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    void IThreadPoolWorkItem.Execute()
    {
        if (ChainLength == 0)
            CompleteNow();
        else
            _batcher.RunChain(this);
    }

    /// <summary>Completes the request on this thread (its awaiting code continues here).</summary>
    /// <param name="counted">Its end was counted already with its chain's (<see cref="Diagnostics.RunnerMetrics.OnBatchRequestsEnding"/>).</param>
    internal void CompleteNow(bool counted = false)
    {
        Exception? error = Error;
        Error = null;
        _batcher.Metrics.OnBatchRequestEnd(ref Telemetry, error, counted);
        InferenceResult? result = null;
        if (error is null && !IsLease)
            result = new InferenceResult(_outputs!);
        _outputs = null;
        _outputsValid = error is null;
        if (!IsLease)
        {
            State = Idle;
            if (error is null)
                _core.SetResult(result);
            else
                _core.SetException(error);
            return;
        }

        int prev = Interlocked.CompareExchange(ref State, Idle, Running);
        bool release = prev == RunningReleaseRequested;
        if (error is null)
            _core.SetResult(null);
        else
            _core.SetException(error);
        if (release)
        {
            Volatile.Write(ref State, Pooled);
            Recycle();
        }
    }

    private void Recycle()
    {
        // Small staging arrays stay with the pooled request (no pool traffic per request); large ones go back to the
        // shared pool so an idle runner does not keep megabytes per pooled request.
        for (int i = 0; i < _staging.Length; i++)
        {
            if (_staging[i] is { Length: > KeepStagingBytes } a)
            {
                ArrayPool<byte>.Shared.Return(a);
                _staging[i] = null;
            }
        }

        Sources.AsSpan().Clear();
        _outputs = null;
        Token = default;
        _core.Reset();
        _batcher.Return(this);
    }

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    ValueTaskSourceStatus IValueTaskSource<InferenceResult>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        Volatile.Write(ref Awaited, 1);
        _core.OnCompleted(continuation, state, token, flags);
    }

    void IValueTaskSource<InferenceResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        Volatile.Write(ref Awaited, 1);
        _core.OnCompleted(continuation, state, token, flags);
    }

    // A lease: the request stays with the lease (outputs readable); its next RunAsync resets the source.
    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    InferenceResult IValueTaskSource<InferenceResult>.GetResult(short token)
    {
        try
        {
            return _core.GetResult(token)!;
        }
        finally
        {
            Recycle();
        }
    }
}
