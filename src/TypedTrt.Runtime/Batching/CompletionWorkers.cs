using System.Diagnostics;

namespace TypedTrt.Runtime.Batching;

/// <summary>
/// A batcher's completion threads: a finished batch's completion chains go to idle ones, which resume their callers at
/// once, in parallel. The thread pool wakes one sleeping worker at a time (each woken worker wakes the next), so a batch
/// fanned out over it reaches its last chain only after several wake-ups in a row; these threads spin briefly after each
/// chain (a busy runner's next wave comes within microseconds) and are woken together. A chain goes to a worker only
/// when one is idle, else to the thread pool, so a caller's continuation that blocks holds up no other request.
/// Started only on machines with at least 4 processors.
/// </summary>
internal sealed class CompletionWorkers : IDisposable
{
    private static readonly long SpinTicks = Stopwatch.Frequency / 10_000; // 100 µs of spinning before sleeping

    [ThreadStatic]
    private static bool t_worker;

    private readonly DynamicBatcher _batcher;
    private readonly Worker[] _workers;
    private int _next;
    private volatile bool _stop;

    private CompletionWorkers(DynamicBatcher batcher, int count)
    {
        _batcher = batcher;
        _workers = new Worker[count];
        for (int i = 0; i < count; i++)
        {
            var w = new Worker(this);
            _workers[i] = w;
            w.Thread.Start();
        }
    }

    /// <summary>
    /// Workers for this machine: half its processors, at most 8; none below 4 processors (the pool is as good), and none
    /// for a host engine, whose runs compute on the CPU: workers that spin after each chain would take cores from that
    /// compute (measured on ONNX Runtime CPU, Digits, 64 callers: 23% fewer requests/s with four workers on two cores).
    /// </summary>
    internal static CompletionWorkers? Create(DynamicBatcher batcher, int? forced, bool deviceEngine)
    {
        int n = Environment.ProcessorCount;
        int count = forced ?? (deviceEngine && n >= 4 ? Math.Min(8, n / 2) : 0);
        return count > 0 ? new CompletionWorkers(batcher, count) : null;
    }

    /// <summary>Whether the current thread is a completion worker (it may run batches and chains inline).</summary>
    internal static bool IsWorkerThread => t_worker;

    /// <summary>Hands a chain to an idle worker; false when none is idle.</summary>
    internal bool TryPost(BatchRequest chain)
    {
        if (_stop)
            return false;
        int n = _workers.Length;
        int start = (int)((uint)Interlocked.Increment(ref _next) % (uint)n);
        for (int k = 0; k < n; k++)
        {
            var w = _workers[(start + k) % n];
            if (Volatile.Read(ref w.Busy) != 0 || Volatile.Read(ref w.Mail) is not null)
                continue;
            if (Interlocked.CompareExchange(ref w.Mail, chain, null) is not null)
                continue;
            if (Volatile.Read(ref w.Sleeping) != 0)
                w.Wake.Set();
            return true;
        }

        return false;
    }

    public void Dispose()
    {
        // Never joins: a worker may be inside a caller's continuation; it exits on its own after that.
        _stop = true;
        foreach (var w in _workers)
            w.Wake.Set();
    }

    private sealed class Worker
    {
        private readonly CompletionWorkers _owner;
        public BatchRequest? Mail;
        public int Busy, Sleeping;

        public Worker(CompletionWorkers owner)
        {
            _owner = owner;
            Thread = new Thread(Loop) { IsBackground = true, Name = "TypedTrt batch completion" };
        }

        public Thread Thread { get; }

        public ManualResetEventSlim Wake { get; } = new(false, spinCount: 0);

        private void Loop()
        {
            t_worker = true;
            long idleSince = Stopwatch.GetTimestamp();
            while (!_owner._stop)
            {
                var chain = Volatile.Read(ref Mail);
                if (chain is not null)
                {
                    Volatile.Write(ref Busy, 1);
                    Volatile.Write(ref Mail, null);
                    try
                    {
                        _owner._batcher.RunChain(chain);
                    }
#pragma warning disable CA1031 // a continuation's exception must not end the worker (RunChain completed the rest of the chain)
                    catch (Exception)
#pragma warning restore CA1031
                    {
                    }

                    Volatile.Write(ref Busy, 0);
                    idleSince = Stopwatch.GetTimestamp();
                    continue;
                }

                if (Stopwatch.GetTimestamp() - idleSince < SpinTicks)
                {
                    Thread.SpinWait(20);
                    continue;
                }

                Wake.Reset();
                Interlocked.Exchange(ref Sleeping, 1);
                if (Volatile.Read(ref Mail) is null && !_owner._stop)
                    Wake.Wait();
                Volatile.Write(ref Sleeping, 0);
                idleSince = Stopwatch.GetTimestamp();
            }
        }
    }
}
