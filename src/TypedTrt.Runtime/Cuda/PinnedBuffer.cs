namespace TypedTrt.Runtime.Cuda;

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
