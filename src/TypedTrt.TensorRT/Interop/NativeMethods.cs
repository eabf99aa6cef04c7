using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TypedTrt.TensorRT.Interop;

/// <summary>Status codes of the C ABI (<c>TTRT_OK</c>, <c>TTRT_E_*</c> in <c>native/include/typedtrt_shim.h</c>).</summary>
internal static class Status
{
    internal const int Ok = 0;
    internal const int BufferTooSmall = 2;
    internal const int LibraryNotFound = 6;
    internal const int VersionMismatch = 7;
}

/// <summary><c>ttrt_dims</c>: the layout of <c>nvinfer1::Dims64</c>, 72 bytes, 8-byte aligned.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct TtrtDims
{
    /// <summary>TTRT_MAX_DIMS.</summary>
    internal const int MaxDims = 8;

    internal int NbDims;
    internal int Reserved;
    internal fixed long D[MaxDims];

    internal static TtrtDims From(ReadOnlySpan<long> dims)
    {
        if (dims.Length > MaxDims)
            throw new ArgumentException($"TensorRT tensors have at most {MaxDims} dimensions; got {dims.Length}.", nameof(dims));
        var r = default(TtrtDims);
        r.NbDims = dims.Length;
        for (int i = 0; i < dims.Length; i++)
            r.D[i] = dims[i];
        return r;
    }

    internal readonly long[] ToArray()
    {
        if (NbDims < 0 || NbDims > MaxDims)
            throw new InvalidOperationException($"TensorRT reported an invalid shape (rank {NbDims}).");
        var r = new long[NbDims];
        for (int i = 0; i < NbDims; i++)
            r[i] = D[i];
        return r;
    }
}

/// <summary><c>ttrt_tensor_info</c>: 112 bytes, 8-byte aligned; <see cref="Shape"/> at offset 40.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TtrtTensorInfo
{
    internal int IoMode;
    internal int DataType;
    internal int Location;
    internal int IsShapeInferenceIo;
    internal int Format;
    internal int VectorizedDim;
    internal int ComponentsPerElement;
    internal int BytesPerComponent;
    internal int Profile;
    internal int Reserved;
    internal TtrtDims Shape;
}

/// <summary>
/// Every P/Invoke of the shim (C ABI 1.0, <c>native/include/typedtrt_shim.h</c>). The library name is resolved by
/// <see cref="ShimLibrary"/>'s <see cref="NativeLibrary.SetDllImportResolver"/> callback, never by default probing
/// alone; call <see cref="ShimLibrary.EnsureLoaded"/> before the first call. Strings are NUL-terminated UTF-8.
/// </summary>
internal static unsafe partial class NativeMethods
{
    internal const string LibraryName = "typedtrt_trt";

    [LibraryImport(LibraryName, EntryPoint = "ttrt_abi_version")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int AbiVersion();

    [LibraryImport(LibraryName, EntryPoint = "ttrt_last_error")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int LastError(byte* buf, int cap, int* lenOut);

    [LibraryImport(LibraryName, EntryPoint = "ttrt_load_library")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int LoadLibrary(byte* path);

    [LibraryImport(LibraryName, EntryPoint = "ttrt_versions")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int Versions(int* headerVersion, int* loadedVersion);

    [LibraryImport(LibraryName, EntryPoint = "ttrt_library_path")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int LibraryPath(byte* buf, int cap, int* lenOut);

    [LibraryImport(LibraryName, EntryPoint = "ttrt_set_logger")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int SetLogger(delegate* unmanaged[Cdecl]<int, byte*, void*, void> fn, void* userData, int maxSeverity);

    [LibraryImport(LibraryName, EntryPoint = "ttrt_runtime_create")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int RuntimeCreate(nint* runtime);

    [LibraryImport(LibraryName, EntryPoint = "ttrt_runtime_destroy")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int RuntimeDestroy(nint runtime);

    [LibraryImport(LibraryName, EntryPoint = "ttrt_engine_deserialize")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int EngineDeserialize(nint runtime, void* data, ulong size, nint* engine);

    [LibraryImport(LibraryName, EntryPoint = "ttrt_engine_destroy")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int EngineDestroy(nint engine);

    [LibraryImport(LibraryName, EntryPoint = "ttrt_engine_name")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int EngineName(nint engine, byte* buf, int cap, int* lenOut);

    [LibraryImport(LibraryName, EntryPoint = "ttrt_engine_io_count")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int EngineIoCount(nint engine, int* count);

    [LibraryImport(LibraryName, EntryPoint = "ttrt_engine_io_name")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int EngineIoName(nint engine, int index, byte* buf, int cap, int* lenOut);

    [LibraryImport(LibraryName, EntryPoint = "ttrt_engine_profile_count")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int EngineProfileCount(nint engine, int* count);

    [LibraryImport(LibraryName, EntryPoint = "ttrt_engine_tensor_info")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int EngineTensorInfo(nint engine, byte* name, int profile, TtrtTensorInfo* info);

    [LibraryImport(LibraryName, EntryPoint = "ttrt_engine_profile_shape")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int EngineProfileShape(nint engine, byte* name, int profile, TtrtDims* min, TtrtDims* opt, TtrtDims* max);

    [LibraryImport(LibraryName, EntryPoint = "ttrt_engine_device_memory_size")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int EngineDeviceMemorySize(nint engine, int profile, long* bytes);

    [LibraryImport(LibraryName, EntryPoint = "ttrt_context_create")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int ContextCreate(nint engine, int allocationStrategy, nint* context);

    [LibraryImport(LibraryName, EntryPoint = "ttrt_context_destroy")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int ContextDestroy(nint context);

    [LibraryImport(LibraryName, EntryPoint = "ttrt_context_set_profile")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int ContextSetProfile(nint context, int profile, nint stream);

    [LibraryImport(LibraryName, EntryPoint = "ttrt_context_set_input_shape")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int ContextSetInputShape(nint context, byte* name, TtrtDims* dims);

    [LibraryImport(LibraryName, EntryPoint = "ttrt_context_infer_shapes")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int ContextInferShapes(nint context, int* missingCount);

    [LibraryImport(LibraryName, EntryPoint = "ttrt_context_all_input_dims_specified")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int ContextAllInputDimsSpecified(nint context, int* specified);

    [LibraryImport(LibraryName, EntryPoint = "ttrt_context_tensor_shape")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int ContextTensorShape(nint context, byte* name, TtrtDims* dims);

    [LibraryImport(LibraryName, EntryPoint = "ttrt_context_set_tensor_address")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int ContextSetTensorAddress(nint context, byte* name, nint address);

    [LibraryImport(LibraryName, EntryPoint = "ttrt_context_set_device_memory")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int ContextSetDeviceMemory(nint context, nint memory, long size);

    [LibraryImport(LibraryName, EntryPoint = "ttrt_context_set_output_allocator")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int ContextSetOutputAllocator(
        nint context,
        byte* name,
        delegate* unmanaged[Cdecl]<nint, byte*, nint, ulong, ulong, nint, nint> reallocate,
        delegate* unmanaged[Cdecl]<nint, byte*, TtrtDims*, void> notifyShape,
        nint userData);

    [LibraryImport(LibraryName, EntryPoint = "ttrt_context_enqueue")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int ContextEnqueue(nint context, nint stream);
}
