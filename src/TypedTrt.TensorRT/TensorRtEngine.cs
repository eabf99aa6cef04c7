using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TypedTrt.Manifest;
using TypedTrt.Runtime.Cuda;
using TypedTrt.Runtime.Engine;
using TypedTrt.TensorRT.Interop;

namespace TypedTrt.TensorRT;

/// <summary>How an execution context gets its activation (scratch) memory (TensorRT's <c>ExecutionContextAllocationStrategy</c>).</summary>
public enum TensorRtAllocationStrategy
{
    /// <summary>TensorRT allocates the maximum over all profiles when the context is created (the default).</summary>
    Static = 0,

    /// <summary>TensorRT allocates what the selected profile needs, and reallocates when the profile changes.</summary>
    OnProfileChange = 1,
}

/// <summary>Options of <see cref="TensorRtEngine.Load(string, BindingManifest, TensorRtEngineOptions?)"/> and <see cref="TensorRtInspector"/>.</summary>
public sealed class TensorRtEngineOptions
{
    /// <summary>Full path of the TypedTrt shim; overrides <see cref="TensorRtRuntime.NativeLibraryPath"/> and the environment. Must name the loaded file once one is loaded.</summary>
    public string? NativeLibraryPath { get; init; }

    /// <summary>Full path of the TensorRT library (libnvinfer) for the shim to load at first use; overrides <see cref="TensorRtRuntime.TensorRtLibraryPath"/>.</summary>
    public string? TensorRtLibraryPath { get; init; }

    /// <summary>
    /// Compare the TensorRT version in the plan header with the loaded TensorRT before deserializing (default
    /// <see langword="true"/>). Turn off only for engines built as version-compatible.
    /// </summary>
    public bool CheckPlanVersion { get; init; } = true;

    /// <summary>
    /// The CUDA device to deserialize the plan on (default 0). A TensorRT engine is bound to the device it was
    /// deserialized on; for a runner over several devices load one engine per device, e.g.
    /// <c>InferenceRunnerOptions.EngineFactory = d =&gt; TensorRtEngine.Load(bytes, signature, new() { DeviceOrdinal = d })</c>
    /// (or <see cref="TensorRtEngine.CreateFactory"/>, which reads the file once). The engine retains the device's primary
    /// context and makes it current for its own calls.
    /// </summary>
    public int DeviceOrdinal { get; init; }

    /// <summary>Activation memory strategy of the execution contexts. Default <see cref="TensorRtAllocationStrategy.Static"/>.</summary>
    public TensorRtAllocationStrategy AllocationStrategy { get; init; } = TensorRtAllocationStrategy.Static;

    /// <summary>
    /// Testing switch: what <see cref="TensorRtEngine.Placement"/> reports. Real TensorRT always needs
    /// <see cref="BufferPlacement.Device"/>; the test fake of the shim computes on host pointers, so tests set
    /// <see cref="BufferPlacement.Host"/> to drive the runner without a GPU. With Host placement, stream 0 is passed to
    /// the shim as a dummy non-default stream handle (the fake never dereferences it).
    /// </summary>
    internal BufferPlacement PlacementForTesting { get; init; } = BufferPlacement.Device;
}

/// <summary>
/// A deserialized TensorRT engine behind TypedTrt's engine abstraction. Owns its TensorRT runtime; each
/// <see cref="CreateContext"/> creates one <c>IExecutionContext</c> (one per runner slot). Destruction order is
/// enforced: dispose every context before the engine (the engine's <see cref="Dispose"/> throws otherwise), and the
/// engine destroys its runtime last. Thread-safety: <see cref="CreateContext"/> may be called from any thread; each
/// context is used by one thread at a time.
/// </summary>
public sealed unsafe class TensorRtEngine : IInferenceEngine
{
    private readonly Lock _gate = new();
    private readonly TensorRtEngineOptions _options;
    private readonly string _description;
    private readonly CudaContext? _cuda;
    private nint _runtime;
    private nint _engine;
    private int _liveContexts;
    private bool _disposed;

    private TensorRtEngine(OpenedPlan plan, BindingManifest signature, TensorRtEngineOptions options, string description, CudaContext? cuda)
    {
        _cuda = cuda;
        _runtime = plan.Runtime;
        _engine = plan.Engine;
        Signature = signature;
        _options = options;
        _description = description;
        PlanVersion = plan.Header.Version;
        LoadedTensorRtVersion = plan.LoadedVersion;
        TensorNamesUtf8 = signature.Tensors.Select(t => Native.Utf8Z(t.Name)).ToArray();
        Name = Native.GetString((b, c, l) => NativeMethods.EngineName(_engine, b, c, l), "ttrt_engine_name");
        int profiles = 0;
        Native.Check(NativeMethods.EngineProfileCount(_engine, &profiles), "ttrt_engine_profile_count");
        ProfileCount = profiles;
    }

    /// <summary>
    /// Loads an engine file (a TensorRT plan, optionally with an Ultralytics metadata prefix) and verifies it against
    /// the bindings the caller's code was generated from.
    /// </summary>
    /// <param name="enginePath">The <c>.engine</c> / <c>.plan</c> file.</param>
    /// <param name="expected">The expected signature, usually the generated class's <c>Signature</c>.</param>
    /// <param name="options">Library paths, version check, allocation strategy.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a TensorRT plan.</exception>
    /// <exception cref="TensorRtUnavailableException">The shim or TensorRT cannot be loaded; the message says what was tried and what to install.</exception>
    /// <exception cref="TensorRtVersionMismatchException">The plan was built by another TensorRT version than the loaded one.</exception>
    /// <exception cref="TensorRtException">TensorRT failed to deserialize the engine (its reason is in the message).</exception>
    /// <exception cref="SignatureMismatchException">The engine does not match <paramref name="expected"/>; every difference is listed.</exception>
    public static TensorRtEngine Load(string enginePath, BindingManifest expected, TensorRtEngineOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(enginePath);
        ArgumentNullException.ThrowIfNull(expected);
        if (!File.Exists(enginePath))
            throw new FileNotFoundException($"The TensorRT engine '{enginePath}' does not exist.", enginePath);
        byte[] bytes = File.ReadAllBytes(enginePath);
        return Load(bytes, expected, Path.GetFileName(enginePath), $"The TensorRT engine '{enginePath}'", options);
    }

    /// <summary>Loads an engine from the bytes of an engine file (see <see cref="Load(string, BindingManifest, TensorRtEngineOptions?)"/>).</summary>
    /// <param name="engineFile">The file's bytes (a plan, optionally with an Ultralytics prefix); copied by TensorRT, may be reused afterwards.</param>
    /// <param name="expected">The expected signature.</param>
    /// <param name="options">Library paths, version check, allocation strategy.</param>
    public static TensorRtEngine Load(ReadOnlySpan<byte> engineFile, BindingManifest expected, TensorRtEngineOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(expected);
        return Load(engineFile, expected, expected.Source.FileName, $"The TensorRT engine ({engineFile.Length} bytes in memory)", options);
    }

    /// <summary>
    /// Reads an engine file once and returns a factory that deserializes it on the device it is called with (the runner's
    /// per-device engine factory, <c>InferenceRunnerOptions.EngineFactory</c> or <c>new InferenceRunner(factory, options)</c>).
    /// </summary>
    /// <param name="enginePath">The <c>.engine</c> / <c>.plan</c> file.</param>
    /// <param name="expected">The expected signature, usually the generated class's <c>Signature</c>.</param>
    /// <param name="options">Library paths, version check, allocation strategy; <see cref="TensorRtEngineOptions.DeviceOrdinal"/> is replaced by the factory's argument.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static Func<int, IInferenceEngine> CreateFactory(string enginePath, BindingManifest expected, TensorRtEngineOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(enginePath);
        ArgumentNullException.ThrowIfNull(expected);
        if (!File.Exists(enginePath))
            throw new FileNotFoundException($"The TensorRT engine '{enginePath}' does not exist.", enginePath);
        byte[] bytes = File.ReadAllBytes(enginePath);
        options ??= new TensorRtEngineOptions();
        return device => Load(bytes, expected, Path.GetFileName(enginePath), $"The TensorRT engine '{enginePath}' (device {device})", WithDevice(options, device));
    }

    private static TensorRtEngineOptions WithDevice(TensorRtEngineOptions o, int device) => new()
    {
        NativeLibraryPath = o.NativeLibraryPath,
        TensorRtLibraryPath = o.TensorRtLibraryPath,
        CheckPlanVersion = o.CheckPlanVersion,
        AllocationStrategy = o.AllocationStrategy,
        PlacementForTesting = o.PlacementForTesting,
        DeviceOrdinal = device,
    };

    private static TensorRtEngine Load(ReadOnlySpan<byte> engineFile, BindingManifest expected, string fileName, string description, TensorRtEngineOptions? options)
    {
        options ??= new TensorRtEngineOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(options.DeviceOrdinal, nameof(options));
        // TensorRT deserializes on the current device: make the requested device's primary context current first.
        // Without a driver TensorRT reports its own error, as before (the plan checks come first).
        CudaContext? cuda = null;
        if (options.PlacementForTesting == BufferPlacement.Device && CudaDriver.IsAvailable)
        {
            cuda = CudaContext.RetainPrimary(options.DeviceOrdinal);
            cuda.MakeCurrent();
        }

        OpenedPlan plan;
        try
        {
            plan = OpenedPlan.Open(engineFile, description, fileName, options);
        }
        catch
        {
            cuda?.Dispose();
            throw;
        }

        try
        {
            SignatureVerifier.Verify(expected, plan.VerificationManifest, compareProfiles: true, description);
            // Same tensors (verified); indices follow the expected (generated) order, layout and source come from the engine.
            var actual = plan.Manifest;
            var signature = new BindingManifest(actual.Source, expected.Tensors.Select(e => actual.Find(e.Name)!), actual.Profiles);
            return new TensorRtEngine(plan, signature, options, description, cuda);
        }
        catch
        {
            plan.Dispose();
            cuda?.Dispose();
            throw;
        }
    }

    /// <summary>The CUDA device the plan was deserialized on.</summary>
    public int DeviceOrdinal => _options.DeviceOrdinal;

    /// <inheritdoc/>
    /// <remarks>The engine's own description (layout, profiles, sha256 of the file) with the tensors in the expected signature's order.</remarks>
    public BindingManifest Signature { get; }

    /// <inheritdoc/>
    public BufferPlacement Placement => _options.PlacementForTesting;

    /// <summary>The engine's name (may be empty).</summary>
    public string Name { get; }

    /// <summary>The TensorRT version that built the plan (from its header).</summary>
    public Version PlanVersion { get; }

    /// <summary>The TensorRT version this process loaded.</summary>
    public Version LoadedTensorRtVersion { get; }

    /// <summary>Number of optimization profiles.</summary>
    public int ProfileCount { get; }

    internal byte[][] TensorNamesUtf8 { get; }

    internal nint Handle => _engine;

    /// <summary>Activation memory a context needs for <paramref name="profileIndex"/> in bytes; -1 for the maximum over all profiles.</summary>
    public long GetDeviceMemorySize(int profileIndex)
    {
        ThrowIfDisposed();
        long bytes = 0;
        Native.Check(NativeMethods.EngineDeviceMemorySize(_engine, profileIndex, &bytes), "ttrt_engine_device_memory_size");
        return bytes;
    }

    /// <inheritdoc/>
    public IEngineContext CreateContext()
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            _cuda?.MakeCurrent(); // the context's activation memory lives on the engine's device
            nint context;
            Native.Check(NativeMethods.ContextCreate(_engine, (int)_options.AllocationStrategy, &context), "ttrt_context_create");
            _liveContexts++;
            return new TensorRtExecutionContext(this, context);
        }
    }

    internal void OnContextDestroyed()
    {
        lock (_gate)
            _liveContexts--;
    }

    /// <summary>Destroys the engine, then its runtime.</summary>
    /// <exception cref="InvalidOperationException">Execution contexts created from this engine are still alive (dispose them, or the runner using them, first).</exception>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            if (_liveContexts > 0)
            {
                throw new InvalidOperationException(
                    $"{_description} still has {_liveContexts} live execution context(s). Dispose them (or the InferenceRunner using them) " +
                    "before the engine: TensorRT requires contexts to be destroyed before their engine, and the engine before its runtime.");
            }

            _cuda?.MakeCurrent();
            Native.Check(NativeMethods.EngineDestroy(_engine), "ttrt_engine_destroy");
            _engine = 0;
            Native.Check(NativeMethods.RuntimeDestroy(_runtime), "ttrt_runtime_destroy");
            _runtime = 0;
            _disposed = true;
            _cuda?.Dispose();
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}

/// <summary>One TensorRT execution context; tensor indices map to the engine's names once, at engine load.</summary>
internal sealed unsafe class TensorRtExecutionContext : IEngineContext
{
    /// <summary>What Host placement (the test fake) passes instead of stream 0: any value but 0, 1 and 2 (the default streams).</summary>
    internal const nint HostDummyStream = 0x100;

    private readonly TensorRtEngine _engine;
    private readonly byte[][] _names;
    private readonly bool _host;
    private readonly GCHandle[] _allocators;
    private nint _context;

    internal TensorRtExecutionContext(TensorRtEngine engine, nint context)
    {
        _engine = engine;
        _context = context;
        _names = engine.TensorNamesUtf8;
        _host = engine.Placement == BufferPlacement.Host;
        _allocators = new GCHandle[_names.Length];
    }

    /// <summary>One output's allocator as the shim's callbacks see it (user data: a GCHandle to this).</summary>
    private sealed class AllocatorBinding(IOutputAllocator allocator, int tensorIndex, int rank)
    {
        public IOutputAllocator Allocator { get; } = allocator;
        public int TensorIndex { get; } = tensorIndex;
        public int Rank { get; } = rank;
    }

    public void SetOutputAllocator(int tensorIndex, IOutputAllocator? allocator)
    {
        Check();
        var t = _engine.Signature.Tensors[(uint)tensorIndex < (uint)_names.Length ? tensorIndex : throw new ArgumentOutOfRangeException(nameof(tensorIndex), tensorIndex, $"The engine has {_names.Length} tensors.")];
        if (t.Mode != TensorMode.Output)
            throw new ArgumentException($"'{t.Name}' is an input; only outputs take an output allocator.", nameof(tensorIndex));
        if (ShimLibrary.LoadedAbiMinor < 1)
            throw new NotSupportedException($"The loaded TypedTrt shim implements C ABI 1.{ShimLibrary.LoadedAbiMinor}, which cannot size outputs at run time (ttrt_context_set_output_allocator is ABI 1.1); rebuild the shim from this TypedTrt version's native/ folder (see docs/tensorrt.md).");
        GCHandle handle = allocator is null ? default : GCHandle.Alloc(new AllocatorBinding(allocator, tensorIndex, t.Rank));
        int status;
        fixed (byte* name = Name(tensorIndex))
        {
            status = allocator is null
                ? NativeMethods.ContextSetOutputAllocator(_context, name, null, null, 0)
                : NativeMethods.ContextSetOutputAllocator(_context, name, &Reallocate, &NotifyShape, GCHandle.ToIntPtr(handle));
        }

        if (status != Status.Ok)
        {
            if (handle.IsAllocated)
                handle.Free();
            Native.Check(status, "ttrt_context_set_output_allocator");
        }

        if (_allocators[tensorIndex].IsAllocated)
            _allocators[tensorIndex].Free();
        _allocators[tensorIndex] = handle;
    }

    // TensorRT's reallocateOutputAsync, on the enqueueing thread. Nothing may throw into native code: a failure is
    // NULL, which fails the enqueue with TensorRT's error.
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static nint Reallocate(nint user, byte* name, nint current, ulong size, ulong alignment, nint stream)
    {
        try
        {
            var b = (AllocatorBinding)GCHandle.FromIntPtr(user).Target!;
            return b.Allocator.ReallocateOutput(b.TensorIndex, current, checked((long)size), checked((long)alignment), stream);
        }
#pragma warning disable CA1031 // must not unwind into native code
        catch (Exception)
#pragma warning restore CA1031
        {
            return 0;
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void NotifyShape(nint user, byte* name, TtrtDims* dims)
    {
        try
        {
            var b = (AllocatorBinding)GCHandle.FromIntPtr(user).Target!;
            int rank = Math.Clamp(dims->NbDims, 0, TtrtDims.MaxDims);
            Span<long> shape = stackalloc long[TtrtDims.MaxDims];
            for (int i = 0; i < rank; i++)
                shape[i] = dims->D[i];
            b.Allocator.NotifyShape(b.TensorIndex, shape[..rank]);
        }
#pragma warning disable CA1031 // must not unwind into native code
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    public void SetOptimizationProfile(int profileIndex, nint stream)
    {
        Check();
        Native.Check(NativeMethods.ContextSetProfile(_context, profileIndex, stream), "ttrt_context_set_profile");
    }

    public void SetInputShape(int tensorIndex, ReadOnlySpan<long> dims)
    {
        Check();
        var d = TtrtDims.From(dims);
        fixed (byte* name = Name(tensorIndex))
            Native.Check(NativeMethods.ContextSetInputShape(_context, name, &d), "ttrt_context_set_input_shape");
    }

    public int GetTensorShape(int tensorIndex, Span<long> dims)
    {
        Check();
        TtrtDims d;
        fixed (byte* name = Name(tensorIndex))
            Native.Check(NativeMethods.ContextTensorShape(_context, name, &d), "ttrt_context_tensor_shape");
        if (d.NbDims < 0 || d.NbDims > TtrtDims.MaxDims)
            throw new TensorRtException(TensorRtStatus.TensorRtError, "ttrt_context_tensor_shape", $"TensorRT reported rank {d.NbDims} for '{_engine.Signature.Tensors[tensorIndex].Name}'");
        if (dims.Length < d.NbDims)
            throw new ArgumentException($"The span has room for {dims.Length} dimensions; '{_engine.Signature.Tensors[tensorIndex].Name}' has {d.NbDims}.", nameof(dims));
        for (int i = 0; i < d.NbDims; i++)
            dims[i] = d.D[i];
        return d.NbDims;
    }

    public void SetTensorAddress(int tensorIndex, nint address, long capacityBytes)
    {
        Check();
        ArgumentOutOfRangeException.ThrowIfNegative(capacityBytes);
        fixed (byte* name = Name(tensorIndex))
            Native.Check(NativeMethods.ContextSetTensorAddress(_context, name, address), "ttrt_context_set_tensor_address");
    }

    public void Enqueue(nint stream)
    {
        Check();
        if (_host && stream == 0)
            stream = HostDummyStream;
        Native.Check(NativeMethods.ContextEnqueue(_context, stream), "ttrt_context_enqueue");
    }

    /// <summary>Whether every input shape is set (TensorRT's <c>allInputDimensionsSpecified</c>).</summary>
    internal bool AllInputDimsSpecified()
    {
        Check();
        int specified = 0;
        Native.Check(NativeMethods.ContextAllInputDimsSpecified(_context, &specified), "ttrt_context_all_input_dims_specified");
        return specified != 0;
    }

    public void Dispose()
    {
        if (_context == 0)
            return;
        Native.Check(NativeMethods.ContextDestroy(_context), "ttrt_context_destroy");
        _context = 0;
        for (int i = 0; i < _allocators.Length; i++)
        {
            if (_allocators[i].IsAllocated)
                _allocators[i].Free();
        }

        _engine.OnContextDestroyed();
    }

    private byte[] Name(int tensorIndex)
    {
        if ((uint)tensorIndex >= (uint)_names.Length)
            throw new ArgumentOutOfRangeException(nameof(tensorIndex), tensorIndex, $"The engine has {_names.Length} tensors.");
        return _names[tensorIndex];
    }

    private void Check() => ObjectDisposedException.ThrowIf(_context == 0, this);
}
