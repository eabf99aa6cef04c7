using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TypedTrt.Runtime.Cuda;

/// <summary>
/// Source-generated (AOT-safe) imports of the CUDA driver API. The library name is a logical one that
/// <see cref="CudaDriver"/> resolves to <c>libcuda.so.1</c> / <c>nvcuda.dll</c>; callers must go through
/// <see cref="CudaDriver.EnsureInitialized"/> first so a missing driver is a <see cref="CudaUnavailableException"/>.
/// </summary>
internal static unsafe partial class CudaNative
{
    internal const string Lib = "typedtrt-cuda-driver";

    internal const uint CU_STREAM_NON_BLOCKING = 1;
    internal const uint CU_EVENT_DEFAULT = 0;
    internal const uint CU_EVENT_DISABLE_TIMING = 2;
    internal const uint CU_MEMHOSTALLOC_PORTABLE = 1;
    internal const int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    internal const int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
    internal const int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
    internal const int CU_DEVICE_ATTRIBUTE_HOST_NUMA_ID = 134; // CUDA 12.2+; -1 when the system has no NUMA

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuInit(uint flags);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuDriverGetVersion(int* version);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuGetErrorName(int error, byte** name);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuGetErrorString(int error, byte** text);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuDeviceGet(int* device, int ordinal);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuDeviceGetCount(int* count);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuDeviceGetName(byte* name, int length, int device);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuDeviceGetAttribute(int* value, int attribute, int device);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuDevicePrimaryCtxRetain(nint* context, int device);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuDevicePrimaryCtxRelease_v2(int device);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuCtxSetCurrent(nint context);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuCtxGetCurrent(nint* context);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuCtxSynchronize();

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuMemGetInfo_v2(nuint* free, nuint* total);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuMemAlloc_v2(ulong* devicePointer, nuint bytes);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuMemFree_v2(ulong devicePointer);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuMemHostAlloc(void** pointer, nuint bytes, uint flags);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuMemFreeHost(void* pointer);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuMemHostRegister_v2(void* pointer, nuint bytes, uint flags);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuMemHostUnregister(void* pointer);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuMemcpyHtoDAsync_v2(ulong destination, void* source, nuint bytes, nint stream);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuMemcpyDtoHAsync_v2(void* destination, ulong source, nuint bytes, nint stream);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuMemsetD8Async(ulong destination, byte value, nuint count, nint stream);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuStreamCreate(nint* stream, uint flags);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuStreamDestroy_v2(nint stream);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuStreamSynchronize(nint stream);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuStreamQuery(nint stream);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuStreamAddCallback(nint stream, delegate* unmanaged[Cdecl]<nint, int, nint, void> callback, nint userData, uint flags);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuLaunchHostFunc(nint stream, delegate* unmanaged[Cdecl]<nint, void> function, nint userData);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuEventCreate(nint* evt, uint flags);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuEventRecord(nint evt, nint stream);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuEventQuery(nint evt);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuEventSynchronize(nint evt);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuEventElapsedTime(float* milliseconds, nint start, nint end);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuEventDestroy_v2(nint evt);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuModuleLoadData(nint* module, void* image);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuModuleUnload(nint module);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuModuleGetFunction(nint* function, nint module, byte* name);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuLaunchKernel(
        nint function, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint blockZ,
        uint sharedMemBytes, nint stream, void** kernelParams, void** extra);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuStreamBeginCapture_v2(nint stream, int mode);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuStreamEndCapture(nint stream, nint* graph);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuGraphInstantiateWithFlags(nint* graphExec, nint graph, ulong flags);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuGraphLaunch(nint graphExec, nint stream);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuGraphExecDestroy(nint graphExec);

    [LibraryImport(Lib), UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int cuGraphDestroy(nint graph);
}
