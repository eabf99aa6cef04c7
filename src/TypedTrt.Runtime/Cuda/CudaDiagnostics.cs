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
