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
        if (_available.Wait(0, CancellationToken.None))
            return new ValueTask<InferenceLease>(new InferenceLease(TakeSlot()));
        return AcquireSlowAsync(cancellationToken);
    }

    private async ValueTask<InferenceLease> AcquireSlowAsync(CancellationToken cancellationToken)
    {
        await _available.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new InferenceLease(TakeSlot());
    }
}
