using System.Text;

namespace TypedTrt.Runtime.Cuda;

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
