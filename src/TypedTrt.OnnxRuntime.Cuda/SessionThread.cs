using System.Runtime.ExceptionServices;

namespace TypedTrt.OnnxRuntime.Cuda;

/// <summary>
/// A dedicated thread that makes every run of one session happen on the same thread. ONNX Runtime keeps its CUDA graph
/// state (warm-up count, captured graph) per calling thread, so a session whose runs hop between threads (the runner's
/// callers, its completion thread) would capture again on every new thread, during live traffic. The caller hands the
/// run over and waits for it to return (a replay only launches the graph, so the wait is short).
/// </summary>
internal sealed class SessionThread : IDisposable
{
    private readonly Thread _thread;
    private readonly SemaphoreSlim _go = new(0);
    private readonly ManualResetEventSlim _done = new(false, spinCount: 2000);
    private Action? _work;
    private ExceptionDispatchInfo? _error;
    private volatile bool _stop;

    public SessionThread(string name)
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>Runs <paramref name="work"/> on the session's thread and returns when it has; rethrows its exception.</summary>
    public void Run(Action work)
    {
        ObjectDisposedException.ThrowIf(_stop, this);
        _work = work;
        _error = null;
        _done.Reset();
        _go.Release();
        _done.Wait();
        _error?.Throw();
    }

    private void Loop()
    {
        while (true)
        {
            _go.Wait();
            if (_stop)
                return;
            try
            {
                _work!();
            }
#pragma warning disable CA1031 // handed back to the caller
            catch (Exception e)
#pragma warning restore CA1031
            {
                _error = ExceptionDispatchInfo.Capture(e);
            }

            _work = null;
            _done.Set();
        }
    }

    public void Dispose()
    {
        if (_stop)
            return;
        _stop = true;
        _go.Release();
        _thread.Join();
        _go.Dispose();
        _done.Dispose();
    }
}
