using TypedTrt.Runtime.Cuda;

namespace TypedTrt.Runtime;

/// <summary>How device requests learn that their stream work is done.</summary>
public enum CompletionMode
{
    /// <summary>
    /// Default. One poller thread per runner queries each in-flight slot's completion event (<c>cuEventQuery</c>) and
    /// resumes the awaiting code inline on that thread, so the next request is enqueued microseconds after the GPU
    /// finishes (like a spinning <c>cudaStreamSynchronize</c>). The thread spins only while requests are in flight and
    /// sleeps otherwise. Continuations that block synchronously delay other slots' completions: do not block in them.
    /// </summary>
    Polling,

    /// <summary>
    /// A stream callback (<c>cuStreamAddCallback</c>) completes the request and the continuation runs on the thread
    /// pool. No spinning thread, but each request pays the driver-callback and thread-pool hops (~90 µs on an H100
    /// at one stream).
    /// </summary>
    Callback,
}

/// <summary>The runner's completion thread for <see cref="CompletionMode.Polling"/>.</summary>
internal sealed class CompletionPoller : IDisposable
{
    private readonly RunnerSlot[] _slots;
    private readonly CudaContext _cuda;
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _wake = new(false, spinCount: 0);
    private int _pending;
    private volatile bool _stop;

    internal CompletionPoller(RunnerSlot[] slots, CudaContext cuda)
    {
        _slots = slots;
        _cuda = cuda;
        _thread = new Thread(Loop) { IsBackground = true, Name = "TypedTrt completion" };
        _thread.Start();
    }

    /// <summary>Called after the slot's completion event was recorded.</summary>
    internal void Submit(RunnerSlot slot)
    {
        Volatile.Write(ref slot.Pending, 1);
        if (Interlocked.Increment(ref _pending) == 1)
            _wake.Set();
    }

    private void Loop()
    {
        _cuda.MakeCurrent();
        int idleRounds = 0, start = 0;
        while (!_stop)
        {
            if (Volatile.Read(ref _pending) == 0)
            {
                // Nothing in flight: spin briefly (a caller usually submits again right away), then sleep.
                if (++idleRounds < 2000)
                {
                    Thread.SpinWait(20);
                    continue;
                }

                _wake.Reset();
                if (Volatile.Read(ref _pending) == 0 && !_stop)
                    _wake.Wait();
                idleRounds = 0;
                continue;
            }

            idleRounds = 0;
            bool any = false;
            // Round robin from the slot after the last completion: requests complete roughly in submission order.
            int n = _slots.Length;
            for (int k = 0; k < n; k++)
            {
                int i = start + k;
                if (i >= n)
                    i -= n;
                var slot = _slots[i];
                if (Volatile.Read(ref slot.Pending) != 0 && slot.PollDone())
                {
                    Interlocked.Decrement(ref _pending);
                    any = true;
                    start = i + 1 == n ? 0 : i + 1;
                }
            }

            if (!any)
                Thread.SpinWait(10);
        }
    }

    public void Dispose()
    {
        _stop = true;
        _wake.Set();
        if (Thread.CurrentThread != _thread)
            _thread.Join();
        _wake.Dispose();
    }
}

/// <summary>Sums of per-request stage times of one slot (microseconds).</summary>
internal struct StageAccumulator
{
    public long Requests;
    public double H2D, Compute, D2H, Gap;
    public long GapCount;

    public void Add(double h2d, double compute, double d2h, double gap)
    {
        Requests++;
        H2D += h2d;
        Compute += compute;
        D2H += d2h;
        if (gap >= 0)
        {
            Gap += gap;
            GapCount++;
        }
    }

    public void AddFrom(in StageAccumulator other)
    {
        Requests += other.Requests;
        H2D += other.H2D;
        Compute += other.Compute;
        D2H += other.D2H;
        Gap += other.Gap;
        GapCount += other.GapCount;
    }
}
