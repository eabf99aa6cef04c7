using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;
using TypedTrt.Runtime.Cuda;
using TypedTrt.Runtime.Engine;

namespace TypedTrt.Runtime;

/// <summary>
/// One slot: an execution context, a stream (device engines), host buffers (pinned for device engines) and device
/// buffers, the current shapes, and the completion source of its one request in flight. Completion of device work
/// comes from a stream callback (<c>cuStreamAddCallback</c>), of host work from a thread-pool work item; neither
/// blocks a thread per request, and the reusable <see cref="ManualResetValueTaskSourceCore{TResult}"/> makes the
/// awaited <see cref="ValueTask"/> allocation-free.
/// </summary>
internal sealed unsafe partial class RunnerSlot
{
    internal const int Free = 0, Leased = 1, Running = 2, RunningReleaseRequested = 3;

    private readonly InferenceRunner _runner;
    private readonly TensorPlan[] _plan;
    private readonly long[][] _shapes;
    private readonly long[] _bytes;
    private readonly bool[] _shapeSet;
    private readonly nint[] _host;
    private readonly PinnedBuffer?[] _pinned;
    private readonly DeviceBuffer?[] _device;
    private readonly long[] _capacity;
    private readonly bool[] _notified;
    private string? _shapeError;
    private ManualResetValueTaskSourceCore<bool> _core;
    private GCHandle _self;
    private int _status;
    private CancellationToken _token;
    private bool _outputsValid;
    internal int State;

    // Lease version: bumped on every release, so a disposed lease (a struct holding the old version) is detected.
    internal int LeaseVersion;

    internal RunnerSlot(InferenceRunner runner, int index, TensorPlan[] plan, RunnerDevice device)
    {
        _runner = runner;
        Index = index;
        Device = device;
        _plan = plan;
        int n = plan.Length;
        _shapes = new long[n][];
        _bytes = new long[n];
        _shapeSet = new bool[n];
        _host = new nint[n];
        _pinned = new PinnedBuffer?[n];
        _device = new DeviceBuffer?[n];
        _capacity = new long[n];
        _notified = new bool[n];
        for (int i = 0; i < n; i++)
            _shapes[i] = new long[plan[i].Binding.Rank];
        // Device engines with CompletionMode.Callback complete on a driver thread: continuations must leave it. Host
        // engines complete on a thread-pool work item and polling completes on the runner's poller thread: both resume
        // inline (CreateContext), which saves a thread-pool hop and its allocation per request.
        _core.RunContinuationsAsynchronously = runner.Placement == BufferPlacement.Device;
        _self = GCHandle.Alloc(this);
    }

    internal int Index { get; }

    /// <summary>The device this slot lives on (its engine, primary context and poller).</summary>
    internal RunnerDevice Device { get; }

    /// <summary>The device's position in the runner's device list (the slot pool's queue).</summary>
    internal int DeviceIndex => Device.Index;

    internal IEngineContext? Context { get; private set; }

    internal CudaStream? Stream { get; private set; }

    private bool IsDevice => _runner.Placement == BufferPlacement.Device;

    /// <summary>Creates the context and stream on the slot's device and selects the profile.</summary>
    internal void CreateContext(int profile)
    {
        CudaContext? cuda = Device.Cuda;
        IInferenceEngine engine = Device.Engine;
        if (cuda is not null)
        {
            cuda.MakeCurrent();
            Stream = cuda.CreateStream();
            if (_runner.Completion == CompletionMode.Polling)
            {
                _done = cuda.CreateEvent();
                // Completion runs on the runner's poller thread, which resumes the awaiting code inline (no thread-pool hop).
                _core.RunContinuationsAsynchronously = false;
            }
        }

        Context = engine.CreateContext();
        Context.SetOptimizationProfile(profile, Stream?.Handle ?? 0);
    }

    /// <summary>Called when the slot is leased: dynamic inputs need their shapes again, outputs are stale.</summary>
    internal void OnLeased()
    {
        for (int i = 0; i < _plan.Length; i++)
        {
            if (_plan[i].IsInput && _plan[i].Binding.IsDynamic)
                _shapeSet[i] = false;
        }

        _outputsValid = false;
        Volatile.Write(ref State, Leased);
    }

    internal void EnsureNotRunning()
    {
        if (Volatile.Read(ref State) != Leased)
            throw new InvalidOperationException("A request is in flight on this lease; await RunAsync before touching its buffers or shapes.");
    }

    /// <summary>Returns the slot to the runner now, or when its request completes, if <paramref name="version"/> is the current lease's.</summary>
    internal void Release(int version)
    {
        if (Interlocked.CompareExchange(ref LeaseVersion, version + 1, version) != version)
            return; // a stale lease (already disposed): nothing to do
        Release();
    }

    /// <summary>Returns the slot to the runner now, or when its request completes.</summary>
    internal void Release()
    {
        while (true)
        {
            int s = Volatile.Read(ref State);
            if (s == Leased)
            {
                if (Interlocked.CompareExchange(ref State, Free, Leased) == Leased)
                {
                    _runner.ReturnSlot(this);
                    return;
                }
            }
            else if (s == Running)
            {
                if (Interlocked.CompareExchange(ref State, RunningReleaseRequested, Running) == Running)
                    return;
            }
            else
            {
                return;
            }
        }
    }

    /// <summary>Frees the context, stream and buffers (the slot is idle).</summary>
    internal void DisposeResources(List<Exception> errors)
    {
        void Try(Action a)
        {
            try
            {
                a();
            }
#pragma warning disable CA1031 // collect, keep freeing, rethrow at the end
            catch (Exception ex)
#pragma warning restore CA1031
            {
                errors.Add(ex);
            }
        }

        if (Device.Cuda is { } cuda && Stream is not null)
            Try(cuda.MakeCurrent); // the engine frees its context's device memory in this device's context
        if (Stream is { } stream)
            Try(stream.Synchronize);
        if (Context is { } ctx)
            Try(ctx.Dispose);
        Context = null;
        for (int i = 0; i < _plan.Length; i++)
        {
            if (_device[i] is { } d)
                Try(d.Dispose);
            if (_pinned[i] is { } p)
                Try(p.Dispose);
            else if (_host[i] != 0)
                NativeMemory.AlignedFree((void*)_host[i]);
            _device[i] = null;
            _pinned[i] = null;
            _host[i] = 0;
        }

        if (_graph is { } g)
            Try(g.Dispose);
        _graph = null;
        if (_done is { } done)
            Try(done.Dispose);
        _done = null;
        if (_timing is { } timing)
        {
            foreach (var e in timing)
                Try(e.Dispose);
        }

        _timing = null;
        if (Stream is { } s2)
            Try(s2.Dispose);
        Stream = null;
        if (_self.IsAllocated)
            _self.Free();
    }
}
