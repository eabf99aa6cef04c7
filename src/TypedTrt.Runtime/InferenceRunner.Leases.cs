namespace TypedTrt.Runtime;

// The lease API: AcquireAsync hands out a slot for in-place use of its pinned buffers.
public sealed partial class InferenceRunner
{
    /// <summary>Waits for a free slot and leases it. Cancellation applies while waiting.</summary>
    /// <exception cref="ObjectDisposedException">The runner is disposed or being disposed.</exception>
    public ValueTask<InferenceLease> AcquireAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled<InferenceLease>(cancellationToken);
        long start = Metrics.OnAcquireStart();
        if (_available.Wait(0, CancellationToken.None))
            return new ValueTask<InferenceLease>(new InferenceLease(TakeSlot(start)));
        return AcquireSlowAsync(start, cancellationToken);
    }

    private async ValueTask<InferenceLease> AcquireSlowAsync(long start, CancellationToken cancellationToken)
    {
        await WaitForSlotAsync(cancellationToken).ConfigureAwait(false);
        return new InferenceLease(TakeSlot(start));
    }
}
