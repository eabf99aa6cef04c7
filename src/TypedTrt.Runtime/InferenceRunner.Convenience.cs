using TypedTrt.Manifest;

namespace TypedTrt.Runtime;

// The convenience RunAsync: caller memory in, owned arrays out.
public sealed partial class InferenceRunner
{
    /// <summary>
    /// Convenience entry: leases a slot, copies each input from caller memory, runs, and returns the outputs as owned
    /// arrays. Every input of the signature must be given exactly once. With <see cref="InferenceRunnerOptions.Batching"/>
    /// the request joins the batch queue instead: its rows are copied from <paramref name="inputs"/> straight into the
    /// slot's buffers when its batch forms (keep the memory unchanged until the call completes), and the result holds
    /// exactly its own rows.
    /// </summary>
    /// <param name="inputs">One entry per input (any order).</param>
    /// <param name="cancellationToken">Observed while waiting for a slot and before enqueue; with batching, while the request waits in the queue (it is removed).</param>
    /// <exception cref="ArgumentException">A missing, repeated or unknown input; a shape outside the profile; data whose length does not match its shape.</exception>
    /// <exception cref="Batching.BatchQueueFullException">Batching with <see cref="Batching.DynamicBatchingOptions.MaxQueueLength"/> requests already waiting.</exception>
    /// <exception cref="ObjectDisposedException">The runner is disposed, or was disposed while the request waited.</exception>
    public ValueTask<InferenceResult> RunAsync(IReadOnlyList<InferenceInput> inputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        return _batcher is null ? RunUnbatchedAsync(inputs, cancellationToken) : RunBatchedAsync(inputs, cancellationToken);
    }

    private async ValueTask<InferenceResult> RunUnbatchedAsync(IReadOnlyList<InferenceInput> inputs, CancellationToken cancellationToken)
    {
        ValidateInputSet(inputs);
        RunnerSlot slot = await AcquireSlotAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var input in inputs)
            {
                var binding = _plan[input.TensorIndex].Binding;
                if (binding.IsDynamic || !input.Shape.IsEmpty)
                {
                    if (input.Shape.IsEmpty && binding.Rank > 0)
                        throw new ArgumentException($"Input '{binding.Name}' has dynamic dimensions; give its shape.", nameof(inputs));
                    slot.SetInputShape(input.TensorIndex, input.Shape.Span);
                }

                Span<byte> dst = slot.GetInputSpan<byte>(input.TensorIndex);
                if (input.Data.Length != dst.Length)
                    throw new ArgumentException($"Input '{binding.Name}' at shape {TensorBinding.FormatShape(slot.GetInputShape(input.TensorIndex))} takes {dst.Length} bytes; got {input.Data.Length}.", nameof(inputs));
                input.Data.Span.CopyTo(dst);
            }

            await slot.RunAsync(cancellationToken).ConfigureAwait(false);
            var outputs = new List<InferenceOutput>();
            foreach (var p in _plan)
            {
                if (p.IsInput)
                    continue;
                outputs.Add(new InferenceOutput(p.Index, p.Binding, slot.GetOutputShape(p.Index).ToArray(), slot.GetOutputSpan<byte>(p.Index).ToArray()));
            }

            return new InferenceResult(outputs);
        }
        finally
        {
            slot.Release();
        }
    }

    private void ValidateInputSet(IReadOnlyList<InferenceInput> inputs)
    {
        Span<bool> seen = stackalloc bool[_plan.Length];
        foreach (var input in inputs)
        {
            if ((uint)input.TensorIndex >= (uint)_plan.Length || !_plan[input.TensorIndex].IsInput)
                throw new ArgumentException($"Tensor index {input.TensorIndex} is not an input of this engine.", nameof(inputs));
            if (seen[input.TensorIndex])
                throw new ArgumentException($"Input '{_plan[input.TensorIndex].Binding.Name}' is given twice.", nameof(inputs));
            seen[input.TensorIndex] = true;
        }

        foreach (var p in _plan)
        {
            if (p.IsInput && !seen[p.Index])
                throw new ArgumentException($"Input '{p.Binding.Name}' (tensor {p.Index}) is missing.", nameof(inputs));
        }
    }
}
