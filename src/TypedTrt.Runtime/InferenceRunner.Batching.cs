using TypedTrt.Runtime.Batching;

namespace TypedTrt.Runtime;

// Dynamic batching (InferenceRunnerOptions.Batching): the request path goes queue → batch → slot through DynamicBatcher;
// the runner's only hooks are TryTakeSlotForBatch and the call in ReturnSlot.
public sealed partial class InferenceRunner
{
    private DynamicBatcher? _batcher;

    /// <summary>The dynamic batching options this runner was built with, or <see langword="null"/> when every request is its own enqueue.</summary>
    public DynamicBatchingOptions? Batching => _batcher?.Options;

    /// <summary>
    /// A snapshot of the batching statistics since the runner was created or <see cref="ResetBatchingStatistics"/>: batches,
    /// rows, requests, the batch-size histogram, queue wait p50/p99; <see langword="null"/> without batching.
    /// </summary>
    public BatchingStatistics? GetBatchingStatistics() => _batcher?.Snapshot();

    /// <summary>Starts the batching statistics afresh (no effect without batching).</summary>
    public void ResetBatchingStatistics() => _batcher?.ResetStatistics();

    private void CreateBatcher(DynamicBatchingOptions options) =>
        _batcher = new DynamicBatcher(this, BatchLayout.Create(_plan, options, ProfileIndex, _slots[0].Context!), _slots.Length);

    /// <summary>Whether a slot may be taken for a batch now (a hint without the pool's lock).</summary>
    internal bool HasFreeSlotForBatch => _pool.HasFree;

    /// <summary>The batcher's way to a slot: a free one now, or false (never waits).</summary>
    internal bool TryTakeSlotForBatch(out RunnerSlot? slot)
    {
        if (Volatile.Read(ref _disposed) == 0 && _pool.TryRent(out slot))
        {
            // To the metrics the batch is one enqueue (its batch size); its requests count themselves (DynamicBatcher).
            slot.ForBatch = true;
            Lease(slot, 0);
            return true;
        }

        slot = null;
        return false;
    }

    // A lease of a batching runner is one request in the batch queue: its spans are pooled staging memory owned by the
    // request (rows are copied into the slot when its batch forms), and RunAsync completes when that batch is done.
    private InferenceLease AcquireBatchedLease() => new(_batcher!.Rent(lease: true));

    private ValueTask<InferenceResult> RunBatchedAsync(IReadOnlyList<InferenceInput> inputs, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _disposed) != 0)
            return ValueTask.FromException<InferenceResult>(new ObjectDisposedException(nameof(InferenceRunner)));
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled<InferenceResult>(cancellationToken);
        var batcher = _batcher!;
        var r = batcher.Rent(lease: false);
        try
        {
            ValidateInputSet(inputs);
            r.SetConvenienceInputs(inputs);
        }
        catch (ArgumentException ex)
        {
            batcher.Return(r);
            return ValueTask.FromException<InferenceResult>(ex);
        }

        short version = r.Version;
        if (batcher.Submit(r, cancellationToken) is { } error)
        {
            batcher.Return(r);
            return ValueTask.FromException<InferenceResult>(error);
        }

        return new ValueTask<InferenceResult>(r, version);
    }
}
