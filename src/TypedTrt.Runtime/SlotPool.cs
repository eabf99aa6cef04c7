namespace TypedTrt.Runtime;

/// <summary>
/// The runner's free slots and the callers waiting for one, behind one lock, so that renting, returning, cancelling
/// and closing are each one atomic step and no interleaving can strand a waiter. <see cref="Close"/> fails every
/// waiter with <see cref="ObjectDisposedException"/> at once, refuses every later rent, and returns a task that
/// completes when every slot is back.
/// </summary>
/// <remarks>
/// <para>Free slots sit in one queue per device. A rent takes a slot of the least-loaded device that has a free one
/// (fewest slots in use relative to its slot count; ties go round robin, so sequential requests spread over the
/// devices); a one-device runner is the same code with one queue. Waiters exist only while every queue is empty, so a
/// returned slot goes straight to the first waiter.</para>
/// A waiter is completed only by whoever removes it from the queue under the lock (a return handing it a slot, its
/// token's cancellation, or the close), so it completes exactly once. Completions run outside the lock and resume
/// their callers asynchronously, so no caller's code runs under it.
/// </remarks>
internal sealed class SlotPool
{
    private readonly Lock _lock = new();
    private readonly Queue<RunnerSlot>[] _free; // per device (RunnerSlot.DeviceIndex)
    private readonly int[] _inUse; // per device: slots rented and not yet returned
    private readonly int[] _size; // per device: slots
    private readonly LinkedList<Waiter> _waiters = new();
    private readonly int _count;
    private int _freeCount;
    private int _next; // round-robin start for ties
    private TaskCompletionSource? _drained;

    public SlotPool(IReadOnlyCollection<RunnerSlot> slots)
    {
        int devices = 0;
        foreach (var s in slots)
            devices = Math.Max(devices, s.DeviceIndex + 1);
        _free = new Queue<RunnerSlot>[Math.Max(1, devices)];
        _inUse = new int[_free.Length];
        _size = new int[_free.Length];
        for (int d = 0; d < _free.Length; d++)
            _free[d] = new Queue<RunnerSlot>();
        foreach (var s in slots)
        {
            _free[s.DeviceIndex].Enqueue(s);
            _size[s.DeviceIndex]++;
        }

        _count = _freeCount = slots.Count;
    }

    /// <summary>Slots in use per device (a snapshot; for tests and diagnostics).</summary>
    /// <summary>Whether a slot is free now: a hint read without the lock (the batcher's submit skips the lock when none is; every return is followed by <see cref="InferenceRunner.ReturnSlot"/>'s batcher call).</summary>
    public bool HasFree => Volatile.Read(ref _freeCount) > 0;

    public int[] InUseSnapshot()
    {
        lock (_lock)
            return (int[])_inUse.Clone();
    }

    // Under the lock: the free slot of the least-loaded device (in use ÷ size; ties round robin), or false.
    private bool TryTakeFree([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RunnerSlot? slot)
    {
        slot = null;
        if (_freeCount == 0)
            return false;
        int n = _free.Length, best = -1;
        for (int k = 0; k < n; k++)
        {
            int d = _next + k;
            if (d >= n)
                d -= n;
            if (_free[d].Count == 0)
                continue;
            // a/b < c/e  <=>  a*e < c*b (sizes are positive)
            if (best < 0 || (long)_inUse[d] * _size[best] < (long)_inUse[best] * _size[d])
                best = d;
        }

        slot = _free[best].Dequeue();
        _inUse[best]++;
        _freeCount--;
        _next = best + 1 == n ? 0 : best + 1;
        return true;
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
            if (TryTakeFree(out var slot))
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
            if (_drained is null && TryTakeFree(out slot))
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
                // Every queue is empty while callers wait: this slot is the only free one, and it stays in use.
                waiter = first.Value;
                _waiters.RemoveFirst();
                waiter.Node = null;
            }
            else
            {
                _free[slot.DeviceIndex].Enqueue(slot);
                _inUse[slot.DeviceIndex]--;
                _freeCount++;
                if (_drained is not null && _freeCount == _count)
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
            if (_freeCount == _count)
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
