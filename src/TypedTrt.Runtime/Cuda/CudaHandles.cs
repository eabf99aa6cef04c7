using System.Runtime.InteropServices;
using System.Text;

namespace TypedTrt.Runtime.Cuda;

/// <summary>Counts of live allocations made through this library (for leak checks and diagnostics).</summary>
public static class CudaDiagnostics
{
    private static long s_deviceAllocations, s_deviceBytes, s_pinnedAllocations, s_pinnedBytes;

    /// <summary>Live device allocations (<see cref="DeviceBuffer"/>).</summary>
    public static long LiveDeviceAllocations => Interlocked.Read(ref s_deviceAllocations);

    /// <summary>Bytes in live device allocations.</summary>
    public static long LiveDeviceBytes => Interlocked.Read(ref s_deviceBytes);

    /// <summary>Live pinned host allocations (<see cref="PinnedBuffer"/>).</summary>
    public static long LivePinnedAllocations => Interlocked.Read(ref s_pinnedAllocations);

    /// <summary>Bytes in live pinned host allocations.</summary>
    public static long LivePinnedBytes => Interlocked.Read(ref s_pinnedBytes);

    internal static void Device(long bytes, int sign)
    {
        Interlocked.Add(ref s_deviceAllocations, sign);
        Interlocked.Add(ref s_deviceBytes, sign * bytes);
    }

    internal static void Pinned(long bytes, int sign)
    {
        Interlocked.Add(ref s_pinnedAllocations, sign);
        Interlocked.Add(ref s_pinnedBytes, sign * bytes);
    }
}

/// <summary>
/// A retained primary context of one device (<c>cuDevicePrimaryCtxRetain</c>/<c>Release</c>). Every object created
/// from it makes it current on the calling thread (<c>cuCtxSetCurrent</c>) before its driver calls. Thread-safe.
/// </summary>
public sealed class CudaContext : IDisposable
{
    private nint _handle;
    private int _disposed;

    private CudaContext(int ordinal, int device, nint handle)
    {
        DeviceOrdinal = ordinal;
        Device = device;
        _handle = handle;
    }

    /// <summary>Retains the primary context of device <paramref name="ordinal"/>.</summary>
    /// <exception cref="CudaUnavailableException">No driver or no device.</exception>
    /// <exception cref="CudaException">The driver call failed.</exception>
    public static unsafe CudaContext RetainPrimary(int ordinal = 0)
    {
        int dev = CudaDriver.GetDevice(ordinal);
        nint ctx;
        CudaException.Check(CudaNative.cuDevicePrimaryCtxRetain(&ctx, dev), "cuDevicePrimaryCtxRetain");
        return new CudaContext(ordinal, dev, ctx);
    }

    /// <summary>The device ordinal.</summary>
    public int DeviceOrdinal { get; }

    internal int Device { get; }

    /// <summary>The raw <c>CUcontext</c>.</summary>
    public nint Handle => _handle;

    /// <summary>Makes this context current on the calling thread (<c>cuCtxSetCurrent</c>).</summary>
    public void MakeCurrent()
    {
        ObjectDisposedException.ThrowIf(_handle == 0, this);
        CudaException.Check(CudaNative.cuCtxSetCurrent(_handle), "cuCtxSetCurrent");
    }

    /// <summary>Waits for all work in the context (<c>cuCtxSynchronize</c>).</summary>
    public void Synchronize()
    {
        MakeCurrent();
        CudaException.Check(CudaNative.cuCtxSynchronize(), "cuCtxSynchronize");
    }

    /// <summary>Free and total device memory in bytes (<c>cuMemGetInfo_v2</c>).</summary>
    public unsafe (long Free, long Total) GetMemoryInfo()
    {
        MakeCurrent();
        nuint free, total;
        CudaException.Check(CudaNative.cuMemGetInfo_v2(&free, &total), "cuMemGetInfo_v2");
        return ((long)free, (long)total);
    }

    /// <summary>Creates a non-blocking stream on this context.</summary>
    public CudaStream CreateStream() => new(this);

    /// <summary>Creates an event on this context.</summary>
    public CudaEvent CreateEvent(bool enableTiming = false) => new(this, enableTiming);

    /// <summary>Allocates device memory (at least 256-byte aligned).</summary>
    public DeviceBuffer Allocate(long bytes) => new(this, bytes);

    /// <summary>Allocates pinned (page-locked) host memory.</summary>
    public PinnedBuffer AllocatePinned(long bytes) => new(this, bytes);

    /// <summary>Loads a module from PTX text or a cubin/fatbin image.</summary>
    public CudaModule LoadModule(ReadOnlySpan<byte> image) => new(this, image);

    /// <summary>Releases the primary context reference (<c>cuDevicePrimaryCtxRelease_v2</c>).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _handle = 0;
        CudaException.Check(CudaNative.cuDevicePrimaryCtxRelease_v2(Device), "cuDevicePrimaryCtxRelease_v2");
    }
}

/// <summary>A non-blocking CUDA stream (<c>cuStreamCreate(CU_STREAM_NON_BLOCKING)</c>).</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "Named after the CUDA concept (CUstream), not System.IO.Stream.")]
public sealed class CudaStream : IDisposable
{
    private readonly CudaContext _context;
    private nint _handle;

    internal unsafe CudaStream(CudaContext context)
    {
        _context = context;
        context.MakeCurrent();
        nint s;
        CudaException.Check(CudaNative.cuStreamCreate(&s, CudaNative.CU_STREAM_NON_BLOCKING), "cuStreamCreate");
        _handle = s;
    }

    /// <summary>The raw <c>CUstream</c>.</summary>
    public nint Handle => _handle;

    /// <summary>Blocks until all work on the stream is done (<c>cuStreamSynchronize</c>).</summary>
    public void Synchronize()
    {
        ObjectDisposedException.ThrowIf(_handle == 0, this);
        _context.MakeCurrent();
        CudaException.Check(CudaNative.cuStreamSynchronize(_handle), "cuStreamSynchronize");
    }

    /// <summary>Whether all work on the stream is done (<c>cuStreamQuery</c>); throws on a stream error.</summary>
    public bool IsIdle()
    {
        ObjectDisposedException.ThrowIf(_handle == 0, this);
        int rc = CudaNative.cuStreamQuery(_handle);
        if (rc == 600)
            return false;
        CudaException.Check(rc, "cuStreamQuery");
        return true;
    }

    /// <summary>Enqueues an asynchronous host-to-device copy.</summary>
    public unsafe void CopyToDevice(DeviceBuffer destination, nint source, long bytes)
    {
        ArgumentNullException.ThrowIfNull(destination);
        CheckRange(bytes, destination.Bytes);
        CudaException.Check(CudaNative.cuMemcpyHtoDAsync_v2(destination.Address, (void*)source, (nuint)bytes, _handle), "cuMemcpyHtoDAsync_v2");
    }

    /// <summary>Enqueues an asynchronous device-to-host copy.</summary>
    public unsafe void CopyToHost(nint destination, DeviceBuffer source, long bytes)
    {
        ArgumentNullException.ThrowIfNull(source);
        CheckRange(bytes, source.Bytes);
        CudaException.Check(CudaNative.cuMemcpyDtoHAsync_v2((void*)destination, source.Address, (nuint)bytes, _handle), "cuMemcpyDtoHAsync_v2");
    }

    /// <summary>Begins capturing the stream's work into a graph (<c>cuStreamBeginCapture_v2</c>, thread-local mode).</summary>
    public void BeginCapture()
    {
        _context.MakeCurrent();
        CudaException.Check(CudaNative.cuStreamBeginCapture_v2(_handle, 1), "cuStreamBeginCapture_v2");
    }

    /// <summary>Ends the capture and instantiates the captured graph.</summary>
    public unsafe CudaGraph EndCapture()
    {
        _context.MakeCurrent();
        nint graph;
        CudaException.Check(CudaNative.cuStreamEndCapture(_handle, &graph), "cuStreamEndCapture");
        return new CudaGraph(_context, graph);
    }

    /// <summary>Destroys the stream (<c>cuStreamDestroy_v2</c>; pending work still completes).</summary>
    public void Dispose()
    {
        nint h = Interlocked.Exchange(ref _handle, 0);
        if (h == 0)
            return;
        _context.MakeCurrent();
        CudaException.Check(CudaNative.cuStreamDestroy_v2(h), "cuStreamDestroy_v2");
    }

    private static void CheckRange(long bytes, long capacity)
    {
        if ((ulong)bytes > (ulong)capacity)
            throw new ArgumentOutOfRangeException(nameof(bytes), bytes, $"The copy exceeds the buffer's {capacity} bytes.");
    }
}

/// <summary>A CUDA event (<c>cuEventCreate</c>).</summary>
public sealed class CudaEvent : IDisposable
{
    private readonly CudaContext _context;
    private nint _handle;

    internal unsafe CudaEvent(CudaContext context, bool enableTiming)
    {
        _context = context;
        context.MakeCurrent();
        nint e;
        CudaException.Check(CudaNative.cuEventCreate(&e, enableTiming ? CudaNative.CU_EVENT_DEFAULT : CudaNative.CU_EVENT_DISABLE_TIMING), "cuEventCreate");
        _handle = e;
    }

    /// <summary>The raw <c>CUevent</c>.</summary>
    public nint Handle => _handle;

    /// <summary>Records the event on a stream (<c>cuEventRecord</c>).</summary>
    public void Record(CudaStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        CudaException.Check(CudaNative.cuEventRecord(_handle, stream.Handle), "cuEventRecord");
    }

    /// <summary>Whether the recorded work is done (<c>cuEventQuery</c>); throws on error.</summary>
    public bool IsComplete()
    {
        int rc = CudaNative.cuEventQuery(_handle);
        if (rc == 600)
            return false;
        CudaException.Check(rc, "cuEventQuery");
        return true;
    }

    /// <summary>Blocks until the event completes (<c>cuEventSynchronize</c>).</summary>
    public void Synchronize() => CudaException.Check(CudaNative.cuEventSynchronize(_handle), "cuEventSynchronize");

    /// <summary>Milliseconds between <paramref name="start"/> and this event (both created with timing).</summary>
    public unsafe float ElapsedSince(CudaEvent start)
    {
        ArgumentNullException.ThrowIfNull(start);
        float ms;
        CudaException.Check(CudaNative.cuEventElapsedTime(&ms, start._handle, _handle), "cuEventElapsedTime");
        return ms;
    }

    /// <summary>Destroys the event (<c>cuEventDestroy_v2</c>).</summary>
    public void Dispose()
    {
        nint h = Interlocked.Exchange(ref _handle, 0);
        if (h == 0)
            return;
        _context.MakeCurrent();
        CudaException.Check(CudaNative.cuEventDestroy_v2(h), "cuEventDestroy_v2");
    }
}

/// <summary>Device memory (<c>cuMemAlloc_v2</c>; at least 256-byte aligned). Must be disposed: there is no finalizer.</summary>
public sealed class DeviceBuffer : IDisposable
{
    private readonly CudaContext _context;
    private ulong _address;

    internal unsafe DeviceBuffer(CudaContext context, long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        _context = context;
        context.MakeCurrent();
        ulong p;
        CudaException.Check(CudaNative.cuMemAlloc_v2(&p, (nuint)bytes), "cuMemAlloc_v2");
        _address = p;
        Bytes = bytes;
        CudaDiagnostics.Device(bytes, +1);
    }

    /// <summary>The device address (<c>CUdeviceptr</c>).</summary>
    public ulong Address => _address;

    /// <summary>The size in bytes.</summary>
    public long Bytes { get; }

    /// <summary>Frees the memory (<c>cuMemFree_v2</c>).</summary>
    public void Dispose()
    {
        ulong p = Interlocked.Exchange(ref _address, 0);
        if (p == 0)
            return;
        _context.MakeCurrent();
        CudaDiagnostics.Device(Bytes, -1);
        CudaException.Check(CudaNative.cuMemFree_v2(p), "cuMemFree_v2");
    }
}

/// <summary>Pinned (page-locked) host memory (<c>cuMemHostAlloc</c>, portable). Must be disposed: there is no finalizer.</summary>
public sealed class PinnedBuffer : IDisposable
{
    private readonly CudaContext _context;
    private nint _pointer;

    internal unsafe PinnedBuffer(CudaContext context, long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        _context = context;
        context.MakeCurrent();
        void* p;
        CudaException.Check(CudaNative.cuMemHostAlloc(&p, (nuint)bytes, CudaNative.CU_MEMHOSTALLOC_PORTABLE), "cuMemHostAlloc");
        _pointer = (nint)p;
        Bytes = bytes;
        CudaDiagnostics.Pinned(bytes, +1);
    }

    /// <summary>The host address.</summary>
    public nint Pointer => _pointer;

    /// <summary>The size in bytes.</summary>
    public long Bytes { get; }

    /// <summary>The memory as a span of bytes (valid until disposal).</summary>
    public unsafe Span<byte> AsSpan()
    {
        ObjectDisposedException.ThrowIf(_pointer == 0, this);
        return new Span<byte>((void*)_pointer, checked((int)Bytes));
    }

    /// <summary>Frees the memory (<c>cuMemFreeHost</c>).</summary>
    public unsafe void Dispose()
    {
        nint p = Interlocked.Exchange(ref _pointer, 0);
        if (p == 0)
            return;
        _context.MakeCurrent();
        CudaDiagnostics.Pinned(Bytes, -1);
        CudaException.Check(CudaNative.cuMemFreeHost((void*)p), "cuMemFreeHost");
    }
}

/// <summary>A loaded module (<c>cuModuleLoadData</c>).</summary>
public sealed class CudaModule : IDisposable
{
    private readonly CudaContext _context;
    private nint _handle;

    internal unsafe CudaModule(CudaContext context, ReadOnlySpan<byte> image)
    {
        _context = context;
        // PTX must be NUL-terminated; copy with a terminator.
        byte[] copy = new byte[image.Length + 1];
        image.CopyTo(copy);
        context.MakeCurrent();
        nint m;
        fixed (byte* p = copy)
            CudaException.Check(CudaNative.cuModuleLoadData(&m, p), "cuModuleLoadData");
        _handle = m;
    }

    /// <summary>Looks a kernel up by its (extern "C") name (<c>cuModuleGetFunction</c>).</summary>
    public unsafe CudaFunction GetFunction(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ObjectDisposedException.ThrowIf(_handle == 0, this);
        byte[] utf8 = Encoding.UTF8.GetBytes(name + "\0");
        nint f;
        fixed (byte* p = utf8)
            CudaException.Check(CudaNative.cuModuleGetFunction(&f, _handle, p), $"cuModuleGetFunction({name})");
        return new CudaFunction(f, name);
    }

    /// <summary>Unloads the module (<c>cuModuleUnload</c>).</summary>
    public void Dispose()
    {
        nint h = Interlocked.Exchange(ref _handle, 0);
        if (h == 0)
            return;
        _context.MakeCurrent();
        CudaException.Check(CudaNative.cuModuleUnload(h), "cuModuleUnload");
    }
}

/// <summary>A kernel of a loaded module; valid while the module is loaded.</summary>
public readonly struct CudaFunction : IEquatable<CudaFunction>
{
    internal CudaFunction(nint handle, string name)
    {
        Handle = handle;
        Name = name;
    }

    /// <summary>The raw <c>CUfunction</c>.</summary>
    public nint Handle { get; }

    /// <summary>The kernel's name.</summary>
    public string Name { get; }

    /// <summary>
    /// Launches the kernel (<c>cuLaunchKernel</c>) on <paramref name="stream"/>. <paramref name="arguments"/> holds one
    /// pointer per kernel parameter, each pointing at that parameter's value. The caller's context must be current.
    /// </summary>
    public unsafe void Launch(uint gridX, uint blockX, nint stream, ReadOnlySpan<nint> arguments, uint sharedMemoryBytes = 0)
    {
        fixed (nint* args = arguments)
        {
            CudaException.Check(
                CudaNative.cuLaunchKernel(Handle, gridX, 1, 1, blockX, 1, 1, sharedMemoryBytes, stream, (void**)args, null),
                "cuLaunchKernel");
        }
    }

    /// <inheritdoc/>
    public bool Equals(CudaFunction other) => Handle == other.Handle;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is CudaFunction f && Equals(f);

    /// <inheritdoc/>
    public override int GetHashCode() => Handle.GetHashCode();

    /// <summary>Equality by handle.</summary>
    public static bool operator ==(CudaFunction left, CudaFunction right) => left.Equals(right);

    /// <summary>Inequality by handle.</summary>
    public static bool operator !=(CudaFunction left, CudaFunction right) => !left.Equals(right);
}

/// <summary>A captured graph and its executable instance (<c>cuGraphInstantiateWithFlags</c>).</summary>
public sealed class CudaGraph : IDisposable
{
    private readonly CudaContext _context;
    private nint _graph;
    private nint _exec;

    internal unsafe CudaGraph(CudaContext context, nint graph)
    {
        _context = context;
        _graph = graph;
        nint exec;
        int rc = CudaNative.cuGraphInstantiateWithFlags(&exec, graph, 0);
        if (rc != 0)
        {
            _ = CudaNative.cuGraphDestroy(graph);
            CudaException.Check(rc, "cuGraphInstantiateWithFlags");
        }

        _exec = exec;
    }

    /// <summary>The raw <c>CUgraphExec</c>.</summary>
    internal nint ExecHandle => _exec;

    /// <summary>Launches the graph on a stream (<c>cuGraphLaunch</c>).</summary>
    public void Launch(CudaStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ObjectDisposedException.ThrowIf(_exec == 0, this);
        CudaException.Check(CudaNative.cuGraphLaunch(_exec, stream.Handle), "cuGraphLaunch");
    }

    /// <summary>Destroys the executable graph and the graph.</summary>
    public void Dispose()
    {
        nint exec = Interlocked.Exchange(ref _exec, 0);
        nint graph = Interlocked.Exchange(ref _graph, 0);
        if (exec == 0 && graph == 0)
            return;
        _context.MakeCurrent();
        if (exec != 0)
            CudaException.Check(CudaNative.cuGraphExecDestroy(exec), "cuGraphExecDestroy");
        if (graph != 0)
            CudaException.Check(CudaNative.cuGraphDestroy(graph), "cuGraphDestroy");
    }
}
