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
    private readonly TensorPlan[] _plan;
    private readonly RunnerDevice[] _devices;
    private readonly RunnerSlot[] _slots;
    private readonly SlotPool _pool;
    private int _disposed;
    private Task? _disposeTask;

    /// <summary>
    /// Creates a runner over an engine (takes no ownership of the engine). On several devices
    /// (<see cref="InferenceRunnerOptions.Devices"/>) the engine serves the first device and
    /// <see cref="InferenceRunnerOptions.EngineFactory"/> creates the others' (host engines serve every device).
    /// </summary>
    /// <exception cref="ArgumentException">The options do not fit the engine (profile index, a dynamic input without a profile range, an unsupported tensor type, a device engine on several devices without a factory, a factory engine with another signature, an output bound that names no output sized at run time).</exception>
    /// <exception cref="NotSupportedException">An output's shape is known only after the run and the engine cannot size outputs at run time (<see cref="IEngineContext.SetOutputAllocator"/>).</exception>
    /// <exception cref="CudaUnavailableException">A device engine on a machine without an NVIDIA driver.</exception>
    /// <exception cref="DeviceStartupException">A device could not be started (its ordinal and the CUDA error are in the exception).</exception>
    public InferenceRunner(IInferenceEngine engine, InferenceRunnerOptions? options = null)
        : this(engine ?? throw new ArgumentNullException(nameof(engine)), null, options ?? new InferenceRunnerOptions())
    {
    }

    /// <summary>
    /// Creates a runner that creates one engine per device with <paramref name="engineFactory"/> (argument: the device
    /// ordinal) and owns them: they are disposed after the runner's slots. Devices come from
    /// <see cref="InferenceRunnerOptions.Devices"/> (or <see cref="InferenceRunnerOptions.DeviceOrdinal"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The options do not fit the engines, or the engines' signatures differ.</exception>
    /// <exception cref="CudaUnavailableException">Device engines on a machine without an NVIDIA driver.</exception>
    /// <exception cref="DeviceStartupException">A device could not be started, or the factory failed for it (its ordinal and the cause are in the exception).</exception>
    public InferenceRunner(Func<int, IInferenceEngine> engineFactory, InferenceRunnerOptions? options = null)
        : this(null, engineFactory ?? throw new ArgumentNullException(nameof(engineFactory)), options ?? new InferenceRunnerOptions())
    {
    }

    private InferenceRunner(IInferenceEngine? engine, Func<int, IInferenceEngine>? factory, InferenceRunnerOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Streams, 1, nameof(options));
        factory ??= options.EngineFactory;
        Completion = options.Completion;
        UseCudaGraphs = options.UseCudaGraphs;
        ProfileIndex = options.ProfileIndex;
        HostExecution = options.HostExecution;
        if (!Enum.IsDefined(options.HostExecution))
            throw new ArgumentOutOfRangeException(nameof(options), options.HostExecution, "Unknown HostExecution value.");
        int[] ordinals = RequestedDevices(options);
        var devices = new List<RunnerDevice>(Math.Max(1, ordinals.Length));
        var slots = new List<RunnerSlot>();
        TensorPlan[]? plan = null;
        try
        {
            // The first engine decides placement and signature; "all visible" is resolved only for device engines.
            int first = ordinals.Length > 0 ? ordinals[0] : 0;
            var firstDevice = StartEngine(0, first, engine, factory, null);
            devices.Add(firstDevice);
            Placement = firstDevice.Engine.Placement;
            Signature = firstDevice.Engine.Signature;
            plan = _plan = BuildPlan(Signature, options.ProfileIndex);
            if (ordinals.Length == 0)
                ordinals = Placement == BufferPlacement.Device ? VisibleDevices() : [0];
            if (Placement == BufferPlacement.Device && ordinals.Length > 1 && factory is null)
                throw new ArgumentException($"A device engine is bound to the device it was created on, so {ordinals.Length} devices ({string.Join(", ", ordinals)}) need one engine each: set InferenceRunnerOptions.EngineFactory (e.g. d => TensorRtEngine.Load(plan, signature, new() {{ DeviceOrdinal = d }})) or use the constructor that takes a factory.", nameof(options));
            for (int d = 1; d < ordinals.Length; d++)
                devices.Add(StartEngine(d, ordinals[d], Placement == BufferPlacement.Host && factory is null ? firstDevice.Engine : null, factory, firstDevice));

            // Per device: primary context, then per slot a stream and an execution context.
            foreach (var dev in devices)
            {
                StartDevice(dev, () =>
                {
                    if (Placement == BufferPlacement.Device)
                    {
                        dev.Cuda = CudaContext.RetainPrimary(dev.Ordinal);
                        dev.HostNumaNode = CudaDriver.GetHostNumaNode(dev.Ordinal);
                    }

                    var mine = new RunnerSlot[options.Streams];
                    dev.Slots = mine;
                    for (int i = 0; i < mine.Length; i++)
                    {
                        var slot = new RunnerSlot(this, slots.Count, plan, dev);
                        mine[i] = slot;
                        slots.Add(slot);
                        slot.CreateContext(options.ProfileIndex);
                    }
                }, "creating its context and streams");
            }

            ResolveOutputCapacities(devices[0].Slots[0].Context!, options.OutputBounds);
            foreach (var dev in devices)
            {
                StartDevice(dev, () =>
                {
                    foreach (var slot in dev.Slots)
                    {
                        slot.AllocateBuffers();
                        slot.AttachOutputAllocators(dev.Engine);
                    }

                    if (dev.Cuda is not null && Completion == CompletionMode.Polling)
                        dev.Poller = new CompletionPoller(dev.Slots, dev.Cuda);
                }, "allocating its buffers");
            }

            _devices = [.. devices];
            _slots = [.. slots];
            Devices = Array.ConvertAll(_devices, static d => d.Ordinal);
            Cuda = _devices[0].Cuda;
            HasRunTimeSizedOutputs = Array.Exists(_plan, static p => p.SizedAtRun);
            OutputShapesFixed = Array.TrueForAll(_plan, static p => p.IsInput ? !p.Binding.IsDynamic : !p.SizedAtRun);
            GraphsPossible = Array.TrueForAll(_plan, static p => !p.Binding.IsDynamic && !p.SizedAtRun);
            Metrics = new Diagnostics.RunnerMetrics(this, _devices[0].Engine, options.Name, Devices);
            _pool = new SlotPool(_slots);
            if (options.Batching is { } batching)
                CreateBatcher(batching); // last: it starts the batcher's delay thread
        }
        catch
        {
            var errors = new List<Exception>();
            FreeDevices(devices, errors);
            throw;
        }
    }

    private static int[] RequestedDevices(InferenceRunnerOptions options)
    {
        if (options.Devices is not { } list)
            return [options.DeviceOrdinal];
        int[] ordinals = [.. list];
        for (int i = 0; i < ordinals.Length; i++)
        {
            if (ordinals[i] < 0)
                throw new ArgumentException($"Device ordinal {ordinals[i]} in InferenceRunnerOptions.Devices is negative.", nameof(options));
            if (Array.IndexOf(ordinals, ordinals[i]) != i)
                throw new ArgumentException($"Device {ordinals[i]} is listed twice in InferenceRunnerOptions.Devices; raise Streams for more slots per device.", nameof(options));
        }

        return ordinals;
    }

    private static int[] VisibleDevices()
    {
        int n = CudaDriver.DeviceCount;
        var all = new int[n];
        for (int i = 0; i < n; i++)
            all[i] = i;
        return all;
    }

    // The engine of one device: the given one, or the factory's (owned). Engines after the first must match its placement and signature.
    private static RunnerDevice StartEngine(int index, int ordinal, IInferenceEngine? given, Func<int, IInferenceEngine>? factory, RunnerDevice? first)
    {
        if (given is not null)
            return new RunnerDevice(index, ordinal, given, ownsEngine: false);
        IInferenceEngine created;
        try
        {
            created = factory!(ordinal) ?? throw new InvalidOperationException("The engine factory returned null.");
        }
        catch (Exception ex) when (ex is not (CudaUnavailableException or OutOfMemoryException))
        {
            throw DeviceStartupException.For(ordinal, "the engine factory failed", ex);
        }

        var dev = new RunnerDevice(index, ordinal, created, ownsEngine: true);
        if (first is not null)
        {
            string? difference = created.Placement != first.Engine.Placement
                ? $"its placement is {created.Placement}, device {first.Ordinal}'s is {first.Engine.Placement}"
                : DescribeDifference(first.Engine.Signature, created.Signature);
            if (difference is not null)
            {
                var errors = new List<Exception>();
                FreeDevices([dev], errors);
                throw new ArgumentException($"The engine the factory created for device {ordinal} differs from device {first.Ordinal}'s: {difference}. Every device must run the same engine.", nameof(factory));
            }
        }

        return dev;
    }

    private static string? DescribeDifference(BindingManifest a, BindingManifest b)
    {
        if (a.Tensors.Count != b.Tensors.Count)
            return $"{b.Tensors.Count} tensors instead of {a.Tensors.Count}";
        for (int i = 0; i < a.Tensors.Count; i++)
        {
            TensorBinding x = a.Tensors[i], y = b.Tensors[i];
            if (x.Name != y.Name || x.Mode != y.Mode || x.DTypeName != y.DTypeName || !x.Shape.SequenceEqual(y.Shape))
                return $"tensor {i} is '{y.Name}' ({y.Mode}, {y.DTypeName}, {TensorBinding.FormatShape(y.Shape)}) instead of '{x.Name}' ({x.Mode}, {x.DTypeName}, {TensorBinding.FormatShape(x.Shape)})";
        }

        if (a.Profiles.Count != b.Profiles.Count)
            return $"{b.Profiles.Count} optimization profiles instead of {a.Profiles.Count}";
        for (int p = 0; p < a.Profiles.Count; p++)
        {
            foreach (var shape in a.Profiles[p].Inputs)
            {
                var other = b.Profiles[p].Find(shape.Name);
                if (other is null || !other.Min.SequenceEqual(shape.Min) || !other.Max.SequenceEqual(shape.Max) || !other.Opt.SequenceEqual(shape.Opt))
                    return $"optimization profile {p} gives '{shape.Name}' another range";
            }
        }

        return null;
    }

    // Runs one start-up step of a device; a CUDA error becomes a DeviceStartupException naming the device.
    private static void StartDevice(RunnerDevice dev, Action step, string stage)
    {
        try
        {
            step();
        }
        catch (CudaException ex)
        {
            throw DeviceStartupException.For(dev.Ordinal, stage, ex);
        }
    }

    // Pollers, then slots (contexts before the engine), then the primary contexts, then the engines the runner owns.
    private static void FreeDevices(IReadOnlyList<RunnerDevice> devices, List<Exception> errors)
    {
        foreach (var dev in devices)
            dev.Poller?.Dispose();
        foreach (var dev in devices)
        {
            foreach (var slot in dev.Slots)
                slot?.DisposeResources(errors);
        }

        foreach (var dev in devices)
        {
            if (dev.OwnsEngine)
            {
                // A device engine frees its device memory in its own device's context.
                Collect(errors, () =>
                {
                    dev.Cuda?.MakeCurrent();
                    dev.Engine.Dispose();
                });
            }

            Collect(errors, () => dev.Cuda?.Dispose());
        }
    }

    private static void Collect(List<Exception> errors, Action action)
    {
        try
        {
            action();
        }
#pragma warning disable CA1031 // collect, keep freeing, rethrow at the end
        catch (Exception ex)
#pragma warning restore CA1031
        {
            errors.Add(ex);
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

    /// <summary>Whether requests complete by polling (device engines with <see cref="CompletionMode.Polling"/>).</summary>
    internal bool HasPoller => _devices[0].Poller is not null;

    internal RunnerDevice[] DeviceList => _devices;

    internal SlotPool Pool => _pool;

    /// <summary>Number of slots over all devices (<see cref="InferenceRunnerOptions.Streams"/> per device).</summary>
    public int SlotCount => _slots.Length;

    /// <summary>The device ordinals the slots are spread over, in the order given (one entry for a one-device runner; host engines: the listed ordinals, unused).</summary>
    public IReadOnlyList<int> Devices { get; }

    /// <summary>
    /// The host NUMA node closest to <paramref name="deviceOrdinal"/> as the driver reports it
    /// (<c>CU_DEVICE_ATTRIBUTE_HOST_NUMA_ID</c>, CUDA 12.2+), or -1 when the system has no NUMA, the driver does not tell,
    /// or the engine is a host engine.
    /// </summary>
    /// <exception cref="ArgumentException">The runner does not use that device.</exception>
    public int GetHostNumaNode(int deviceOrdinal) => FindDevice(deviceOrdinal).HostNumaNode;

    /// <summary>Slots of <paramref name="deviceOrdinal"/> leased right now (a snapshot).</summary>
    /// <exception cref="ArgumentException">The runner does not use that device.</exception>
    public int GetSlotsInUse(int deviceOrdinal) => _pool.InUseSnapshot()[FindDevice(deviceOrdinal).Index];

    private RunnerDevice FindDevice(int deviceOrdinal) =>
        Array.Find(_devices, d => d.Ordinal == deviceOrdinal)
        ?? throw new ArgumentException($"The runner does not use device {deviceOrdinal}; its devices are {string.Join(", ", Devices)}.", nameof(deviceOrdinal));

    /// <summary>Where the engine expects tensor memory.</summary>
    public BufferPlacement Placement { get; }

    /// <summary>The optimization profile every slot uses.</summary>
    public int ProfileIndex { get; }

    /// <summary>
    /// The CUDA context of device engines (the primary context of the first device in <see cref="Devices"/>), or
    /// <see langword="null"/> for host engines. Use <see cref="GetCudaContext"/> for the others.
    /// </summary>
    public CudaContext? Cuda { get; }

    /// <summary>The primary context of <paramref name="deviceOrdinal"/> (device engines), or <see langword="null"/> for host engines.</summary>
    /// <exception cref="ArgumentException">The runner does not use that device.</exception>
    public CudaContext? GetCudaContext(int deviceOrdinal) => FindDevice(deviceOrdinal).Cuda;

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
        if (slot.ForBatch)
            slot.ForBatch = false; // a batch's slot: its requests were counted one by one
        else
            Metrics.OnSlotReturned();
        _pool.Return(slot);
        _batcher?.OnSlotReturned();
    }

    /// <summary>
    /// Waits for work in flight and for every lease to be returned, then frees every slot (contexts first, then
    /// streams and buffers) and releases the CUDA contexts of every device. Callers waiting for a slot, and every later
    /// <see cref="AcquireAsync"/> or <see cref="RunAsync(IReadOnlyList{InferenceInput}, CancellationToken)"/>, fail at
    /// once with <see cref="ObjectDisposedException"/>. An engine passed to the constructor is not disposed (the caller
    /// owns it; dispose it after this); engines the runner created with a factory are disposed here, after their contexts.
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
        FreeDevices(_devices, errors);
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
