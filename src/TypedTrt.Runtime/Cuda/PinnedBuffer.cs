namespace TypedTrt.Runtime.Cuda;

/// <summary>
/// Pinned (page-locked) host memory, portable: <c>cuMemHostAlloc</c>, or — placed on a NUMA node — pages mapped with
/// that node preferred and pinned with <c>cuMemHostRegister</c>. Must be disposed: there is no finalizer.
/// </summary>
public sealed class PinnedBuffer : IDisposable
{
    private readonly CudaContext _context;
    private readonly nuint _mapped; // > 0: mmap'd + registered (NUMA placement)
    private nint _pointer;

    internal unsafe PinnedBuffer(CudaContext context, long bytes, int numaNode = -1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        _context = context;
        context.MakeCurrent();
        NumaNode = -1;
        if (NumaHostMemory.CanPlace(numaNode) && NumaHostMemory.Map(bytes, numaNode, out nuint mapped) is var m and not 0)
        {
            if (CudaNative.cuMemHostRegister_v2((void*)m, mapped, CudaNative.CU_MEMHOSTALLOC_PORTABLE) == 0)
            {
                _pointer = m;
                _mapped = mapped;
                NumaNode = numaNode;
            }
            else
            {
                NumaHostMemory.Unmap(m, mapped); // fall back to the driver's allocation
            }
        }

        if (_pointer == 0)
        {
            void* p;
            CudaException.Check(CudaNative.cuMemHostAlloc(&p, (nuint)bytes, CudaNative.CU_MEMHOSTALLOC_PORTABLE), "cuMemHostAlloc");
            _pointer = (nint)p;
        }

        Bytes = bytes;
        CudaDiagnostics.Pinned(bytes, +1);
    }

    /// <summary>
    /// The NUMA node the pages were placed on (preferred policy, pinned after placement), or -1 when the driver
    /// allocated them (<c>cuMemHostAlloc</c>: pages land where the allocating thread runs, the kernel's default).
    /// </summary>
    public int NumaNode { get; }

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
        if (_mapped != 0)
        {
            int rc = CudaNative.cuMemHostUnregister((void*)p);
            NumaHostMemory.Unmap(p, _mapped);
            CudaException.Check(rc, "cuMemHostUnregister");
            return;
        }

        CudaException.Check(CudaNative.cuMemFreeHost((void*)p), "cuMemFreeHost");
    }
}
