namespace TypedTrt.Runtime;

// The lease API: AcquireAsync hands out a slot for in-place use of its pinned buffers.
public sealed partial class InferenceRunner
{
    /// <summary>Waits for a free slot and leases it. Cancellation applies while waiting.</summary>
    /// <exception cref="ObjectDisposedException">The runner is disposed or being disposed.</exception>
    public ValueTask<InferenceLease> AcquireAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_batcher is not null)
        {
            return cancellationToken.IsCancellationRequested
                ? ValueTask.FromCanceled<InferenceLease>(cancellationToken)
                : new ValueTask<InferenceLease>(AcquireBatchedLease());
        }

        long start = Metrics.OnAcquireStart();
        ValueTask<RunnerSlot> rent = _pool.RentAsync(cancellationToken);
        if (rent.IsCompletedSuccessfully)
            return new ValueTask<InferenceLease>(new InferenceLease(Lease(rent.Result, start)));
        return AcquireSlowAsync(rent, start);
    }

    private async ValueTask<InferenceLease> AcquireSlowAsync(ValueTask<RunnerSlot> rent, long start)
    {
        RunnerSlot slot;
        try
        {
            slot = await rent.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Metrics.OnAcquireFailed(ex);
            throw;
        }

        return new InferenceLease(Lease(slot, start));
    }
}
