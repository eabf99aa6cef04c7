namespace TypedTrt.Runtime.Cuda;

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

    /// <summary>
    /// Allocates pinned host memory on <paramref name="numaNode"/> (Linux with several NUMA nodes; e.g.
    /// <see cref="CudaDriver.GetHostNumaNode"/> of this device); elsewhere, or if the kernel refuses, like
    /// <see cref="AllocatePinned(long)"/>. <see cref="PinnedBuffer.NumaNode"/> tells which happened.
    /// </summary>
    public PinnedBuffer AllocatePinned(long bytes, int numaNode) => new(this, bytes, numaNode);

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
