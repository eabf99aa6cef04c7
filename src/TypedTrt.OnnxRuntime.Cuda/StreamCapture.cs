using System.Runtime.InteropServices;

namespace TypedTrt.OnnxRuntime.Cuda;

/// <summary>
/// Asks the CUDA driver whether a stream is being captured into a graph (<c>cuStreamIsCapturing</c>), so a run inside
/// the runner's own capture can refuse cleanly instead of failing inside ONNX Runtime. The driver is already loaded by
/// TypedTrt.Runtime when this is called; this resolves the one export it needs from the same library.
/// </summary>
internal static unsafe class StreamCapture
{
    private static readonly delegate* unmanaged<nint, int*, int> s_isCapturing = Resolve();

    private static delegate* unmanaged<nint, int*, int> Resolve()
    {
        string[] names = OperatingSystem.IsWindows() ? ["nvcuda.dll"] : ["libcuda.so.1", "libcuda.so"];
        foreach (string name in names)
        {
            if (NativeLibrary.TryLoad(name, out nint lib) && NativeLibrary.TryGetExport(lib, "cuStreamIsCapturing", out nint fn))
                return (delegate* unmanaged<nint, int*, int>)fn;
        }

        return null;
    }

    /// <summary>Whether <paramref name="stream"/> is capturing (or its capture was invalidated); false when it cannot be asked.</summary>
    public static bool IsCapturing(nint stream)
    {
        if (s_isCapturing == null)
            return false;
        int status = 0;
        return s_isCapturing(stream, &status) == 0 && status != 0;
    }
}
