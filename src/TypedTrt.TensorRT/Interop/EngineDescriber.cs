using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using TypedTrt.Manifest;

namespace TypedTrt.TensorRT.Interop;

/// <summary>A deserialized engine with its runtime: the common first half of <see cref="TensorRtEngine.Load(string, BindingManifest, TensorRtEngineOptions?)"/> and <see cref="TensorRtInspector.ReadManifest"/>.</summary>
internal sealed unsafe class OpenedPlan : IDisposable
{
    internal nint Runtime;
    internal nint Engine;

    private OpenedPlan(PlanHeader header, Version loadedVersion, BindingManifest manifest)
    {
        Header = header;
        LoadedVersion = loadedVersion;
        Manifest = manifest;
        VerificationManifest = manifest;
    }

    internal PlanHeader Header { get; }

    internal Version LoadedVersion { get; }

    /// <summary>The engine as it is: every IO tensor in engine order with layout, every profile (ranges for dynamic inputs).</summary>
    internal BindingManifest Manifest { get; private set; }

    /// <summary>
    /// <see cref="Manifest"/> with profile ranges for static inputs too (min = opt = max = the shape), so that expected
    /// signatures that list static inputs in their profiles verify as well; extra ranges are not differences.
    /// </summary>
    internal BindingManifest VerificationManifest { get; private set; }

    /// <summary>
    /// Reads the plan header, loads the shim and TensorRT, compares the plan's TensorRT version with the loaded one,
    /// deserializes and describes the engine. On failure everything created is destroyed again.
    /// </summary>
    internal static OpenedPlan Open(ReadOnlySpan<byte> file, string description, string fileName, TensorRtEngineOptions options)
    {
        var header = ReadHeader(file, description);
        TensorRtRuntime.EnsureTensorRtLoaded(options.NativeLibraryPath, options.TensorRtLibraryPath);
        var loaded = TensorRtRuntime.ReadVersions().Loaded ?? throw new InvalidOperationException("TensorRT reported no loaded version after loading.");
        var built = header.Version;
        if (options.CheckPlanVersion && (built.Major != loaded.Major || built.Minor != loaded.Minor || built.Build != loaded.Build))
        {
            string b = $"{built.Major}.{built.Minor}", l = $"{loaded.Major}.{loaded.Minor}";
            if (b == l)
            {
                b = $"{built.Major}.{built.Minor}.{built.Build}";
                l = $"{loaded.Major}.{loaded.Minor}.{loaded.Build}";
            }

            throw new TensorRtVersionMismatchException(
                $"{description} was built by TensorRT {b} (plan header: {built}), this process loaded TensorRT {l} " +
                $"({SafeLibraryPath()}): engines are not portable across TensorRT versions; rebuild the engine with this TensorRT " +
                $"(e.g. trtexec --onnx=model.onnx --saveEngine=model.engine) or install TensorRT {b}. " +
                "(Engines built as version-compatible can skip this check with TensorRtEngineOptions.CheckPlanVersion = false.)",
                built, loaded);
        }

        var source = new ModelSource(
            ModelKind.TensorRTEngine,
            fileName,
            Convert.ToHexStringLower(SHA256.HashData(file)),
            file.Length,
            built.ToString(),
            metadata: header.Metadata);

        var opened = new OpenedPlan(header, loaded, null!);
        try
        {
            nint runtime, engine;
            Native.Check(NativeMethods.RuntimeCreate(&runtime), "ttrt_runtime_create");
            opened.Runtime = runtime;
            var plan = file[(int)header.PlanOffset..]; // the offset lies inside this in-memory file
            fixed (byte* p = plan)
                Native.Check(NativeMethods.EngineDeserialize(runtime, p, (ulong)plan.Length, &engine), "ttrt_engine_deserialize");
            opened.Engine = engine;
            opened.Manifest = Describe(engine, source, staticInputRanges: false);
            opened.VerificationManifest = Describe(engine, source, staticInputRanges: true);
            return opened;
        }
        catch
        {
            opened.Dispose();
            throw;
        }
    }

    /// <summary>Destroys engine then runtime (the ABI's order). Only for plans no context was created from.</summary>
    public void Dispose()
    {
        if (Engine != 0)
        {
            Native.Check(NativeMethods.EngineDestroy(Engine), "ttrt_engine_destroy");
            Engine = 0;
        }

        if (Runtime != 0)
        {
            Native.Check(NativeMethods.RuntimeDestroy(Runtime), "ttrt_runtime_destroy");
            Runtime = 0;
        }
    }

    private static string SafeLibraryPath()
    {
        try
        {
            return TensorRtRuntime.LoadedTensorRtLibraryPath ?? "library path unknown";
        }
        catch (TensorRtException)
        {
            return "library path unknown";
        }
    }

    /// <summary>The plan header, read by the same parser the inspector uses (one definition of the file format).</summary>
    private static PlanHeader ReadHeader(ReadOnlySpan<byte> file, string description)
    {
        fixed (byte* p = file)
        {
            using var stream = new UnmanagedMemoryStream(p, file.Length);
            if (PlanHeader.FindPlanOffset(stream) is null)
            {
                throw new InvalidDataException(
                    $"{description} is not a TensorRT engine plan: it has no plan magic 'ftrt' (0x74727466) at offset 0, nor after an Ultralytics " +
                    $"[uint32 length][JSON] prefix ({file.Length} bytes). Plans are written by TensorRT's builder (trtexec --saveEngine, " +
                    "Ultralytics format=engine); TensorRT before 8.6 wrote plans without the magic, which TensorRT 10 cannot load anyway.");
            }

            try
            {
                return PlanHeader.Read(stream);
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"{description}: {e.Message}", e);
            }
        }
    }

    /// <summary>Builds the manifest of a deserialized engine: all IO tensors (engine order) with layout for profile 0, and every profile's min/opt/max for inputs with dynamic dimensions (all inputs with <paramref name="staticInputRanges"/>).</summary>
    internal static BindingManifest Describe(nint engine, ModelSource source, bool staticInputRanges)
    {
        int count = 0, profiles = 0;
        Native.Check(NativeMethods.EngineIoCount(engine, &count), "ttrt_engine_io_count");
        Native.Check(NativeMethods.EngineProfileCount(engine, &profiles), "ttrt_engine_profile_count");
        var tensors = new TensorBinding[count];
        var names = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            int index = i;
            string name = Native.GetString((b, c, l) => NativeMethods.EngineIoName(engine, index, b, c, l), "ttrt_engine_io_name");
            names[i] = Native.Utf8Z(name);
            TtrtTensorInfo info;
            fixed (byte* n = names[i])
                Native.Check(NativeMethods.EngineTensorInfo(engine, n, 0, &info), "ttrt_engine_tensor_info");
            tensors[i] = ToBinding(name, info);
        }

        var profileList = new OptimizationProfile[profiles];
        for (int p = 0; p < profiles; p++)
        {
            var ranges = new List<ProfileShape>();
            for (int i = 0; i < count; i++)
            {
                if (tensors[i].Mode != TensorMode.Input || !(tensors[i].IsDynamic || staticInputRanges))
                    continue;
                TtrtDims min, opt, max;
                fixed (byte* n = names[i])
                    Native.Check(NativeMethods.EngineProfileShape(engine, n, p, &min, &opt, &max), "ttrt_engine_profile_shape");
                ranges.Add(new ProfileShape(tensors[i].Name, min.ToArray(), opt.ToArray(), max.ToArray()));
            }

            profileList[p] = new OptimizationProfile(ranges);
        }

        return new BindingManifest(source, tensors, profileList);
    }

    internal static TensorBinding ToBinding(string name, in TtrtTensorInfo info)
    {
        var mode = info.IoMode switch
        {
            1 => TensorMode.Input,
            2 => TensorMode.Output,
            _ => throw new TensorRtException(TensorRtStatus.Internal, "ttrt_engine_tensor_info", $"tensor '{name}' has io mode {info.IoMode}, neither input (1) nor output (2)"),
        };
        var dtype = (TensorDataType)info.DataType;
        bool known = info.DataType is >= 0 and <= (int)TensorDataType.E8M0;
        string dtypeName = known ? DataTypes.ToManifestName(dtype) : string.Create(CultureInfo.InvariantCulture, $"tensorrt_dtype_{info.DataType}");
        if (info.Format is < 0 or > (int)TensorFormat.Dhwc)
            throw new NotSupportedException($"Tensor '{name}' uses TensorRT tensor format {info.Format}, which this TypedTrt version does not know.");
        bool vectorized = info.VectorizedDim >= 0;
        // TensorRT reports -1 for components and bytes per component of non-vectorized tensors: one component of the
        // element's size (0 for packed 4-bit types, whose elements are smaller than a byte).
        int components = vectorized && info.ComponentsPerElement > 0 ? info.ComponentsPerElement : 1;
        int bytesPerComponent = info.BytesPerComponent >= 0 ? info.BytesPerComponent
            : known ? DataTypes.BitsPerElement(dtype) / 8 : 0;
        var layout = new EngineTensorLayout(
            (TensorFormat)info.Format,
            vectorized ? info.VectorizedDim : -1,
            components,
            bytesPerComponent,
            info.Location == 1 ? TensorLocation.Host : TensorLocation.Device,
            info.IsShapeInferenceIo != 0);
        long[] shape = info.Shape.ToArray();
        return new TensorBinding(name, mode, dtypeName, shape, dimNames: null, layout);
    }
}
