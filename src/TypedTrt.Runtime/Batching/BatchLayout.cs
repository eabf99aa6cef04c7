using TypedTrt.Manifest;
using TypedTrt.Runtime.Engine;

namespace TypedTrt.Runtime.Batching;

/// <summary>
/// Whether an engine can be batched over one dimension, and the geometry of a row: the checks of
/// <see cref="DynamicBatchingOptions"/> at construction (every input and output has the batch dimension, dynamic, and
/// outputs follow the inputs' batch size) and the strided row copies between requests and a slot's buffers.
/// </summary>
internal sealed class BatchLayout
{
    private BatchLayout(TensorPlan[] plan, int dim, int maxBatch, DynamicBatchingOptions options)
    {
        Plan = plan;
        Dim = dim;
        MaxBatch = maxBatch;
        Options = options;
        var inputs = new List<int>();
        var outputs = new List<int>();
        foreach (var p in plan)
            (p.IsInput ? inputs : outputs).Add(p.Index);
        Inputs = [.. inputs];
        Outputs = [.. outputs];
        int key = 0;
        KeyOffset = new int[plan.Length];
        foreach (int i in Inputs)
        {
            KeyOffset[i] = key;
            key += plan[i].Binding.Rank;
        }

        KeyLength = key;
    }

    public TensorPlan[] Plan { get; }

    /// <summary>The batch dimension.</summary>
    public int Dim { get; }

    /// <summary>The options' MaxBatchSize (checked against the profile).</summary>
    public int MaxBatch { get; }

    public DynamicBatchingOptions Options { get; }

    /// <summary>Tensor indices of the inputs and outputs, in signature order.</summary>
    public int[] Inputs { get; }

    public int[] Outputs { get; }

    /// <summary>Where each input's shape starts in a group key (the concatenated input shapes with the batch dimension zeroed).</summary>
    public int[] KeyOffset { get; }

    public int KeyLength { get; }

    /// <summary>Checks that the engine qualifies for batching with these options; the message names the tensor or setting that does not.</summary>
    /// <exception cref="ArgumentException">The engine does not qualify, or an option is out of range.</exception>
    public static BatchLayout Create(TensorPlan[] plan, DynamicBatchingOptions options, int profileIndex, IEngineContext context)
    {
        const string P = nameof(options);
        if (options.MaxBatchSize < 1)
            throw new ArgumentException($"DynamicBatchingOptions.MaxBatchSize is {options.MaxBatchSize}; it must be at least 1 (the most rows one batch may hold).", P);
        if (options.MaxQueueDelay < TimeSpan.Zero)
            throw new ArgumentException($"DynamicBatchingOptions.MaxQueueDelay is {options.MaxQueueDelay}; it must not be negative.", P);
        if (options.MaxQueueLength is < 1)
            throw new ArgumentException($"DynamicBatchingOptions.MaxQueueLength is {options.MaxQueueLength}; it must be at least 1, or null for no limit.", P);
        int d = options.BatchDimension;
        if (d < 0)
            throw new ArgumentException($"DynamicBatchingOptions.BatchDimension is {d}; it must be a dimension index (0 or more).", P);

        long min = 1, max = long.MaxValue;
        string? limiting = null;
        foreach (var p in plan)
        {
            var b = p.Binding;
            string kind = p.IsInput ? "Input" : "Output";
            if (b.Rank <= d)
                throw new ArgumentException($"{kind} '{b.Name}' has shape {TensorBinding.FormatShape(b.Shape)} with no dimension {d}, so the engine cannot be batched over dimension {d}: every input and output needs the batch dimension.", P);
            if (b.Shape[d] >= 0)
                throw new ArgumentException($"{kind} '{b.Name}' has shape {TensorBinding.FormatShape(b.Shape)}: dimension {d} is fixed at {b.Shape[d]}, so the engine cannot be batched over it; every input and output needs a dynamic batch dimension {d}.", P);
            if (b.Layout is { ComponentsPerElement: > 1 } l)
                throw new ArgumentException($"{kind} '{b.Name}' uses the vectorized format {l.Format}; batching needs linear layouts (rows that are contiguous byte ranges).", P);
            if (p.IsInput)
            {
                if (p.Min[d] > min)
                    min = p.Min[d];
                if (p.Max[d] < max)
                {
                    max = p.Max[d];
                    limiting = b.Name;
                }
            }
        }

        if (limiting is null)
            throw new ArgumentException("The engine has no inputs to batch.", P);
        if (min > 1)
            throw new ArgumentException($"Optimization profile {profileIndex} allows batch sizes {min}..{max} on dimension {d}; batching needs batch 1 (a single request) to be allowed. Build the engine with a profile whose minimum batch is 1.", P);
        if (options.MaxBatchSize > max)
            throw new ArgumentException($"DynamicBatchingOptions.MaxBatchSize is {options.MaxBatchSize}, above optimization profile {profileIndex}'s range 1..{max} for dimension {d} (input '{limiting}'). Use at most {max}, or build the engine with a larger maximum batch.", P);
        if (options.PreferredBatchSizes is { } preferred)
        {
            foreach (int s in preferred)
            {
                if (s < 1 || s > options.MaxBatchSize)
                    throw new ArgumentException($"DynamicBatchingOptions.PreferredBatchSizes contains {s}; each preferred size must be 1..MaxBatchSize ({options.MaxBatchSize}).", P);
            }
        }

        var layout = new BatchLayout(plan, d, options.MaxBatchSize, options);
        layout.CheckOutputsFollowBatch(context, options.MaxBatchSize);
        if (options.MaxBatchSize > 1)
            layout.CheckOutputsFollowBatch(context, 1);
        return layout;
    }

    // Outputs must have the batch size of the inputs on the batch dimension (else rows cannot be handed back): resolve
    // them at a batch size with every other dynamic dimension at its profile maximum.
    private void CheckOutputsFollowBatch(IEngineContext context, int batch)
    {
        Span<long> dims = stackalloc long[16];
        foreach (int i in Inputs)
        {
            var p = Plan[i];
            long[] shape = (long[])p.Max.Clone();
            shape[Dim] = batch;
            context.SetInputShape(i, shape);
        }

        foreach (int o in Outputs)
        {
            var b = Plan[o].Binding;
            int rank = context.GetTensorShape(o, dims);
            if (rank <= Dim || dims[Dim] != batch)
                throw new ArgumentException($"Output '{b.Name}' does not follow the batch size: with {batch} row(s) on dimension {Dim} of every input, the engine gives it shape {TensorBinding.FormatShape(dims[..rank])}. Batching needs every output's dimension {Dim} to equal the inputs' batch size.");
        }

        foreach (int i in Inputs)
            context.SetInputShape(i, Plan[i].Max);
    }

    /// <summary>Rows outside the batch dimension (product of the dimensions before it).</summary>
    public long Outer(ReadOnlySpan<long> shape)
    {
        long n = 1;
        for (int i = 0; i < Dim; i++)
            n *= shape[i];
        return n;
    }

    /// <summary>Bytes of one row: the dimensions after the batch dimension times the element size.</summary>
    /// <exception cref="ArgumentException">A 4-bit type whose row is not a whole number of bytes.</exception>
    public long InnerBytes(TensorBinding binding, ReadOnlySpan<long> shape)
    {
        long n = 1;
        for (int i = Dim + 1; i < shape.Length; i++)
            n *= shape[i];
        long bits = n * DataTypes.BitsPerElement(binding.DataType);
        if (bits % 8 != 0)
            throw new ArgumentException($"Tensor '{binding.Name}' has rows of {bits} bits at shape {TensorBinding.FormatShape(shape)}; batching needs rows of whole bytes.");
        return bits / 8;
    }

    /// <summary>Copies <paramref name="rows"/> rows of a request (outer × rows × inner bytes) into a batch of <paramref name="batchRows"/> rows at <paramref name="rowStart"/>.</summary>
    public static void CopyIn(ReadOnlySpan<byte> request, Span<byte> batch, long outer, long inner, long rows, long rowStart, long batchRows)
    {
        int chunk = checked((int)(rows * inner));
        for (long o = 0; o < outer; o++)
            request.Slice(checked((int)(o * chunk)), chunk).CopyTo(batch.Slice(checked((int)((o * batchRows + rowStart) * inner)), chunk));
    }

    /// <summary>Copies a request's rows out of a batch (the inverse of <see cref="CopyIn"/>).</summary>
    public static void CopyOut(ReadOnlySpan<byte> batch, Span<byte> request, long outer, long inner, long rows, long rowStart, long batchRows)
    {
        int chunk = checked((int)(rows * inner));
        for (long o = 0; o < outer; o++)
            batch.Slice(checked((int)((o * batchRows + rowStart) * inner)), chunk).CopyTo(request.Slice(checked((int)(o * chunk)), chunk));
    }
}
