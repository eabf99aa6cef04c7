namespace TypedTrt.Runtime.Batching;

/// <summary>
/// One batch on one slot (one object per slot, reused): gathers its requests' rows straight into the slot's input
/// buffers at their row offsets, sets the batch shape, runs the slot once, and hands each request exactly its rows of
/// every output. A failure of the batch (the engine, a driver call, the copies) fails its requests and nothing else.
/// </summary>
internal sealed class SlotBatch : IThreadPoolWorkItem
{
    private readonly DynamicBatcher _batcher;
    private readonly BatchLayout _layout;
    private readonly BatchRequest?[] _entries;
    private readonly int[] _rowStart;
    private readonly long[][] _shape;
    private readonly Action _onDone;
    private ValueTask _pending;
    private RunnerSlot? _slot;
    private BatchGroup? _group;

    internal SlotBatch(DynamicBatcher batcher, BatchLayout layout)
    {
        _batcher = batcher;
        _layout = layout;
        _entries = new BatchRequest?[layout.MaxBatch];
        _rowStart = new int[layout.MaxBatch];
        _shape = new long[layout.Plan.Length][];
        for (int i = 0; i < _shape.Length; i++)
            _shape[i] = new long[layout.Plan[i].Binding.Rank];
        _onDone = OnDone;
    }

    internal int Count { get; private set; }

    internal int Rows { get; private set; }

    internal void Begin(RunnerSlot slot, BatchGroup group)
    {
        _slot = slot;
        _group = group;
        Count = 0;
        Rows = 0;
    }

    internal void Add(BatchRequest r)
    {
        _entries[Count] = r;
        _rowStart[Count] = Rows;
        Count++;
        Rows += r.Rows;
    }

    void IThreadPoolWorkItem.Execute() => Run();

    /// <summary>Copies the rows in and starts the slot's run.</summary>
    internal void Run()
    {
        var slot = _slot!;
        var g = _group!;
        int d = _layout.Dim;
        for (int e = 0; e < Count; e++)
        {
            var r = _entries[e]!;
            r.Registration.Unregister(); // no longer cancellable: it is in a batch
            r.Registration = default;
        }

        try
        {
            foreach (int i in _layout.Inputs)
            {
                long[] shape = _shape[i];
                g.InputShape(_layout, i).CopyTo(shape);
                shape[d] = Rows;
                slot.SetInputShape(i, shape);
                Span<byte> dst = slot.GetInputSpan<byte>(i);
                long outer = g.InputOuter[i], inner = g.InputInner[i];
                for (int e = 0; e < Count; e++)
                {
                    var r = _entries[e]!;
                    BatchLayout.CopyIn(r.Sources[i].Span, dst, outer, inner, r.Rows, _rowStart[e], Rows);
                }
            }

#pragma warning disable CA2012 // consumed exactly once, by OnDone
            _pending = slot.RunAsync(CancellationToken.None);
#pragma warning restore CA2012
        }
#pragma warning disable CA1031 // the batch's requests get the error
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Finish(ex);
            return;
        }

        if (_pending.IsCompleted)
            OnDone();
        else
            _pending.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onDone);
    }

    private void OnDone()
    {
        Exception? error = null;
        try
        {
            _pending.GetAwaiter().GetResult();
            _pending = default;
            Scatter();
        }
#pragma warning disable CA1031 // the batch's requests get the error
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _pending = default;
            error = ex;
        }

        Finish(error);
    }

    private void Scatter()
    {
        var slot = _slot!;
        int d = _layout.Dim;
        var outputs = _layout.Outputs;
        for (int ordinal = 0; ordinal < outputs.Length; ordinal++)
        {
            int o = outputs[ordinal];
            var b = _layout.Plan[o].Binding;
            ReadOnlySpan<long> shape = slot.GetOutputShape(o);
            if (shape[d] != Rows)
                throw new InvalidOperationException($"Output '{b.Name}' has {shape[d]} rows on dimension {d} after a batch of {Rows}; batching needs outputs that follow the inputs' batch size.");
            long outer = _layout.Outer(shape), inner = _layout.InnerBytes(b, shape);
            ReadOnlySpan<byte> src = slot.GetOutputSpan<byte>(o);
            for (int e = 0; e < Count; e++)
                _entries[e]!.TakeOutput(o, ordinal, shape, src, outer, inner, _rowStart[e], Rows);
        }
    }

    // Gives the slot back, then the requests their result. The slot goes first so that the callers resubmitting from
    // their continuations find it free; the requests are split into a few completion chains (one thread-pool work item
    // each, the last inline where this thread may) so that they resume in parallel without a hop per request.
    private void Finish(Exception? error)
    {
        var slot = _slot!;
        int n = Count;
        int per = ChainSize(n);
        BatchRequest? first = null, head = null, prev = null;
        for (int e = 0; e < n; e++)
        {
            var r = _entries[e]!;
            _entries[e] = null;
            r.SlotIndex = slot.Index;
            r.Error = error;
            r.ChainNext = null;
            if (e % per == 0)
            {
                r.ChainLength = Math.Min(per, n - e);
                if (head is null)
                    first = r;
                else
                    head.NextChain = r;
                head = r;
            }
            else
            {
                prev!.ChainNext = r;
            }

            prev = r;
        }

        Count = 0;
        Rows = 0;
        _slot = null;
        _group = null;
        _batcher.BeginCompletions(n);
        slot.Release(); // this object may carry the slot's next batch from here on
        if (first is not null)
            _batcher.DispatchChains(first);
    }

    // Requests per completion chain: at least 8, and no more chains than processors. Measured on an H200 host (16 cores,
    // tiny workload, 64 single-row callers; docs/benchmarks/batching-results.md): one work item per request and chains of
    // 4 both lost to chains of 8 (fewer threads to wake and fewer submitters contending for the queue at once).
    private static int ChainSize(int n)
    {
        int chains = Math.Clamp((n + MinChain - 1) / MinChain, 1, Environment.ProcessorCount);
        return Math.Max(1, (n + chains - 1) / chains);
    }

    private const int MinChain = 8;
}
