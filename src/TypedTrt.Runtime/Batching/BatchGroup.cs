namespace TypedTrt.Runtime.Batching;

/// <summary>
/// The waiting requests of one shape (every input's dimensions except the batch dimension): a FIFO list threaded
/// through the requests themselves, so queueing allocates nothing. Guarded by the batcher's lock.
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
