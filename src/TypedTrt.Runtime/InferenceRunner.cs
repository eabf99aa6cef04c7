using TypedTrt.Manifest;
using TypedTrt.Runtime.Cuda;
using TypedTrt.Runtime.Engine;

namespace TypedTrt.Runtime;

/// <summary>
/// The multi-stream runner core that generated runners build on: N slots, each with an execution context, a
/// non-blocking stream, pinned host buffers and device buffers sized from the signature (max profile shape for
/// dynamic dims). Safe for any number of concurrent callers.
/// </summary>
/// <remarks>
/// <para>Device engines (<see cref="BufferPlacement.Device"/>): each request copies its inputs host→device, enqueues the
/// engine and copies its outputs device→host on the slot's stream; a stream callback completes the request, so no
/// thread blocks per request. Host engines (<see cref="BufferPlacement.Host"/>) get the slot's host buffers bound
/// directly and run on the caller's thread (or the thread pool, <see cref="InferenceRunnerOptions.HostExecution"/>);
/// they need no CUDA driver.</para>
/// <para>Outputs whose shape is known only after the run (<see cref="IsShapeKnownAfterRun"/>) get buffers that the
/// engine asks for during the run (<see cref="IOutputAllocator"/>); each slot keeps the largest it was asked for, so
/// steady state allocates nothing once the largest shape was seen.</para>
/// <para>Errors belong to one request: an exception from the engine or from a driver call fails that request's
/// <see cref="InferenceLease.RunAsync"/> and the slot stays usable. Sticky CUDA errors
/// (<see cref="CudaException.IsSticky"/>: illegal address, device assert...) are the exception: they corrupt the whole
/// CUDA context, so every later request fails too and the process has to recreate its CUDA state.</para>
/// <para>Cancellation is observed while waiting for a slot and before the request is enqueued; enqueued GPU work
/// cannot be cancelled and runs to completion.</para>
/// </remarks>
public sealed partial class InferenceRunner : IAsyncDisposable
{
    private readonly IInferenceEngine _engine;
    private readonly TensorPlan[] _plan;
    private readonly RunnerSlot[] _slots;
    private readonly SlotPool _pool;
    private int _disposed;
    private Task? _disposeTask;

    /// <summary>Creates a runner over an engine (takes no ownership of the engine).</summary>
    /// <exception cref="ArgumentException">The options do not fit the engine (profile index, a dynamic input without a profile range, an unsupported tensor type, an output bound that names no output sized at run time).</exception>
    /// <exception cref="NotSupportedException">An output's shape is known only after the run and the engine cannot size outputs at run time (<see cref="IEngineContext.SetOutputAllocator"/>).</exception>
    /// <exception cref="CudaUnavailableException">A device engine on a machine without an NVIDIA driver.</exception>
    public InferenceRunner(IInferenceEngine engine, InferenceRunnerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(engine);
        options ??= new InferenceRunnerOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Streams, 1, nameof(options));
        _engine = engine;
        Completion = options.Completion;
        UseCudaGraphs = options.UseCudaGraphs;
        Signature = engine.Signature;
        Placement = engine.Placement;
        ProfileIndex = options.ProfileIndex;
        HostExecution = options.HostExecution;
        if (!Enum.IsDefined(options.HostExecution))
            throw new ArgumentOutOfRangeException(nameof(options), options.HostExecution, "Unknown HostExecution value.");
        _plan = BuildPlan(Signature, options.ProfileIndex);
        _slots = new RunnerSlot[options.Streams];
        try
        {
            if (Placement == BufferPlacement.Device)
                Cuda = CudaContext.RetainPrimary(options.DeviceOrdinal);
            for (int i = 0; i < _slots.Length; i++)
            {
                _slots[i] = new RunnerSlot(this, i, _plan);
                _slots[i].CreateContext(engine, Cuda, options.ProfileIndex);
            }

            ResolveOutputCapacities(_slots[0].Context!, options.OutputBounds);
            foreach (var slot in _slots)
            {
                slot.AllocateBuffers(Cuda);
                slot.AttachOutputAllocators(engine);
            }

            HasRunTimeSizedOutputs = Array.Exists(_plan, static p => p.SizedAtRun);
            OutputShapesFixed = Array.TrueForAll(_plan, static p => p.IsInput ? !p.Binding.IsDynamic : !p.SizedAtRun);
            GraphsPossible = Array.TrueForAll(_plan, static p => !p.Binding.IsDynamic && !p.SizedAtRun);
            if (Cuda is not null && Completion == CompletionMode.Polling)
                Poller = new CompletionPoller(_slots, Cuda);
            Metrics = new Diagnostics.RunnerMetrics(this, engine, options.Name, options.DeviceOrdinal);
            _pool = new SlotPool(_slots);
            if (options.Batching is { } batching)
                CreateBatcher(batching); // last: it starts the batcher's delay thread
        }
        catch
        {
            var errors = new List<Exception>();
            Poller?.Dispose();
            foreach (var slot in _slots)
                slot?.DisposeResources(errors);
            Cuda?.Dispose();
            throw;
        }
    }

    /// <summary>The engine's signature.</summary>
    public BindingManifest Signature { get; }

    /// <summary>How device requests complete.</summary>
    public CompletionMode Completion { get; }

    /// <summary>Whether CUDA graph replay was requested (<see cref="InferenceRunnerOptions.UseCudaGraphs"/>).</summary>
    public bool UseCudaGraphs { get; }

    /// <summary>Requests that ran as a CUDA graph replay so far.</summary>
    public long GraphLaunchCount => Interlocked.Read(ref GraphLaunches);

    /// <summary>Slots whose graph capture failed and that fell back to normal enqueue.</summary>
    public long GraphFallbackCount => Interlocked.Read(ref GraphFallbacks);

    internal long GraphLaunches, GraphFallbacks;

    // Test seam (InternalsVisibleTo the test assemblies): makes every graph capture fail after its enqueue, as an engine
    // whose enqueue cannot be captured would, so the fallback to normal enqueue can be tested.
    internal bool FailGraphCaptureForTesting;
    internal bool GraphsPossible;
    internal CompletionPoller? Poller;

    /// <summary>Number of slots.</summary>
    public int SlotCount => _slots.Length;

    /// <summary>Where the engine expects tensor memory.</summary>
    public BufferPlacement Placement { get; }

    /// <summary>The optimization profile every slot uses.</summary>
    public int ProfileIndex { get; }

    /// <summary>The CUDA context of device engines (the device's primary context), or <see langword="null"/> for host engines.</summary>
    public CudaContext? Cuda { get; }

    /// <summary>
    /// The largest shape slots are sized for: the profile's max for dynamic inputs, the resolved max for outputs. For an
    /// output whose shape is known only after the run: its bound (<see cref="InferenceRunnerOptions.OutputBounds"/>), or
    /// -1 in the dims the runner cannot know.
    /// </summary>
    public ReadOnlySpan<long> GetMaxShape(int tensorIndex) => GetPlan(tensorIndex).Max;

    /// <summary>The bytes each slot's buffer holds for a tensor when the runner is created (outputs sized at run time grow beyond it as needed).</summary>
    public long GetBufferCapacity(int tensorIndex) => GetPlan(tensorIndex).Capacity;

    /// <summary>
    /// Whether an output's shape is known only after the run (the engine reports it during the run and the slot's
    /// buffer grows as needed): data-dependent outputs, and ONNX outputs whose dims no input dim names.
    /// </summary>
    public bool IsShapeKnownAfterRun(int tensorIndex) => GetPlan(tensorIndex).SizedAtRun;

    /// <summary>
    /// How often a slot had to grow the buffer of an output sized at run time (a run needed more than the slot had);
    /// it stops rising once every slot has seen the largest shape.
    /// </summary>
    public long OutputBufferGrowthCount => Interlocked.Read(ref OutputGrowths);

    internal long OutputGrowths;
    internal bool HasRunTimeSizedOutputs;
    internal bool OutputShapesFixed; // static inputs, no output sized at run time: output shapes never change

    /// <summary>How host engines run.</summary>
    public HostExecution HostExecution { get; }

    // Every wait for a slot goes through the pool: DisposeAsync closes it, which fails every waiter, however the
    // caller's disposed check and the close interleave (the check below only makes the common case fail early).
    private async ValueTask<RunnerSlot> AcquireSlotAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        long start = Metrics.OnAcquireStart();
        RunnerSlot slot;
        try
        {
            slot = await _pool.RentAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Metrics.OnAcquireFailed(ex);
            throw;
        }

        return Lease(slot, start);
    }

    private RunnerSlot Lease(RunnerSlot slot, long start)
    {
        slot.OnLeased();
        Metrics.OnTaken(ref slot.Request, start);
        return slot;
    }

    internal void ReturnSlot(RunnerSlot slot)
    {
        Metrics.OnSlotReturned();
        _pool.Return(slot);
        _batcher?.OnSlotReturned();
    }

    /// <summary>
    /// Waits for work in flight and for every lease to be returned, then frees every slot (contexts first, then
    /// streams and buffers) and releases the CUDA context. Callers waiting for a slot, and every later
    /// <see cref="AcquireAsync"/> or <see cref="RunAsync(IReadOnlyList{InferenceInput}, CancellationToken)"/>, fail at
    /// once with <see cref="ObjectDisposedException"/>. The engine is not disposed (the caller owns it; dispose it after this).
    /// </summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _batcher?.Dispose(); // fails waiting requests; batches in flight finish and return their slots
            Volatile.Write(ref _disposeTask, DisposeCoreAsync());
        }
        else
        {
            SpinWait.SpinUntil(() => Volatile.Read(ref _disposeTask) is not null);
        }

        return new ValueTask(_disposeTask!);
    }

    private async Task DisposeCoreAsync()
    {
        await _pool.Close().ConfigureAwait(false);
        Metrics.Unregister();
        var errors = new List<Exception>();
        Poller?.Dispose();
        foreach (var slot in _slots)
            slot.DisposeResources(errors);
        try
        {
            Cuda?.Dispose();
        }
#pragma warning disable CA1031
        catch (Exception ex)
#pragma warning restore CA1031
        {
            errors.Add(ex);
        }

        if (errors.Count == 1)
            throw errors[0];
        if (errors.Count > 1)
            throw new AggregateException("Freeing the runner's slots failed.", errors);
    }

    private TensorPlan GetPlan(int tensorIndex) =>
        (uint)tensorIndex < (uint)_plan.Length
            ? _plan[tensorIndex]
            : throw new ArgumentOutOfRangeException(nameof(tensorIndex), tensorIndex, $"The engine has {_plan.Length} tensors.");

    private static TensorPlan[] BuildPlan(BindingManifest signature, int profileIndex)
    {
        var tensors = signature.Tensors;
        if (signature.Profiles.Count == 0 ? profileIndex != 0 : (uint)profileIndex >= (uint)signature.Profiles.Count)
            throw new ArgumentException($"Optimization profile {profileIndex} does not exist; the engine has {signature.Profiles.Count}.", nameof(profileIndex));
        var profile = signature.Profiles.Count > 0 ? signature.Profiles[profileIndex] : null;
        var plan = new TensorPlan[tensors.Count];
        for (int i = 0; i < tensors.Count; i++)
        {
            var b = tensors[i];
            if (!b.IsSupported)
                throw new ArgumentException($"Tensor '{b.Name}' has type '{b.DTypeName}', which the runner cannot bind.", nameof(signature));
            var p = new TensorPlan { Index = i, Binding = b };
            if (b.Mode == TensorMode.Input)
            {
                long[] shape = [.. b.Shape];
                p.Min = (long[])shape.Clone();
                p.Max = (long[])shape.Clone();
                if (b.IsDynamic)
                {
                    var range = profile?.Find(b.Name)
                        ?? throw new ArgumentException($"Input '{b.Name}' has dynamic dimensions but optimization profile {profileIndex} gives it no range.", nameof(signature));
                    for (int d = 0; d < shape.Length; d++)
                    {
                        if (shape[d] < 0)
                        {
                            p.Min[d] = range.Min[d];
                            p.Max[d] = range.Max[d];
                        }
                    }
                }

                p.Capacity = Capacity(b.GetByteCount(p.Max));
            }

            plan[i] = p;
        }

        return plan;
    }

    private void ResolveOutputCapacities(IEngineContext context, IReadOnlyDictionary<string, long[]>? bounds)
    {
        if (bounds is not null)
        {
            foreach (var name in bounds.Keys)
            {
                var t = Signature.Find(name);
                if (t is null || t.Mode != TensorMode.Output)
                    throw new ArgumentException($"OutputBounds names '{name}', which is not an output of this engine.", nameof(bounds));
            }
        }

        foreach (var p in _plan)
        {
            if (p.IsInput && p.Binding.IsDynamic)
                context.SetInputShape(p.Index, p.Max);
        }

        Span<long> dims = stackalloc long[16];
        foreach (var p in _plan)
        {
            if (p.IsInput)
                continue;
            int rank = context.GetTensorShape(p.Index, dims);
            if (rank != p.Binding.Rank)
                throw new InvalidOperationException($"The engine reports rank {rank} for output '{p.Binding.Name}', whose signature has rank {p.Binding.Rank}.");
            long[] max = dims[..rank].ToArray();
            long[]? bound = bounds is not null && bounds.TryGetValue(p.Binding.Name, out var b) ? b : null;
            if (Array.Exists(max, static d => d < 0))
            {
                // Known only after the run: the engine sizes it through the slot's output allocator.
                p.SizedAtRun = true;
                if (bound is not null)
                {
                    if (bound.Length != rank)
                        throw new ArgumentException($"OutputBounds gives output '{p.Binding.Name}' the shape {TensorBinding.FormatShape(bound)}, of rank {bound.Length}; the output has rank {rank}.", nameof(bounds));
                    for (int d = 0; d < rank; d++)
                    {
                        if (bound[d] < 0 || (max[d] >= 0 && bound[d] < max[d]))
                            throw new ArgumentException($"OutputBounds gives output '{p.Binding.Name}' the shape {TensorBinding.FormatShape(bound)}; dimension {d} must be at least {Math.Max(0, max[d])}.", nameof(bounds));
                    }

                    max = (long[])bound.Clone();
                }

                p.Min = max;
                p.Max = max;
                p.Capacity = bound is not null ? Capacity(p.Binding.GetByteCount(max)) : Capacity(0);
                continue;
            }

            if (bound is not null)
                throw new ArgumentException($"OutputBounds names output '{p.Binding.Name}', whose shape the input shapes determine ({TensorBinding.FormatShape(max)} at the profile's max); it needs no bound.", nameof(bounds));
            p.Min = max;
            p.Max = max;
            p.Capacity = Capacity(p.Binding.GetByteCount(max));
        }
    }

    // At least one byte, rounded up to 256 so that buffers could be sub-allocated at TensorRT's alignment.
    internal static long Capacity(long bytes) => Math.Max(256, (bytes + 255) / 256 * 256);
}
