using System.Runtime.InteropServices;

namespace TypedTrt.Runtime.Cuda;

/// <summary>
/// Linux host memory placed on one NUMA node: anonymous pages (<c>mmap</c>) with a preferred-node policy
/// (<c>mbind</c>, <c>MPOL_PREFERRED</c>) set before the pages are touched, so that pinning them
/// (<c>cuMemHostRegister</c>) faults them in on that node. Used for the pinned buffers of a device whose closest host
/// node the driver reports (<c>CU_DEVICE_ATTRIBUTE_HOST_NUMA_ID</c>) on machines with several nodes.
/// </summary>
internal static unsafe partial class NumaHostMemory
{
    private const string Libc = "libc.so.6";
    private const int ProtReadWrite = 0x1 | 0x2, MapPrivateAnonymous = 0x02 | 0x20, MpolPreferred = 1;

    /// <summary>Whether placement can matter here: Linux with more than one online NUMA node, <paramref name="node"/> among them.</summary>
    public static bool CanPlace(int node) =>
        OperatingSystem.IsLinux() && node is >= 0 and < 64
        && Directory.Exists($"/sys/devices/system/node/node{node}") && Directory.Exists("/sys/devices/system/node/node1");

    /// <summary>Maps <paramref name="bytes"/> (rounded up to pages) preferring <paramref name="node"/>; 0 when the kernel refuses (the caller falls back).</summary>
    public static nint Map(long bytes, int node, out nuint mapped)
    {
        mapped = Round(bytes);
        nint p;
        try
        {
            p = mmap(0, mapped, ProtReadWrite, MapPrivateAnonymous, -1, 0);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return 0;
        }

        if (p == -1)
            return 0;
        ulong mask = 1UL << node;
        long sysMbind = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 235 : 237;
        if (RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.Arm64)
            || syscall(sysMbind, p, (nint)mapped, MpolPreferred, (nint)(&mask), 65, 0) != 0)
        {
            _ = munmap(p, mapped);
            return 0;
        }

        return p;
    }

    public static void Unmap(nint pointer, nuint mapped) => _ = munmap(pointer, mapped);

    private static nuint Round(long bytes)
    {
        long page = Environment.SystemPageSize;
        return (nuint)((bytes + page - 1) / page * page);
    }

    [LibraryImport(Libc)]
    private static partial nint mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport(Libc)]
    private static partial int munmap(nint address, nuint length);

    [LibraryImport(Libc)]
    private static partial long syscall(long number, nint a1, nint a2, int a3, nint a4, long a5, int a6);
}
