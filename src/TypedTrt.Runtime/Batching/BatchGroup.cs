namespace TypedTrt.Runtime.Batching;

/// <summary>
/// The waiting requests of one shape (every input's dimensions except the batch dimension): a FIFO list threaded
/// through the requests themselves, so queueing allocates nothing. The list is guarded by the batcher's lock; the key and
/// sizes never change.
/// </summary>
internal sealed class BatchGroup
{
    public BatchGroup(BatchLayout layout, ReadOnlySpan<long> key)
    {
        Key = key.ToArray();
        var plan = layout.Plan;
        InputOuter = new long[plan.Length];
        InputInner = new long[plan.Length];
        foreach (int i in layout.Inputs)
        {
            var shape = InputShape(layout, i);
            InputOuter[i] = layout.Outer(shape);
            InputInner[i] = layout.InnerBytes(plan[i].Binding, shape);
        }

        _outputShapes = new long[]?[layout.Outputs.Length][];
        for (int o = 0; o < _outputShapes.Length; o++)
            _outputShapes[o] = new long[]?[layout.MaxBatch + 1];
    }

    // Per output (ordinal in BatchLayout.Outputs) and row count: the last output shape handed to a convenience result,
    // shared by every result of that shape (InferenceOutput never changes its shape array), so a result allocates its
    // data, not its shape. Written without the lock by concurrent batches: a lost write only costs an allocation.
    private readonly long[]?[][] _outputShapes;

    /// <summary>An immutable shape array equal to <paramref name="batchShape"/> with <paramref name="rows"/> on the batch dimension.</summary>
    public long[] OutputShape(int ordinal, ReadOnlySpan<long> batchShape, int dim, int rows)
    {
        ref long[]? cell = ref _outputShapes[ordinal][rows];
        var cached = Volatile.Read(ref cell);
        if (cached is not null && cached.Length == batchShape.Length)
        {
            bool same = true;
            for (int k = 0; k < cached.Length && same; k++)
                same = k == dim ? cached[k] == rows : cached[k] == batchShape[k];
            if (same)
                return cached;
        }

        long[] shape = batchShape.ToArray();
        shape[dim] = rows;
        Volatile.Write(ref cell, shape);
        return shape;
    }

    /// <summary>The concatenated input shapes with the batch dimension set to 0.</summary>
    public long[] Key { get; }

    /// <summary>Per input tensor index: rows outside the batch dimension, and bytes per row.</summary>
    public long[] InputOuter { get; }

    public long[] InputInner { get; }

    public BatchRequest? Head;
    public BatchRequest? Tail;

    /// <summary>Rows and requests waiting.</summary>
    public int Rows;
    public int Count;

    public ReadOnlySpan<long> InputShape(BatchLayout layout, int input) =>
        Key.AsSpan(layout.KeyOffset[input], layout.Plan[input].Binding.Rank);

    /// <summary>Whether <paramref name="r"/>'s input shapes (outside the batch dimension) are this group's.</summary>
    public bool Matches(BatchLayout layout, BatchRequest r)
    {
        int d = layout.Dim;
        foreach (int i in layout.Inputs)
        {
            var want = InputShape(layout, i);
            var have = r.GetShape(i);
            for (int k = 0; k < want.Length; k++)
            {
                if (k != d && have[k] != want[k])
                    return false;
            }
        }

        return true;
    }

    public void Append(BatchRequest r)
    {
        r.Prev = Tail;
        r.Next = null;
        if (Tail is null)
            Head = r;
        else
            Tail.Next = r;
        Tail = r;
        Rows += r.Rows;
        Count++;
    }

    public void Remove(BatchRequest r)
    {
        if (r.Prev is null)
            Head = r.Next;
        else
            r.Prev.Next = r.Next;
        if (r.Next is null)
            Tail = r.Prev;
        else
            r.Next.Prev = r.Prev;
        r.Prev = r.Next = null;
        Rows -= r.Rows;
        Count--;
    }
}
