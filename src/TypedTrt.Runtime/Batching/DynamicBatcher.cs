using System.Diagnostics;

namespace TypedTrt.Runtime.Batching;

/// <summary>
/// The request path of a batching runner: queue → batch → slot. Requests wait in one FIFO list per shape
/// (<see cref="BatchGroup"/>); a batch forms when <see cref="DynamicBatchingOptions.MaxBatchSize"/> rows (or a preferred
/// size) wait, or when the oldest request of a shape has waited <see cref="DynamicBatchingOptions.MaxQueueDelay"/>, and
/// a slot is free. Whoever makes a batch possible forms it: the submitting caller (inline), the completion that frees a
/// slot (inline on a thread-pool thread, else queued to the pool), or the delay thread when a deadline passes. The only
/// hooks into the runner are <see cref="InferenceRunner.TryTakeSlotForBatch"/> and <see cref="OnSlotReturned"/>.
/// </summary>
internal sealed class DynamicBatcher : IDisposable
{
    private static readonly Action<object?> CancelCallback = static s => ((BatchRequest)s!).Batcher.Cancel((BatchRequest)s!);

    [ThreadStatic]
    private static int t_depth;

    private readonly InferenceRunner _runner;
    private readonly object _lock = new();
    private readonly List<BatchGroup> _groups = [];
    private readonly SlotBatch[] _batches;
    private readonly BatchStatisticsRecorder _stats;
    private readonly long _delayTicks;
    private readonly int[] _preferred;
    private readonly int _minPreferred;
    private readonly int _maxQueue;
    private readonly Thread? _timer;
    private readonly object _poolLock = new();
    private BatchRequest? _pool;
    private int _queued;
    private bool _disposed, _timerWaiting;

    internal DynamicBatcher(InferenceRunner runner, BatchLayout layout, int slots)
    {
        _runner = runner;
        Layout = layout;
        Options = layout.Options;
        _batches = new SlotBatch[slots];
        for (int i = 0; i < slots; i++)
            _batches[i] = new SlotBatch(this, layout);
        _stats = new BatchStatisticsRecorder(layout.MaxBatch, Options.MaxQueueDelay);
        _delayTicks = (long)(Options.MaxQueueDelay.TotalSeconds * Stopwatch.Frequency);
        _preferred = Options.PreferredBatchSizes is { } p ? [.. p.Distinct().OrderDescending()] : [];
        _minPreferred = _preferred.Length > 0 ? _preferred[^1] : 0;
        _maxQueue = Options.MaxQueueLength ?? int.MaxValue;
        if (_delayTicks > 0)
        {
            _timer = new Thread(TimerLoop) { IsBackground = true, Name = "TypedTrt batch delay" };
            _timer.Start();
        }
    }

    public BatchLayout Layout { get; }

    public DynamicBatchingOptions Options { get; }

    // ---- pooled requests -------------------------------------------------------------------------------------

    internal BatchRequest Rent(bool lease)
    {
        BatchRequest? r;
        lock (_poolLock)
        {
            r = _pool;
            if (r is not null)
                _pool = r.PoolNext;
        }

        r ??= new BatchRequest(this, Layout);
        r.PoolNext = null;
        r.Reset(lease);
        return r;
    }

    internal void Return(BatchRequest r)
    {
        lock (_poolLock)
        {
            r.PoolNext = _pool;
            _pool = r;
        }
    }

    // ---- queue -----------------------------------------------------------------------------------------------

    /// <summary>Queues a prepared request; returns the error that rejected it (nothing was queued), or null.</summary>
    internal Exception? Submit(BatchRequest r, CancellationToken cancellationToken)
    {
        Span<long> key = stackalloc long[Layout.KeyLength];
        foreach (int i in Layout.Inputs)
        {
            var shape = r.GetShape(i);
            shape.CopyTo(key.Slice(Layout.KeyOffset[i]));
            key[Layout.KeyOffset[i] + Layout.Dim] = 0;
        }

        r.Token = cancellationToken;
        r.Registration = cancellationToken.CanBeCanceled ? cancellationToken.UnsafeRegister(CancelCallback, r) : default;
        Exception? error = null;
        SlotBatch? batch = null;
        lock (_lock)
        {
            if (_disposed)
            {
                error = new ObjectDisposedException(nameof(InferenceRunner));
            }
            else if (cancellationToken.IsCancellationRequested)
            {
                error = new OperationCanceledException(cancellationToken);
            }
            else if (_queued >= _maxQueue)
            {
                _stats.RecordRejected();
                error = new BatchQueueFullException(_maxQueue);
            }
            else
            {
                try
                {
                    var g = FindGroup(key);
                    r.Group = g;
                    r.EnqueuedAt = Stopwatch.GetTimestamp();
                    r.InQueue = true;
                    g.Append(r);
                    _queued++;
                    batch = TryFormBatch(r.EnqueuedAt);
                    if (batch is null && _queued == 1 && _timerWaiting)
                        Monitor.Pulse(_lock);
                }
                catch (ArgumentException ex)
                {
                    error = ex;
                }
            }
        }

        if (error is not null)
        {
            r.Registration.Unregister();
            r.Registration = default;
            return error;
        }

        while (batch is not null)
        {
            batch.Run();
            batch = Volatile.Read(ref _queued) > 0 ? TryFormBatchLocked() : null;
        }

        return null;
    }

    private BatchGroup FindGroup(ReadOnlySpan<long> key)
    {
        foreach (var g in _groups)
        {
            if (key.SequenceEqual(g.Key))
                return g;
        }

        var group = new BatchGroup(Layout, key); // once per shape
        _groups.Add(group);
        return group;
    }

    /// <summary>Cancellation of a waiting request: removes it; a request already in a batch runs to completion.</summary>
    internal void Cancel(BatchRequest r)
    {
        lock (_lock)
        {
            // Token check: the callback may arrive late, after the pooled request was reused for another caller.
            if (!r.InQueue || !r.Token.IsCancellationRequested)
                return;
            r.Group!.Remove(r);
            r.InQueue = false;
            _queued--;
            _stats.RecordCancelled();
        }

        r.CompleteLater(new OperationCanceledException(r.Token));
    }

    /// <summary>A slot came back to the runner: run the next batch if one is due.</summary>
    internal void OnSlotReturned()
    {
        if (Volatile.Read(ref _queued) == 0)
            return;
        SlotBatch? batch;
        lock (_lock)
        {
            batch = TryFormBatch(Stopwatch.GetTimestamp());
            if (_timerWaiting)
                Monitor.Pulse(_lock);
        }

        if (batch is null)
            return;
        // Inline on thread-pool threads (host completions); the poller and driver threads must not do the copies, and
        // a chain of synchronously failing batches must not recurse without bound.
        if (Thread.CurrentThread.IsThreadPoolThread && t_depth < 4)
        {
            t_depth++;
            try
            {
                batch.Run();
            }
            finally
            {
                t_depth--;
            }
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(batch, preferLocal: false);
        }
    }

    private SlotBatch? TryFormBatchLocked()
    {
        lock (_lock)
            return TryFormBatch(Stopwatch.GetTimestamp());
    }

    // Under _lock: the group to run (ready, oldest head first), a free slot, and the FIFO prefix of its requests.
    private SlotBatch? TryFormBatch(long now)
    {
        if (_disposed || _queued == 0)
            return null;
        int max = Layout.MaxBatch;
        BatchGroup? best = null;
        bool bestDue = false;
        foreach (var g in _groups)
        {
            if (g.Head is not { } head)
                continue;
            bool due = now - head.EnqueuedAt >= _delayTicks;
            bool ready = due || g.Rows >= max || (_minPreferred > 0 && g.Rows >= _minPreferred);
            if (ready && (best is null || head.EnqueuedAt < best.Head!.EnqueuedAt))
            {
                best = g;
                bestDue = due;
            }
        }

        if (best is null || !_runner.TryTakeSlotForBatch(out var slot))
            return null;
        int target = max;
        if (!bestDue && _preferred.Length > 0 && best.Rows < max)
        {
            foreach (int p in _preferred)
            {
                if (p <= best.Rows)
                {
                    target = p;
                    break;
                }
            }
        }

        var batch = _batches[slot!.Index];
        batch.Begin(slot, best);
        double usPerTick = 1e6 / Stopwatch.Frequency;
        while (best.Head is { } h && (batch.Rows + h.Rows <= target || batch.Count == 0))
        {
            best.Remove(h);
            h.InQueue = false;
            _queued--;
            _stats.RecordWait((now - h.EnqueuedAt) * usPerTick);
            batch.Add(h);
        }

        _stats.RecordBatch(batch.Rows, batch.Count);
        return batch;
    }

    // The delay thread: sleeps until the oldest waiting request is due, then runs its batch (or leaves it to the next
    // slot that frees). Monitor waits have millisecond resolution, so the last stretch before a deadline is spun.
    private void TimerLoop()
    {
        long spinUntil = 0;
        while (true)
        {
            SlotBatch? batch = null;
            lock (_lock)
            {
                if (_disposed)
                    return;
                long now = Stopwatch.GetTimestamp();
                if (spinUntil == 0 || now >= spinUntil)
                {
                    spinUntil = 0;
                    batch = TryFormBatch(now);
                }

                if (batch is null)
                {
                    long earliest = long.MaxValue;
                    foreach (var g in _groups)
                    {
                        if (g.Head is { } h)
                            earliest = Math.Min(earliest, h.EnqueuedAt + _delayTicks);
                    }

                    long remaining = earliest == long.MaxValue ? long.MaxValue : earliest - now;
                    long ms2 = Stopwatch.Frequency / 500;
                    if (remaining == long.MaxValue || remaining <= 0 || remaining > ms2)
                    {
                        // Nothing waits (sleep until a request arrives), a due batch waits for a slot (its return
                        // pulses), or the deadline is far: sleep to about a millisecond before it.
                        int timeout = remaining == long.MaxValue ? Timeout.Infinite
                            : remaining <= 0 ? 50
                            : (int)Math.Max(1, (remaining - ms2 / 2) * 1000 / Stopwatch.Frequency);
                        _timerWaiting = true;
                        Monitor.Wait(_lock, timeout);
                        _timerWaiting = false;
                        continue;
                    }

                    spinUntil = earliest;
                }
            }

            if (batch is not null)
            {
                batch.Run();
                continue;
            }

            var spin = default(SpinWait);
            while (Stopwatch.GetTimestamp() < spinUntil && !Volatile.Read(ref _disposed))
                spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    // ---- statistics ------------------------------------------------------------------------------------------

    internal BatchingStatistics Snapshot()
    {
        lock (_lock)
            return _stats.Snapshot();
    }

    internal void ResetStatistics()
    {
        lock (_lock)
            _stats.Reset();
    }

    /// <summary>Refuses new requests and fails every waiting one with <see cref="ObjectDisposedException"/>; batches in flight finish.</summary>
    public void Dispose()
    {
        var failed = new List<BatchRequest>();
        lock (_lock)
        {
            if (_disposed)
                return;
            _disposed = true;
            foreach (var g in _groups)
            {
                while (g.Head is { } h)
                {
                    g.Remove(h);
                    h.InQueue = false;
                    failed.Add(h);
                }
            }

            _queued = 0;
            Monitor.PulseAll(_lock);
        }

        foreach (var r in failed)
        {
            r.Registration.Unregister();
            r.CompleteLater(new ObjectDisposedException(nameof(InferenceRunner), "The runner was disposed while the request waited in the batch queue; it never ran."));
        }

        if (_timer is not null && Thread.CurrentThread != _timer)
            _timer.Join();
    }
}
