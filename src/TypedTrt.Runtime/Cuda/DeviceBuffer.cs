namespace TypedTrt.Runtime.Cuda;

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
