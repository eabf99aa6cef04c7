using System.Diagnostics;

namespace TypedTrt.Runtime.Batching;

/// <summary>
/// The request path of a batching runner: queue → batch → slot. Requests wait in one FIFO list per shape
/// (<see cref="BatchGroup"/>); a batch forms when <see cref="DynamicBatchingOptions.MaxBatchSize"/> rows (or a preferred
/// size) wait, or when the oldest request of a shape has waited <see cref="DynamicBatchingOptions.MaxQueueDelay"/>, and
/// a slot is free, or at once when a wave of completions has returned and every caller it handed back has queued again
/// (nobody else is about to come). Whoever makes a batch possible forms it: the submitting caller (inline), the
/// completion that frees a slot or ends a wave (inline on a thread-pool thread, else queued to the pool), or the delay
/// thread when a deadline passes. A finished batch hands its requests back in a few chains (each to an idle
/// <see cref="CompletionWorkers"/> thread or the thread pool, the last inline where allowed), so its callers resume in
/// parallel without one thread-pool hop per request. The only
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
    private readonly CompletionWorkers? _workers;
    private readonly System.Collections.Concurrent.ConcurrentBag<BatchRequest> _pool = [];
    private int _queued;
    private bool _disposed, _timerWaiting;
    private long _timerWakeAt; // when the delay thread's wait ends (long.MaxValue: it sleeps until pulsed)

    // Completion waves: requests handed back by finished batches whose completion (the caller's continuation, which
    // usually submits its next request) has not returned yet, and how many were handed back since the queue last had
    // no completion running. When the last returns and as many requests wait as came back, every caller that can come
    // has come: the queue is dispatched at once instead of waiting for MaxQueueDelay (see EndCompletions).
    private int _completing;
    private int _waveRequests;

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
        _workers = CompletionWorkers.Create(this, Options.CompletionThreadsForTesting);
        if (_delayTicks > 0)
        {
            _timer = new Thread(TimerLoop) { IsBackground = true, Name = "TypedTrt batch delay" };
            _timer.Start();
        }
    }

    public BatchLayout Layout { get; }

    internal Diagnostics.RunnerMetrics Metrics => _runner.Metrics;

    public DynamicBatchingOptions Options { get; }

    // ---- pooled requests -------------------------------------------------------------------------------------

    // A bag: a caller's continuation returns its request and rents the next one on the same thread, which a bag serves
    // from that thread's own list without a shared lock.
    internal BatchRequest Rent(bool lease)
    {
        if (!_pool.TryTake(out var r))
            r = new BatchRequest(this, Layout);
        r.Reset(lease);
        return r;
    }

    internal void Return(BatchRequest r) => _pool.Add(r);

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
        // Counted as queued before it can be queued (and complete), outside the lock that every submit takes.
        _runner.Metrics.OnBatchRequestQueued(ref r.Telemetry, Stopwatch.GetTimestamp());
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
                    batch = TryFormBatch(r.EnqueuedAt, flush: false);
                    // Wake the delay thread only when it would otherwise sleep past this request's deadline.
                    if (batch is null && _queued == 1 && _timerWaiting && _timerWakeAt > r.EnqueuedAt + _delayTicks)
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
            _runner.Metrics.OnBatchRequestNotQueued(error is not ArgumentException ? error : null); // (invalid requests are the caller's to count, as without batching)
            return error;
        }

        while (batch is not null)
        {
            RunCounted(batch);
            batch = Volatile.Read(ref _queued) > 0 ? TryFormBatchLocked() : null;
        }

        return null;
    }

    // Runs a batch on this thread, counted in the inline depth (a host engine completes it right here).
    private static void RunCounted(SlotBatch batch)
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

    /// <summary>Whether this thread may run a batch or a completion chain inline: a thread-pool or completion thread, not too deep in nested inline runs.</summary>
    private static bool CanRunInline => t_depth < MaxInlineDepth && (CompletionWorkers.IsWorkerThread || Thread.CurrentThread.IsThreadPoolThread);

    private const int MaxInlineDepth = 4;

    // Runs a batch inline where allowed, else on the thread pool.
    private static void RunOrQueue(SlotBatch batch)
    {
        if (CanRunInline)
            RunCounted(batch);
        else
            ThreadPool.UnsafeQueueUserWorkItem(batch, preferLocal: false);
    }

    // ---- completion ------------------------------------------------------------------------------------------

    /// <summary>A finished batch is about to hand back <paramref name="n"/> requests (before its slot is released).</summary>
    internal void BeginCompletions(int n)
    {
        lock (_lock)
        {
            Interlocked.Add(ref _completing, n);
            _waveRequests += n;
        }
    }

    /// <summary>
    /// Hands a finished batch's completion chains (linked by <see cref="BatchRequest.NextChain"/>) to idle completion
    /// threads, else to the thread pool; the last runs on this thread when it may (a pool or completion thread), saving
    /// one hop and letting its callers resubmit at once.
    /// </summary>
    internal void DispatchChains(BatchRequest first)
    {
        bool inline = CanRunInline; // never on the poller: it would hold up the completions of the other slots' batches
        for (var h = first; h is not null;)
        {
            var next = h.NextChain; // read before the chain can run and its requests be reused
            h.NextChain = null;
            if (next is null && inline)
                RunChain(h);
            else if (_workers is null || !_workers.TryPost(h))
                ThreadPool.UnsafeQueueUserWorkItem(h, preferLocal: false);
            h = next;
        }
    }

    /// <summary>Completes a chain of requests one after another (each caller's continuation runs here), then ends them as completions.</summary>
    internal void RunChain(BatchRequest head)
    {
        int n = head.ChainLength;
        head.ChainLength = 0;
        Exception? failure = null;
        t_depth++;
        try
        {
            for (var r = head; r is not null;)
            {
                var next = r.ChainNext; // read first: once completed, the request may be reused by its caller
                r.ChainNext = null;
                try
                {
                    r.CompleteNow();
                }
#pragma warning disable CA1031 // the rest of the chain must still complete; rethrown below
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    failure ??= ex;
                }

                r = next;
            }
        }
        finally
        {
            t_depth--;
        }

        EndCompletions(n);
        if (failure is not null)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
    }

    // The last completion of a wave returned: if every caller handed back in it has queued again (a closed loop's
    // callers resubmit from their continuation), nobody else is about to come, so the waiting rows go now on free slots.
    private void EndCompletions(int n)
    {
        if (Interlocked.Add(ref _completing, -n) != 0)
            return;
        SlotBatch? batch;
        lock (_lock)
        {
            if (Volatile.Read(ref _completing) != 0)
                return; // a new wave began; its end decides
            bool allBack = _queued > 0 && _queued >= _waveRequests;
            _waveRequests = 0;
            batch = allBack ? TryFormBatch(Stopwatch.GetTimestamp(), flush: true) : null;
            if (batch is null && _queued > 0 && _timerWaiting)
                Monitor.Pulse(_lock); // the rows that wait are the delay thread's again
        }

        while (batch is not null)
        {
            RunOrQueue(batch);
            lock (_lock)
                batch = _queued > 0 && Volatile.Read(ref _completing) == 0 ? TryFormBatch(Stopwatch.GetTimestamp(), flush: true) : null;
        }
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
            batch = TryFormBatch(Stopwatch.GetTimestamp(), flush: false);
            // A due batch waits for this slot, which the delay thread would now form; during a completion wave the
            // wave's end decides instead (the delay thread still wakes by itself within a millisecond of a deadline).
            if (batch is null && _timerWaiting && _queued > 0 && Volatile.Read(ref _completing) == 0)
                Monitor.Pulse(_lock);
        }

        // Inline on thread-pool threads (host completions); the poller and driver threads must not do the copies, and
        // a chain of synchronously failing batches must not recurse without bound.
        if (batch is not null)
            RunOrQueue(batch);
    }

    private SlotBatch? TryFormBatchLocked()
    {
        lock (_lock)
            return TryFormBatch(Stopwatch.GetTimestamp(), flush: false);
    }

    // Under _lock: the group to run (ready, oldest head first), a free slot, and the FIFO prefix of its requests.
    // flush: every waiting request counts as ready (the end of a completion wave: all that can come has come).
    private SlotBatch? TryFormBatch(long now, bool flush)
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
            bool ready = due || flush || g.Rows >= max || (_minPreferred > 0 && g.Rows >= _minPreferred);
            if (ready && (best is null || head.EnqueuedAt < best.Head!.EnqueuedAt))
            {
                best = g;
                bestDue = due || flush;
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
            _runner.Metrics.OnBatchRequestFormed(ref h.Telemetry, now);
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
                    batch = TryFormBatch(now, flush: false);
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
                    bool wave = Volatile.Read(ref _completing) > 0;
                    if (remaining == long.MaxValue || remaining <= 0 || remaining > ms2 || wave)
                    {
                        // Nothing waits (sleep until a request arrives), a due batch waits for a slot (its return
                        // pulses), the deadline is far (sleep to about a millisecond before it), or a completion wave
                        // is running, whose end dispatches the rows it brought back (check again within a millisecond
                        // without spinning: a wave whose continuations block must not hold requests past their delay).
                        int timeout = remaining == long.MaxValue ? Timeout.Infinite
                            : remaining <= 0 ? 50
                            : wave ? (int)Math.Clamp(remaining * 1000 / Stopwatch.Frequency, 1, 50)
                            : (int)Math.Max(1, (remaining - ms2 / 2) * 1000 / Stopwatch.Frequency);
                        _timerWaiting = true;
                        _timerWakeAt = timeout == Timeout.Infinite ? long.MaxValue : now + (timeout * Stopwatch.Frequency / 1000);
                        Monitor.Wait(_lock, timeout);
                        _timerWaiting = false;
                        continue;
                    }

                    spinUntil = earliest;
                }
            }

            if (batch is not null)
            {
                batch.Run(); // the delay thread is not a pool thread: the batch's completions go to the pool
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

        _workers?.Dispose();
        if (_timer is not null && Thread.CurrentThread != _timer)
            _timer.Join();
    }
}
