namespace TypedTrt.Runtime;

/// <summary>
/// The runner's free slots and the callers waiting for one, behind one lock, so that renting, returning, cancelling
/// and closing are each one atomic step and no interleaving can strand a waiter. <see cref="Close"/> fails every
/// waiter with <see cref="ObjectDisposedException"/> at once, refuses every later rent, and returns a task that
/// completes when every slot is back.
/// </summary>
/// <remarks>
/// A waiter is completed only by whoever removes it from the queue under the lock (a return handing it a slot, its
/// token's cancellation, or the close), so it completes exactly once. Completions run outside the lock and resume
/// their callers asynchronously, so no caller's code runs under it.
/// </remarks>
internal sealed class SlotPool
{
    private readonly Lock _lock = new();
    private readonly Queue<RunnerSlot> _free;
    private readonly LinkedList<Waiter> _waiters = new();
    private readonly int _count;
    private TaskCompletionSource? _drained;

    public SlotPool(IReadOnlyCollection<RunnerSlot> slots)
    {
        _free = new Queue<RunnerSlot>(slots);
        _count = slots.Count;
    }

    /// <summary>A free slot now, or a wait for the next one returned. Fails with <see cref="ObjectDisposedException"/> once closed.</summary>
    public ValueTask<RunnerSlot> RentAsync(CancellationToken cancellationToken)
    {
        Waiter waiter;
        lock (_lock)
        {
            if (_drained is not null)
                return ValueTask.FromException<RunnerSlot>(Disposed());
            if (cancellationToken.IsCancellationRequested)
                return ValueTask.FromCanceled<RunnerSlot>(cancellationToken);
            if (_free.TryDequeue(out var slot))
                return new ValueTask<RunnerSlot>(slot);
            waiter = new Waiter(this);
            waiter.Node = _waiters.AddLast(waiter);
        }

        if (!cancellationToken.CanBeCanceled)
            return new ValueTask<RunnerSlot>(waiter.Task);
        waiter.Registration = cancellationToken.UnsafeRegister(static (state, token) => ((Waiter)state!).Pool.Cancel((Waiter)state!, token), waiter);
        return WaitAsync(waiter);
    }

    /// <summary>A free slot now, or false (never waits; false once closed). The dynamic batcher's way to a slot.</summary>
    public bool TryRent([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RunnerSlot? slot)
    {
        lock (_lock)
        {
            if (_drained is null && _free.TryDequeue(out slot))
                return true;
        }

        slot = null;
        return false;
    }

    // The registration is disposed by the waiting side, after the waiter completed, however it completed.
    private static async ValueTask<RunnerSlot> WaitAsync(Waiter waiter)
    {
        try
        {
            return await waiter.Task.ConfigureAwait(false);
        }
        finally
        {
            waiter.Registration.Dispose();
        }
    }

    /// <summary>Hands the slot to the first waiter, or puts it back; after <see cref="Close"/>, completes the drain when it is the last.</summary>
    public void Return(RunnerSlot slot)
    {
        Waiter? waiter = null;
        TaskCompletionSource? drained = null;
        lock (_lock)
        {
            if (_waiters.First is { } first)
            {
                waiter = first.Value;
                _waiters.RemoveFirst();
                waiter.Node = null;
            }
            else
            {
                _free.Enqueue(slot);
                if (_drained is not null && _free.Count == _count)
                    drained = _drained;
            }
        }

        waiter?.TrySetResult(slot);
        drained?.TrySetResult();
    }

    /// <summary>Refuses every later rent, fails every waiter with <see cref="ObjectDisposedException"/>; the task completes when every slot is back.</summary>
    public Task Close()
    {
        List<Waiter> failed;
        TaskCompletionSource drained;
        lock (_lock)
        {
            if (_drained is not null)
                return _drained.Task;
            _drained = drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            failed = [.. _waiters];
            _waiters.Clear();
            foreach (var w in failed)
                w.Node = null;
            if (_free.Count == _count)
                drained.TrySetResult();
        }

        foreach (var w in failed)
            w.TrySetException(Disposed());
        return drained.Task;
    }

    private void Cancel(Waiter waiter, CancellationToken token)
    {
        lock (_lock)
        {
            if (waiter.Node is not { } node)
                return; // already handed a slot or failed by the close
            _waiters.Remove(node);
            waiter.Node = null;
        }

        waiter.TrySetCanceled(token);
    }

    private static ObjectDisposedException Disposed() => new(nameof(InferenceRunner));

    private sealed class Waiter(SlotPool pool) : TaskCompletionSource<RunnerSlot>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public readonly SlotPool Pool = pool;
        public LinkedListNode<Waiter>? Node; // in the wait queue while not null (guarded by the pool's lock)
        public CancellationTokenRegistration Registration;
    }
}
