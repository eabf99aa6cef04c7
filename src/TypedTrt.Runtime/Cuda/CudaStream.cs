namespace TypedTrt.Runtime.Cuda;

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
