using System.Collections.Concurrent;
using System.Numerics.Tensors;
using TypedTrt.Manifest;
using TypedTrt.Runtime.Cuda;
using TypedTrt.Runtime.Engine;

namespace TypedTrt.Runtime;

/// <summary>Options of an <see cref="InferenceRunner"/>.</summary>
public sealed class InferenceRunnerOptions
{
    /// <summary>Number of slots (streams), each with its own execution context and buffers. Default 2.</summary>
    public int Streams { get; init; } = 2;

    /// <summary>The optimization profile every slot uses. Default 0.</summary>
    public int ProfileIndex { get; init; }

    /// <summary>CUDA device ordinal for device engines. Default 0.</summary>
    public int DeviceOrdinal { get; init; }

    /// <summary>How device requests complete. Default <see cref="CompletionMode.Polling"/> (lowest latency).</summary>
    public CompletionMode Completion { get; init; } = CompletionMode.Polling;

    /// <summary>
    /// Device engines with static shapes only: each slot captures its first request's H2D copies, enqueue and D2H
    /// copies into a CUDA graph and replays it (<c>cuGraphLaunch</c>) for later requests, cutting per-request launch
    /// overhead. If capture fails (an engine whose enqueue cannot be captured), the slot falls back to normal enqueue,
    /// as trtexec does. Ignored for engines with dynamic inputs and for host engines. Requires that the engine's
    /// enqueue does the same work every time for a given context (true of TensorRT with static shapes). Default off.
    /// </summary>
    public bool UseCudaGraphs { get; init; }
}

/// <summary>
/// The multi-stream runner core that generated runners build on: N slots, each with an execution context, a
/// non-blocking stream, pinned host buffers and device buffers sized from the signature (max profile shape for
/// dynamic dims). Safe for any number of concurrent callers.
/// </summary>
/// <remarks>
/// <para>Device engines (<see cref="BufferPlacement.Device"/>): each request copies its inputs host→device, enqueues the
/// engine and copies its outputs device→host on the slot's stream; a stream callback completes the request, so no
/// thread blocks per request. Host engines (<see cref="BufferPlacement.Host"/>) get the slot's host buffers bound
/// directly and run on the thread pool; they need no CUDA driver.</para>
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
    private readonly ConcurrentQueue<RunnerSlot> _free = new();
    private readonly SemaphoreSlim _available;
    private int _disposed;
    private Task? _disposeTask;

    /// <summary>Creates a runner over an engine (takes no ownership of the engine).</summary>
    /// <exception cref="ArgumentException">The options do not fit the engine (profile index, a dynamic input without a profile range, an unsupported tensor type).</exception>
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
        _plan = BuildPlan(Signature, options.ProfileIndex);
        _slots = new RunnerSlot[options.Streams];
        _available = new SemaphoreSlim(0, options.Streams);
        try
        {
            if (Placement == BufferPlacement.Device)
                Cuda = CudaContext.RetainPrimary(options.DeviceOrdinal);
            for (int i = 0; i < _slots.Length; i++)
            {
                _slots[i] = new RunnerSlot(this, i, _plan);
                _slots[i].CreateContext(engine, Cuda, options.ProfileIndex);
            }

            ResolveOutputCapacities(_slots[0].Context!);
            foreach (var slot in _slots)
            {
                slot.AllocateBuffers(Cuda);
                _free.Enqueue(slot);
            }

            GraphsPossible = Array.TrueForAll(_plan, static p => !p.Binding.IsDynamic);
            if (Cuda is not null && Completion == CompletionMode.Polling)
                Poller = new CompletionPoller(_slots, Cuda);

            _available.Release(_slots.Length);
        }
        catch
        {
            var errors = new List<Exception>();
            Poller?.Dispose();
            foreach (var slot in _slots)
                slot?.DisposeResources(errors);
            Cuda?.Dispose();
            _available.Dispose();
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
    internal bool GraphsPossible;
    internal CompletionPoller? Poller;
    internal volatile bool ProfilingActive;
    private long _profileStart;

    /// <summary>Number of slots.</summary>
    public int SlotCount => _slots.Length;

    /// <summary>Where the engine expects tensor memory.</summary>
    public BufferPlacement Placement { get; }

    /// <summary>The optimization profile every slot uses.</summary>
    public int ProfileIndex { get; }

    /// <summary>The CUDA context of device engines (the device's primary context), or <see langword="null"/> for host engines.</summary>
    public CudaContext? Cuda { get; }

    /// <summary>The largest shape slots are sized for: the profile's max for dynamic inputs, the resolved max for outputs.</summary>
    public ReadOnlySpan<long> GetMaxShape(int tensorIndex) => GetPlan(tensorIndex).Max;

    /// <summary>The bytes each slot's buffer holds for a tensor.</summary>
    public long GetBufferCapacity(int tensorIndex) => GetPlan(tensorIndex).Capacity;

    /// <summary>Waits for a free slot and leases it. Cancellation applies while waiting.</summary>
    /// <exception cref="ObjectDisposedException">The runner is disposed or being disposed.</exception>
    public ValueTask<InferenceLease> AcquireAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled<InferenceLease>(cancellationToken);
        if (_available.Wait(0, CancellationToken.None))
            return new ValueTask<InferenceLease>(new InferenceLease(TakeSlot()));
        return AcquireSlowAsync(cancellationToken);
    }

    private async ValueTask<InferenceLease> AcquireSlowAsync(CancellationToken cancellationToken)
    {
        await _available.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new InferenceLease(TakeSlot());
    }

    private async ValueTask<RunnerSlot> AcquireSlotAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        cancellationToken.ThrowIfCancellationRequested();
        if (!_available.Wait(0, CancellationToken.None))
            await _available.WaitAsync(cancellationToken).ConfigureAwait(false);
        return TakeSlot();
    }

    private RunnerSlot TakeSlot()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            _available.Release();
            throw new ObjectDisposedException(nameof(InferenceRunner));
        }

        if (!_free.TryDequeue(out var slot))
            throw new InvalidOperationException("Internal error: a slot count was available but no slot was free.");
        slot.OnLeased();
        return slot;
    }

    /// <summary>
    /// Starts collecting per-stage timings. Device engines: CUDA events around each request's H2D copies, enqueue and
    /// D2H copies, and the idle gap of each slot's stream between requests (needs <see cref="CompletionMode.Polling"/>;
    /// profiled requests bypass CUDA graphs and cost four extra event records). Host engines: the backend's run is the
    /// compute stage (there are no copies) and the gap is each slot's idle time between runs.
    /// </summary>
    /// <exception cref="NotSupportedException">A device engine with <see cref="CompletionMode.Callback"/> (no CUDA calls are allowed in stream callbacks).</exception>
    public void StartProfiling()
    {
        if (Placement == BufferPlacement.Device && Poller is null)
            throw new NotSupportedException("Stage profiling of a device engine needs CompletionMode.Polling (the default).");
        foreach (var slot in _slots)
            slot.ResetProfiling();
        _profileStart = System.Diagnostics.Stopwatch.GetTimestamp();
        ProfilingActive = true;
    }

    /// <summary>
    /// Stops profiling and returns the per-request averages of the requests completed since <see cref="StartProfiling"/>
    /// (call it after awaiting them). Feed it to <see cref="Diagnostics.BottleneckReport.Analyze"/>.
    /// </summary>
    public Diagnostics.StageTimings StopProfiling()
    {
        if (!ProfilingActive)
            throw new InvalidOperationException("Profiling was not started.");
        ProfilingActive = false;
        double wall = System.Diagnostics.Stopwatch.GetElapsedTime(_profileStart).TotalSeconds;
        var sum = default(StageAccumulator);
        foreach (var slot in _slots)
            sum.AddFrom(slot.Stages);
        long inBytes = 0, outBytes = 0;
        foreach (var p in Placement == BufferPlacement.Device ? _plan : [])
        {
            if (p.IsInput)
                inBytes += p.Binding.GetByteCount(p.Max);
            else
                outBytes += p.Binding.GetByteCount(p.Max);
        }

        return Aggregate(sum, _slots.Length, wall, inBytes, outBytes);
    }

    /// <summary>Per-request means from stage sums (the profiling aggregation, separate for testing).</summary>
    internal static Diagnostics.StageTimings Aggregate(in StageAccumulator sum, int streams, double wallSeconds, long h2dBytes, long d2hBytes)
    {
        long n = sum.Requests;
        return new Diagnostics.StageTimings(
            n,
            streams,
            wallSeconds,
            n > 0 ? sum.H2D / n : 0,
            n > 0 ? sum.Compute / n : 0,
            n > 0 ? sum.D2H / n : 0,
            sum.GapCount > 0 ? sum.Gap / sum.GapCount : 0,
            h2dBytes,
            d2hBytes);
    }

    /// <summary>
    /// Measures the pinned host→device peak on this runner's device: <paramref name="repeats"/> back-to-back copies
    /// of <paramref name="bytes"/> from pinned memory, timed with CUDA events. The reference for
    /// <see cref="Diagnostics.BottleneckReport.Analyze"/>.
    /// </summary>
    /// <returns>GB/s (10^9 bytes per second).</returns>
    public static double MeasurePinnedH2DPeak(long bytes = 64L << 20, int repeats = 20, int deviceOrdinal = 0)
    {
        using var cuda = CudaContext.RetainPrimary(deviceOrdinal);
        using var host = cuda.AllocatePinned(bytes);
        using var dev = cuda.Allocate(bytes);
        using var stream = cuda.CreateStream();
        using var a = cuda.CreateEvent(enableTiming: true);
        using var b = cuda.CreateEvent(enableTiming: true);
        for (int i = 0; i < 3; i++)
            stream.CopyToDevice(dev, host.Pointer, bytes);
        a.Record(stream);
        for (int i = 0; i < repeats; i++)
            stream.CopyToDevice(dev, host.Pointer, bytes);
        b.Record(stream);
        b.Synchronize();
        double us = b.ElapsedSince(a) * 1000.0 / repeats;
        return bytes / us / 1e3;
    }

    /// <summary>
    /// Measures the host→device bandwidth of one slot's input copies: <paramref name="repeats"/> back-to-back copies of
    /// every input at its max shape from the slot's pinned buffers, timed with CUDA events (the method of
    /// native-pipeline.cu's stage line). Leases a slot for the measurement.
    /// </summary>
    /// <returns>GB/s (10^9 bytes per second) and the mean microseconds per copy round, the median of five timed batches.</returns>
    /// <exception cref="NotSupportedException">A host engine.</exception>
    public async ValueTask<(double GigabytesPerSecond, double Microseconds)> MeasureInputCopyBandwidthAsync(int repeats = 20, CancellationToken cancellationToken = default)
    {
        if (Cuda is null)
            throw new NotSupportedException("Host engines copy no inputs.");
        RunnerSlot slot = await AcquireSlotAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Median of five batches: one batch is easily disturbed by other work on a shared machine.
            var times = new double[5];
            long bytes = 0;
            for (int i = 0; i < times.Length; i++)
                (bytes, times[i]) = slot.TimeInputCopies(repeats);
            Array.Sort(times);
            double us = times[times.Length / 2];
            return (us > 0 ? bytes / us / 1e3 : 0, us);
        }
        finally
        {
            slot.Release();
        }
    }

    internal void ReturnSlot(RunnerSlot slot)
    {
        _free.Enqueue(slot);
        _available.Release();
    }

    /// <summary>
    /// Convenience entry: leases a slot, copies each input from caller memory, runs, and returns the outputs as owned
    /// arrays. Every input of the signature must be given exactly once.
    /// </summary>
    /// <param name="inputs">One entry per input (any order).</param>
    /// <param name="cancellationToken">Observed while waiting for a slot and before enqueue.</param>
    /// <exception cref="ArgumentException">A missing, repeated or unknown input; a shape outside the profile; data whose length does not match its shape.</exception>
    public async ValueTask<InferenceResult> RunAsync(IReadOnlyList<InferenceInput> inputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ValidateInputSet(inputs);
        RunnerSlot slot = await AcquireSlotAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var input in inputs)
            {
                var binding = _plan[input.TensorIndex].Binding;
                if (binding.IsDynamic || !input.Shape.IsEmpty)
                {
                    if (input.Shape.IsEmpty && binding.Rank > 0)
                        throw new ArgumentException($"Input '{binding.Name}' has dynamic dimensions; give its shape.", nameof(inputs));
                    slot.SetInputShape(input.TensorIndex, input.Shape.Span);
                }

                Span<byte> dst = slot.GetInputSpan<byte>(input.TensorIndex);
                if (input.Data.Length != dst.Length)
                    throw new ArgumentException($"Input '{binding.Name}' at shape {TensorBinding.FormatShape(slot.GetInputShape(input.TensorIndex))} takes {dst.Length} bytes; got {input.Data.Length}.", nameof(inputs));
                input.Data.Span.CopyTo(dst);
            }

            await slot.RunAsync(cancellationToken).ConfigureAwait(false);
            var outputs = new List<InferenceOutput>();
            foreach (var p in _plan)
            {
                if (p.IsInput)
                    continue;
                outputs.Add(new InferenceOutput(p.Index, p.Binding, slot.GetOutputShape(p.Index).ToArray(), slot.GetOutputSpan<byte>(p.Index).ToArray()));
            }

            return new InferenceResult(outputs);
        }
        finally
        {
            slot.Release();
        }
    }

    private void ValidateInputSet(IReadOnlyList<InferenceInput> inputs)
    {
        Span<bool> seen = stackalloc bool[_plan.Length];
        foreach (var input in inputs)
        {
            if ((uint)input.TensorIndex >= (uint)_plan.Length || !_plan[input.TensorIndex].IsInput)
                throw new ArgumentException($"Tensor index {input.TensorIndex} is not an input of this engine.", nameof(inputs));
            if (seen[input.TensorIndex])
                throw new ArgumentException($"Input '{_plan[input.TensorIndex].Binding.Name}' is given twice.", nameof(inputs));
            seen[input.TensorIndex] = true;
        }

        foreach (var p in _plan)
        {
            if (p.IsInput && !seen[p.Index])
                throw new ArgumentException($"Input '{p.Binding.Name}' (tensor {p.Index}) is missing.", nameof(inputs));
        }
    }

    /// <summary>
    /// Waits for work in flight and for every lease to be returned, then frees every slot (contexts first, then
    /// streams and buffers) and releases the CUDA context. New <see cref="AcquireAsync"/> calls fail with
    /// <see cref="ObjectDisposedException"/>. The engine is not disposed (the caller owns it; dispose it after this).
    /// </summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
            Volatile.Write(ref _disposeTask, DisposeCoreAsync());
        else
            SpinWait.SpinUntil(() => Volatile.Read(ref _disposeTask) is not null);
        return new ValueTask(_disposeTask!);
    }

    private async Task DisposeCoreAsync()
    {
        for (int i = 0; i < _slots.Length; i++)
            await _available.WaitAsync().ConfigureAwait(false);
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

        _available.Dispose();
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

    private void ResolveOutputCapacities(IEngineContext context)
    {
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
            if (Array.Exists(max, static d => d < 0))
                throw new NotSupportedException($"Output '{p.Binding.Name}' has dimensions that the input shapes do not determine ({TensorBinding.FormatShape(max)}); data-dependent output shapes are not supported.");
            p.Min = max;
            p.Max = max;
            p.Capacity = Capacity(p.Binding.GetByteCount(max));
        }
    }

    // At least one byte, rounded up to 256 so that buffers could be sub-allocated at TensorRT's alignment.
    private static long Capacity(long bytes) => Math.Max(256, (bytes + 255) / 256 * 256);
}

/// <summary>
/// Exclusive use of one slot: fill inputs in place in pinned memory, run, read outputs in place. Dispose to return
/// the slot. Not thread-safe; one request at a time per lease.
/// </summary>
/// <remarks>
/// Spans returned by this lease point into the slot's buffers: they are valid until the next <see cref="SetInputShape"/>
/// or <see cref="RunAsync"/> and must not be used after <see cref="Dispose"/>. Disposing while a request is in flight
/// returns the slot when that request completes.
/// </remarks>
[System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Auto)]
public readonly partial struct InferenceLease : IDisposable, IEquatable<InferenceLease>
{
    // The slot and the lease version it was handed out under: the slot bumps its version when the lease is disposed,
    // so a copy of a disposed lease fails with ObjectDisposedException even after the slot was leased again. A struct,
    // so a request allocates nothing.
    private readonly RunnerSlot? _slot;
    private readonly int _version;

    internal InferenceLease(RunnerSlot slot)
    {
        _slot = slot;
        _version = Volatile.Read(ref slot.LeaseVersion);
    }

    private RunnerSlot Slot =>
        _slot is { } s && Volatile.Read(ref s.LeaseVersion) == _version ? s : throw new ObjectDisposedException(nameof(InferenceLease));

    /// <summary>Whether the lease is still valid (not disposed, not default).</summary>
    public bool IsActive => _slot is { } s && Volatile.Read(ref s.LeaseVersion) == _version;

    /// <inheritdoc/>
    public bool Equals(InferenceLease other) => ReferenceEquals(_slot, other._slot) && _version == other._version;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is InferenceLease o && Equals(o);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(_slot, _version);

    /// <summary>Same slot and lease version.</summary>
    public static bool operator ==(InferenceLease left, InferenceLease right) => left.Equals(right);

    /// <summary>Different slot or lease version.</summary>
    public static bool operator !=(InferenceLease left, InferenceLease right) => !left.Equals(right);

    /// <summary>The index of the leased slot (0..<see cref="InferenceRunner.SlotCount"/>-1).</summary>
    public int SlotIndex => Slot.Index;

    /// <summary>Sets a dynamic input's concrete shape; checked against rank and the profile's min..max.</summary>
    /// <exception cref="ArgumentException">Wrong rank, or a dimension outside the profile's range (the message names tensor, dimension and range).</exception>
    public void SetInputShape(int tensorIndex, ReadOnlySpan<long> dims) => Slot.SetInputShape(tensorIndex, dims);

    /// <summary>The input's current shape.</summary>
    public ReadOnlySpan<long> GetInputShape(int tensorIndex) => Slot.GetInputShape(tensorIndex);

    /// <summary>The slot's pinned host buffer for an input, sized to its current shape. <typeparamref name="T"/> is the dtype's element type, or <see cref="byte"/> for raw bytes.</summary>
    /// <exception cref="ArgumentException"><typeparamref name="T"/> does not match the tensor's type.</exception>
    public Span<T> GetInputSpan<T>(int tensorIndex)
        where T : unmanaged => Slot.GetInputSpan<T>(tensorIndex);

    /// <summary>The input's buffer as a tensor span of its current shape (linear layouts only).</summary>
    public TensorSpan<T> GetInputTensorSpan<T>(int tensorIndex)
        where T : unmanaged
    {
        var slot = Slot;
        var span = slot.GetInputSpan<T>(tensorIndex);
        ReadOnlySpan<long> shape = slot.GetInputShape(tensorIndex);
        Span<nint> lengths = stackalloc nint[shape.Length];
        int count = ComputeLengths(slot.GetPlan(tensorIndex, TensorMode.Input).Binding, shape, lengths, System.Runtime.CompilerServices.Unsafe.SizeOf<T>());
        return new TensorSpan<T>(span[..count], lengths);
    }

    /// <summary>Copies inputs to the device, runs the engine, copies outputs back; completes when this slot's work is done.</summary>
    /// <exception cref="OperationCanceledException">Cancelled before the request was enqueued.</exception>
    /// <exception cref="InvalidOperationException">A dynamic input has no shape, or a request is already in flight.</exception>
    public ValueTask RunAsync(CancellationToken cancellationToken = default) => Slot.RunAsync(cancellationToken);

    /// <summary>The resolved shape of an output after <see cref="RunAsync"/>.</summary>
    public ReadOnlySpan<long> GetOutputShape(int tensorIndex) => Slot.GetOutputShape(tensorIndex);

    /// <summary>The slot's pinned host buffer for an output, sized to its resolved shape.</summary>
    public ReadOnlySpan<T> GetOutputSpan<T>(int tensorIndex)
        where T : unmanaged => Slot.GetOutputSpan<T>(tensorIndex);

    /// <summary>The output's buffer as a read-only tensor span of its resolved shape (linear layouts only).</summary>
    public ReadOnlyTensorSpan<T> GetOutputTensorSpan<T>(int tensorIndex)
        where T : unmanaged
    {
        var slot = Slot;
        var span = slot.GetOutputSpan<T>(tensorIndex);
        ReadOnlySpan<long> shape = slot.GetOutputShape(tensorIndex);
        Span<nint> lengths = stackalloc nint[shape.Length];
        int count = ComputeLengths(slot.GetPlan(tensorIndex, TensorMode.Output).Binding, shape, lengths, System.Runtime.CompilerServices.Unsafe.SizeOf<T>());
        return new ReadOnlyTensorSpan<T>(span[..count], lengths);
    }

    private static int ComputeLengths(TensorBinding binding, ReadOnlySpan<long> shape, Span<nint> lengths, int elementSize)
    {
        if (DataTypes.BitsPerElement(binding.DataType) != 8 * elementSize)
            throw new ArgumentException($"Tensor '{binding.Name}' has type '{binding.DTypeName}'; a tensor span needs its element type, not raw bytes.");
        if (binding.Layout is { ComponentsPerElement: > 1 })
            throw new NotSupportedException($"Tensor '{binding.Name}' uses the vectorized format {binding.Layout.Format}; read it with GetInputSpan/GetOutputSpan.");
        long n = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            lengths[i] = checked((nint)shape[i]);
            n *= shape[i];
        }

        return checked((int)n);
    }

    /// <summary>Returns the slot to the runner (once; later calls on any copy of this lease do nothing).</summary>
    public void Dispose() => _slot?.Release(_version);
}

/// <summary>One input for <see cref="InferenceRunner.RunAsync(IReadOnlyList{InferenceInput}, CancellationToken)"/>: raw bytes in the tensor's layout and, for dynamic inputs, the concrete shape.</summary>
public readonly struct InferenceInput : IEquatable<InferenceInput>
{
    /// <summary>Creates an input from raw bytes.</summary>
    /// <param name="tensorIndex">Index into the signature's tensors.</param>
    /// <param name="data">The tensor's bytes at <paramref name="shape"/>.</param>
    /// <param name="shape">The concrete shape; may be empty for inputs without dynamic dimensions.</param>
    public InferenceInput(int tensorIndex, ReadOnlyMemory<byte> data, ReadOnlyMemory<long> shape = default)
    {
        TensorIndex = tensorIndex;
        Data = data;
        Shape = shape;
    }

    /// <summary>Creates an input by copying typed elements into a new byte array.</summary>
    public static InferenceInput Create<T>(int tensorIndex, ReadOnlySpan<T> data, ReadOnlySpan<long> shape = default)
        where T : unmanaged =>
        new(tensorIndex, System.Runtime.InteropServices.MemoryMarshal.AsBytes(data).ToArray(), shape.ToArray());

    /// <summary>Index into the signature's tensors.</summary>
    public int TensorIndex { get; }

    /// <summary>The tensor's bytes.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>The concrete shape (empty: the signature's static shape).</summary>
    public ReadOnlyMemory<long> Shape { get; }

    /// <inheritdoc/>
    public bool Equals(InferenceInput other) => TensorIndex == other.TensorIndex && Data.Equals(other.Data) && Shape.Equals(other.Shape);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is InferenceInput o && Equals(o);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(TensorIndex, Data, Shape);

    /// <summary>Equality of index and memory regions.</summary>
    public static bool operator ==(InferenceInput left, InferenceInput right) => left.Equals(right);

    /// <summary>Inequality of index and memory regions.</summary>
    public static bool operator !=(InferenceInput left, InferenceInput right) => !left.Equals(right);
}

/// <summary>One output of a convenience run, owned by the caller.</summary>
public sealed class InferenceOutput
{
    private readonly long[] _shape;
    private readonly byte[] _data;

    internal InferenceOutput(int tensorIndex, TensorBinding binding, long[] shape, byte[] data)
    {
        TensorIndex = tensorIndex;
        Binding = binding;
        _shape = shape;
        _data = data;
    }

    /// <summary>Index into the signature's tensors.</summary>
    public int TensorIndex { get; }

    /// <summary>The output's binding.</summary>
    public TensorBinding Binding { get; }

    /// <summary>The output's name.</summary>
    public string Name => Binding.Name;

    /// <summary>The resolved shape.</summary>
    public IReadOnlyList<long> Shape => _shape;

    /// <summary>The raw bytes.</summary>
    public ReadOnlyMemory<byte> Data => _data;

    /// <summary>The data as elements of the dtype's CLR type (or bytes).</summary>
    public ReadOnlySpan<T> AsSpan<T>()
        where T : unmanaged
    {
        RunnerSlot.CheckElementType<T>(Binding);
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(_data);
    }

    /// <summary>A copy of the data as elements of the dtype's CLR type (or bytes).</summary>
    public T[] ToArray<T>()
        where T : unmanaged => AsSpan<T>().ToArray();
}

/// <summary>The outputs of a convenience run, in model order.</summary>
public sealed class InferenceResult
{
    internal InferenceResult(IReadOnlyList<InferenceOutput> outputs) => Outputs = outputs;

    /// <summary>The outputs in model order.</summary>
    public IReadOnlyList<InferenceOutput> Outputs { get; }

    /// <summary>The output with this tensor index.</summary>
    /// <exception cref="ArgumentException">No output has that index.</exception>
    public InferenceOutput GetOutput(int tensorIndex)
    {
        foreach (var o in Outputs)
        {
            if (o.TensorIndex == tensorIndex)
                return o;
        }

        throw new ArgumentException($"Tensor {tensorIndex} is not an output.", nameof(tensorIndex));
    }

    /// <summary>The output with this name.</summary>
    /// <exception cref="ArgumentException">No output has that name.</exception>
    public InferenceOutput GetOutput(string name)
    {
        foreach (var o in Outputs)
        {
            if (o.Name == name)
                return o;
        }

        throw new ArgumentException($"No output is named '{name}'.", nameof(name));
    }
}
