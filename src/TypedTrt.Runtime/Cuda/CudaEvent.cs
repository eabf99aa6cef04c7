namespace TypedTrt.Runtime.Cuda;

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
