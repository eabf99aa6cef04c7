using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace TypedTrt.Runtime.Cuda;

internal static unsafe partial class NvrtcNative
{
    internal const string Lib = "typedtrt-nvrtc";

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial byte* nvrtcGetErrorString(int result);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int nvrtcVersion(int* major, int* minor);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int nvrtcCreateProgram(nint* program, byte* source, byte* name, int numHeaders, byte** headers, byte** includeNames);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int nvrtcCompileProgram(nint program, int numOptions, byte** options);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int nvrtcGetPTXSize(nint program, nuint* size);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int nvrtcGetPTX(nint program, byte* ptx);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int nvrtcGetProgramLogSize(nint program, nuint* size);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int nvrtcGetProgramLog(nint program, byte* log);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int nvrtcDestroyProgram(nint* program);
}

/// <summary>NVRTC (the CUDA run-time compiler) failed; <see cref="Log"/> holds the compiler's log when there is one.</summary>
public class NvrtcException : Exception
{
    /// <summary>Creates the exception.</summary>
    public NvrtcException(int result, string call, string log)
        : base($"{call} failed: {Describe(result)} ({result})" + (string.IsNullOrWhiteSpace(log) ? "" : Environment.NewLine + log.TrimEnd()))
    {
        Result = result;
        Call = call;
        Log = log;
    }

    /// <summary>The <c>nvrtcResult</c> code.</summary>
    public int Result { get; }

    /// <summary>The NVRTC function that failed.</summary>
    public string Call { get; }

    /// <summary>The compile log (may be empty).</summary>
    public string Log { get; }

    private static unsafe string Describe(int result)
    {
        try
        {
            byte* p = NvrtcNative.nvrtcGetErrorString(result);
            return p == null ? "NVRTC error" : Marshal.PtrToStringUTF8((nint)p) ?? "NVRTC error";
        }
        catch (DllNotFoundException)
        {
            return "NVRTC error";
        }
    }
}

/// <summary>Compiles CUDA C++ to PTX at run time with NVRTC (loaded on first use; see <see cref="CudaDriver.NvrtcLibraryNames"/>).</summary>
public static class Nvrtc
{
    /// <summary>NVRTC's version (<c>nvrtcVersion</c>).</summary>
    public static unsafe Version Version
    {
        get
        {
            CudaDriver.EnsureNvrtcLoaded();
            int major, minor;
            Check(NvrtcNative.nvrtcVersion(&major, &minor), "nvrtcVersion", 0);
            return new Version(major, minor);
        }
    }

    /// <summary>Compiles <paramref name="source"/> to NUL-free PTX text bytes.</summary>
    /// <param name="source">CUDA C++ source; kernels to look up by name should be <c>extern "C"</c>.</param>
    /// <param name="name">A file name for messages.</param>
    /// <param name="options">Compiler options, e.g. <c>--gpu-architecture=compute_90</c>.</param>
    /// <exception cref="CudaUnavailableException">NVRTC is not installed.</exception>
    /// <exception cref="NvrtcException">Compilation failed; the message holds the log.</exception>
    public static unsafe byte[] CompileToPtx(string source, string name, params string[] options)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(options);
        CudaDriver.EnsureNvrtcLoaded();
        byte[] src = Encoding.UTF8.GetBytes(source + "\0");
        byte[] nm = Encoding.UTF8.GetBytes(name + "\0");
        nint program;
        fixed (byte* s = src, n = nm)
            Check(NvrtcNative.nvrtcCreateProgram(&program, s, n, 0, null, null), "nvrtcCreateProgram", 0);
        try
        {
            var handles = new GCHandle[options.Length];
            byte** opts = stackalloc byte*[Math.Max(options.Length, 1)];
            try
            {
                for (int i = 0; i < options.Length; i++)
                {
                    handles[i] = GCHandle.Alloc(Encoding.UTF8.GetBytes(options[i] + "\0"), GCHandleType.Pinned);
                    opts[i] = (byte*)handles[i].AddrOfPinnedObject();
                }

                int rc = NvrtcNative.nvrtcCompileProgram(program, options.Length, opts);
                Check(rc, "nvrtcCompileProgram", program);
            }
            finally
            {
                foreach (var h in handles)
                {
                    if (h.IsAllocated)
                        h.Free();
                }
            }

            nuint size;
            Check(NvrtcNative.nvrtcGetPTXSize(program, &size), "nvrtcGetPTXSize", program);
            byte[] ptx = new byte[(int)size];
            fixed (byte* p = ptx)
                Check(NvrtcNative.nvrtcGetPTX(program, p), "nvrtcGetPTX", program);
            int len = Array.IndexOf(ptx, (byte)0);
            return len < 0 ? ptx : ptx[..len];
        }
        finally
        {
            _ = NvrtcNative.nvrtcDestroyProgram(&program);
        }
    }

    private static void Check(int rc, string call, nint program)
    {
        if (rc != 0)
            throw new NvrtcException(rc, call, program == 0 ? "" : GetLog(program));
    }

    private static unsafe string GetLog(nint program)
    {
        nuint size;
        if (NvrtcNative.nvrtcGetProgramLogSize(program, &size) != 0 || size <= 1)
            return "";
        byte[] log = new byte[(int)size];
        fixed (byte* p = log)
        {
            if (NvrtcNative.nvrtcGetProgramLog(program, p) != 0)
                return "";
        }

        return Encoding.UTF8.GetString(log, 0, (int)size - 1);
    }
}
