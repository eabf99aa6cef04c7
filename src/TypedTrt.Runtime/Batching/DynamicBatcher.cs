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
    private readonly int _threshold; // waiting rows from which a submit takes the lock to try a batch
    private BatchGroup[] _groupSnapshot = []; // _groups, copied on write: read without the lock by submits
    private BatchRequest? _inbox; // submitted, not yet in a group: a lock-free stack linked by BatchRequest.Next
    private long _arrivals; // waiting requests (high 32 bits) and rows (low 32 bits), inbox and groups; may lag below the truth for a moment, never above
    private int _reserved; // waiting requests against MaxQueueLength (only with one)
    private int _queued; // requests in the groups (under _lock)
    private long _oldestAt = long.MaxValue; // EnqueuedAt of the oldest request in the groups (written under _lock), so a submit can see a due batch
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
        _threshold = _minPreferred > 0 ? Math.Min(_minPreferred, layout.MaxBatch) : layout.MaxBatch;
        _workers = CompletionWorkers.Create(this, Options.CompletionThreadsForTesting, runner.Placement == Engine.BufferPlacement.Device);
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

    // A per-thread spare first: a closed-loop caller's continuation returns its request (GetResult) and rents the next
    // one on the same thread, which then costs no shared or fenced operation; else a bag, which serves a thread from
    // its own list. (A spare of a disposed runner stays on its thread until another request of that runner replaces it.)
    [ThreadStatic]
    private static BatchRequest? t_spare;

    internal BatchRequest Rent(bool lease)
    {
        var r = t_spare;
        if (r is not null && r.Batcher == this)
            t_spare = null;
        else if (!_pool.TryTake(out r))
            r = new BatchRequest(this, Layout);
        r.Reset(lease);
        return r;
    }

    internal void Return(BatchRequest r)
    {
        if (t_spare is null || t_spare.Batcher._disposed)
            t_spare = r;
        else
            _pool.Add(r);
    }

    // ---- queue -----------------------------------------------------------------------------------------------

    /// <summary>Queues a prepared request; returns the error that rejected it (nothing was queued), or null.</summary>
    /// <remarks>
    /// Lock-free in the common case: the request is pushed onto the inbox (one compare-and-swap) and counted in
    /// <see cref="_arrivals"/> (one atomic add); only the submit that may make a batch possible takes the lock — the one
    /// that brings the waiting rows to MaxBatchSize (or the smallest preferred size), or the first of an empty queue
    /// (the delay thread may sleep until pulsed). Whoever holds the lock moves the inbox, in push order, into the
    /// shape groups first (<see cref="DrainInbox"/>), so FIFO within a shape holds.
    /// </remarks>
    internal Exception? Submit(BatchRequest r, CancellationToken cancellationToken)
    {
        r.Token = cancellationToken;
        r.Registration = cancellationToken.CanBeCanceled ? cancellationToken.UnsafeRegister(CancelCallback, r) : default;
        long enqueuedAt = Stopwatch.GetTimestamp();
        // Counted as queued before it can be queued (and complete), outside the lock.
        _runner.Metrics.OnBatchRequestQueued(ref r.Telemetry, enqueuedAt);
        Exception? error = null;
        if (Volatile.Read(ref _disposed))
            error = new ObjectDisposedException(nameof(InferenceRunner));
        else if (cancellationToken.IsCancellationRequested)
            error = new OperationCanceledException(cancellationToken);
        else if (FindGroup(r, out var shapeError) is not { } g)
            error = shapeError;
        else if (_maxQueue != int.MaxValue && Interlocked.Increment(ref _reserved) > _maxQueue)
        {
            Interlocked.Decrement(ref _reserved);
            lock (_lock)
                _stats.RecordRejected();
            error = new BatchQueueFullException(_maxQueue);
        }
        else
        {
            r.Group = g;
            r.EnqueuedAt = enqueuedAt;
            r.InQueue = true;
            BatchRequest? head;
            do
            {
                head = Volatile.Read(ref _inbox);
                r.Next = head;
            }
            while (Interlocked.CompareExchange(ref _inbox, r, head) != head);

            // After the push (so that whoever sees the count finds the request): count and rows of waiting requests.
            long v = Interlocked.Add(ref _arrivals, (1L << 32) + r.Rows);
            int rows = (int)v;
            int count = (int)((v - rows) >> 32);
            if (cancellationToken.IsCancellationRequested)
            {
                // Cancelled between the check above and the push: its callback may have found it not yet queued.
                Cancel(r);
                return null;
            }

            // No batch becomes possible through this request when it is not the first to wait (which may have to wake
            // the delay thread) and either no slot is free (the next slot's return forms
            // the batch: it comes after this count, see OnSlotReturned) or the rows are not enough and the oldest is not due.
            if (count > 1 && !Volatile.Read(ref _disposed)
                && (!_runner.HasFreeSlotForBatch || (rows < _threshold && enqueuedAt - Volatile.Read(ref _oldestAt) < _delayTicks)))
                return null; // the next request, the delay thread, a slot's return or the wave's end decides
        }

        if (error is not null)
        {
            r.Registration.Unregister();
            r.Registration = default;
            _runner.Metrics.OnBatchRequestNotQueued(error is not ArgumentException ? error : null); // (invalid requests are the caller's to count, as without batching)
            return error;
        }

        SlotBatch? batch;
        List<BatchRequest>? failed = null;
        lock (_lock)
        {
            if (_disposed)
            {
                failed = FailInboxDisposed(); // pushed while the runner was being disposed
                batch = null;
            }
            else
            {
                batch = TryFormBatch(Stopwatch.GetTimestamp(), flush: false);
                // Wake the delay thread only when it would otherwise sleep past this request's deadline.
                if (batch is null && _timerWaiting && _timerWakeAt > r.EnqueuedAt + _delayTicks && (_queued == 1 || _timerWakeAt == long.MaxValue))
                    Monitor.Pulse(_lock);
            }
        }

        if (failed is not null)
            CompleteDisposed(failed);
        while (batch is not null)
        {
            RunCounted(batch);
            batch = HasWaiting && _runner.HasFreeSlotForBatch ? TryFormBatchLocked() : null;
        }

        return null;
    }

    /// <summary>Whether a request may be waiting (in the inbox or a group); a hint outside the lock.</summary>
    private bool HasWaiting => Volatile.Read(ref _arrivals) != 0 || Volatile.Read(ref _inbox) is not null;

    // The request's shape group from the lock-free snapshot, created under the lock the first time a shape comes (null:
    // the layout refused the shape with an ArgumentException).
    private BatchGroup? FindGroup(BatchRequest r, out ArgumentException? error)
    {
        error = null;
        foreach (var g in Volatile.Read(ref _groupSnapshot))
        {
            if (g.Matches(Layout, r))
                return g;
        }

        Span<long> key = stackalloc long[Layout.KeyLength];
        foreach (int i in Layout.Inputs)
        {
            var shape = r.GetShape(i);
            shape.CopyTo(key.Slice(Layout.KeyOffset[i]));
            key[Layout.KeyOffset[i] + Layout.Dim] = 0;
        }

        lock (_lock)
        {
            foreach (var g in _groupSnapshot)
            {
                if (key.SequenceEqual(g.Key))
                    return g;
            }

            BatchGroup group;
            try
            {
                group = new BatchGroup(Layout, key); // once per shape
            }
            catch (ArgumentException ex)
            {
                error = ex;
                return null;
            }

            _groups.Add(group);
            Volatile.Write(ref _groupSnapshot, [.. _groups]);
            return group;
        }
    }

    // Under _lock: moves the inbox (a stack: newest first) into the shape groups in push order.
    private void DrainInbox()
    {
        var r = Interlocked.Exchange(ref _inbox, null);
        if (r is null)
            return;
        BatchRequest? fifo = null;
        while (r is not null)
        {
            var next = r.Next;
            r.Next = fifo;
            fifo = r;
            r = next;
        }

        while (fifo is not null)
        {
            var next = fifo.Next;
            fifo.Group!.Append(fifo);
            _queued++;
            fifo = next;
        }

        UpdateOldest();
    }

    // Under _lock, after the groups changed.
    private void UpdateOldest()
    {
        long oldest = long.MaxValue;
        if (_queued > 0)
        {
            foreach (var g in _groups)
            {
                if (g.Head is { } h && h.EnqueuedAt < oldest)
                    oldest = h.EnqueuedAt;
            }
        }

        Volatile.Write(ref _oldestAt, oldest);
    }

    // A request left the queue (batched, cancelled, failed by disposal): it no longer counts as waiting.
    private void Dequeued(int count, int rows)
    {
        Interlocked.Add(ref _arrivals, -(((long)count << 32) + rows));
        if (_maxQueue != int.MaxValue)
            Interlocked.Add(ref _reserved, -count);
    }

    // Under _lock, once disposed: every request still in the inbox or the groups, taken out (the caller fails them).
    private List<BatchRequest> FailInboxDisposed()
    {
        DrainInbox();
        var failed = new List<BatchRequest>();
        foreach (var g in _groups)
        {
            while (g.Head is { } h)
            {
                g.Remove(h);
                h.InQueue = false;
                Dequeued(1, h.Rows);
                failed.Add(h);
            }
        }

        _queued = 0;
        UpdateOldest();
        return failed;
    }

    private static void CompleteDisposed(List<BatchRequest> failed)
    {
        foreach (var r in failed)
        {
            r.Registration.Unregister();
            r.CompleteLater(new ObjectDisposedException(nameof(InferenceRunner), "The runner was disposed while the request waited in the batch queue; it never ran."));
        }
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
        // Without the lock (one per batch, contended with the submits). The wave's count first: an EndCompletions that
        // still sees no completion running may take it into the ending wave, which only makes that wave's flush stricter.
        Interlocked.Add(ref _waveRequests, n);
        Interlocked.Add(ref _completing, n);
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
        Metrics.OnBatchRequestsEnding(n); // one atomic for the chain instead of one per request
        Exception? failure = null;
        int late = 0;
        t_depth++;
        try
        {
            for (var r = head; r is not null;)
            {
                var next = r.ChainNext; // read first: once completed, the request may be reused by its caller
                r.ChainNext = null;
                // A caller that has not awaited yet (its batch finished before it got there) resumes on its own thread,
                // maybe after this wave's end: the wave does not wait for it (else its end would never see it back).
                if (Volatile.Read(ref r.Awaited) == 0)
                    late++;
                try
                {
                    r.CompleteNow(counted: true);
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

        if (late > 0)
            Interlocked.Add(ref _waveRequests, -late);
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
            DrainInbox();
            int wave = Interlocked.Exchange(ref _waveRequests, 0);
            bool allBack = _queued > 0 && _queued >= wave;
            batch = allBack ? TryFormBatch(Stopwatch.GetTimestamp(), flush: true) : null;
            if (batch is null && _queued > 0 && _timerWaiting)
                Monitor.Pulse(_lock); // the rows that wait are the delay thread's again
        }

        while (batch is not null)
        {
            RunOrQueue(batch);
            lock (_lock)
                batch = HasWaiting && Volatile.Read(ref _completing) == 0 ? TryFormBatch(Stopwatch.GetTimestamp(), flush: true) : null;
        }
    }

    /// <summary>Cancellation of a waiting request: removes it; a request already in a batch runs to completion.</summary>
    internal void Cancel(BatchRequest r)
    {
        lock (_lock)
        {
            // Token check: the callback may arrive late, after the pooled request was reused for another caller.
            if (!r.InQueue || !r.Token.IsCancellationRequested)
                return;
            DrainInbox(); // it may still be in the inbox
            r.Group!.Remove(r);
            r.InQueue = false;
            _queued--;
            Dequeued(1, r.Rows);
            UpdateOldest();
            _stats.RecordCancelled();
        }

        r.CompleteLater(new OperationCanceledException(r.Token));
    }

    /// <summary>A slot came back to the runner: run the next batch if one is due.</summary>
    internal void OnSlotReturned()
    {
        Interlocked.MemoryBarrier(); // the slot's return before reading the queue, as a submit counts itself before reading HasFreeSlotForBatch
        if (!HasWaiting)
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
        DrainInbox();
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

        Dequeued(batch.Count, batch.Rows);
        UpdateOldest();

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
                    DrainInbox();
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
        List<BatchRequest> failed;
        lock (_lock)
        {
            if (_disposed)
                return;
            Volatile.Write(ref _disposed, true); // before draining: a submit that pushes after the drain sees it and fails its request itself
            failed = FailInboxDisposed();
            Monitor.PulseAll(_lock);
        }

        CompleteDisposed(failed);
        _workers?.Dispose();
        if (_timer is not null && Thread.CurrentThread != _timer)
            _timer.Join();
    }
}
