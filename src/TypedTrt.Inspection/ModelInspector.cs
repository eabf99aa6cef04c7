using System.Text;
using Google.Protobuf;
using TypedTrt.Manifest;

namespace TypedTrt.Inspection;

/// <summary>
/// Turns a model file into a <see cref="BindingManifest"/>. The kind of file is decided by its content, not its
/// extension: a TensorRT plan (magic at 0 or after an Ultralytics header) or an ONNX model (protobuf
/// <c>ModelProto</c>). ONNX models are streamed and their weights skipped; engines are described by their sidecar
/// manifest (<c>&lt;engine&gt;.bindings.json</c>), checked against the engine's SHA-256.
/// </summary>
public static class ModelInspector
{
    /// <summary>The suffix of an engine's sidecar manifest: <c>detector.engine</c> → <c>detector.engine.bindings.json</c>.</summary>
    public const string SidecarSuffix = ".bindings.json";

    /// <summary>The sidecar manifest path of an engine.</summary>
    public static string SidecarPath(string enginePath) => enginePath + SidecarSuffix;

    /// <summary>Inspects a model file.</summary>
    /// <param name="path">An ONNX model or a TensorRT plan.</param>
    /// <param name="options">Profiles for ONNX models; <see langword="null"/> for none.</param>
    /// <exception cref="ModelInspectionException">The file cannot be inspected; the message names it and says why.</exception>
    public static BindingManifest Inspect(string path, InspectionOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new InspectionOptions();
        // Asked before opening: a FIFO would block the open, a device would be read forever.
        var probe = FileProbe.Probe(path);
        if (probe.Kind == FileKind.Directory)
            throw new ModelInspectionException(path, "is a directory, not a model file.");
        if (probe.Kind == FileKind.Missing)
            throw new ModelInspectionException(path, "file not found.");
        if (probe.Kind is not (FileKind.Regular or FileKind.Unknown))
            throw new ModelInspectionException(path, $"is {probe.Description}, not a model file; pass the path of an ONNX model or TensorRT engine file.");

        FileStream stream;
        try
        {
            // No FileStream buffer: the readers put their own in front, and the skips must be able to seek.
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelInspectionException(path, $"cannot be read: {e.Message}", e);
        }

        using (stream)
        {
            long length = stream.Length;
            if (length == 0)
                throw new ModelInspectionException(path, "the file is empty.");
            if (PlanHeader.FindPlanOffset(stream) is not null)
            {
                if (options.Profiles.Count > 0)
                    throw new ModelInspectionException(path, "--profile applies to ONNX models; a TensorRT engine carries the optimization profiles it was built with.");
                return InspectEngine(path, stream);
            }

            string ext = Path.GetExtension(path).ToLowerInvariant();
            if (Sniff(stream) is { } other)
                throw new ModelInspectionException(path, $"not a model: {other}. TypedTrt reads ONNX models (.onnx) and TensorRT plans (.engine, .plan).");
            if (ext is ".engine" or ".plan" or ".trt")
            {
                // Named like an engine but without the magic: say that rather than an ONNX parse error.
                try
                {
                    PlanHeader.Read(stream);
                }
                catch (InvalidDataException e)
                {
                    throw new ModelInspectionException(path, e.Message, e);
                }
            }

            stream.Position = 0;
            OnnxModel model;
            try
            {
                model = OnnxReader.Read(stream);
            }
            catch (Exception e) when (e is InvalidProtocolBufferException or InvalidDataException or IOException)
            {
                string what = ext == ".onnx" ? "not a valid ONNX model" : "not a model TypedTrt can read (neither an ONNX model nor a TensorRT plan)";
                throw new ModelInspectionException(path, $"{what}: {Describe(e, length)}", e);
            }

            return BuildOnnxManifest(path, length, model, options.Profiles);
        }
    }

    /// <summary>Builds the manifest of an ONNX model read by <see cref="OnnxReader"/>.</summary>
    /// <exception cref="ModelInspectionException">A profile cannot be applied, or a tensor has no shape.</exception>
    public static BindingManifest BuildOnnxManifest(string path, long bytes, OnnxModel model, IReadOnlyList<ProfileSpec> profiles)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(profiles);
        var tensors = new List<TensorBinding>();
        foreach (var vi in model.Inputs)
            tensors.Add(ToBinding(path, vi, TensorMode.Input));
        foreach (var vi in model.Outputs)
            tensors.Add(ToBinding(path, vi, TensorMode.Output));
        var profileList = BuildProfiles(path, tensors, profiles);
        var source = new ModelSource(
            ModelKind.Onnx,
            Path.GetFileName(path),
            ManifestSerializer.ComputeSha256(path),
            bytes,
            onnx: new OnnxModelInfo(model.IrVersion, model.ProducerName, model.ProducerVersion, model.Opsets),
            metadata: model.Metadata);
        BindingManifest manifest;
        try
        {
            manifest = new BindingManifest(source, tensors, profileList);
        }
        catch (ArgumentException e)
        {
            throw new ModelInspectionException(path, ProfileSpec.StripParam(e), e);
        }

        CheckLimits(path, manifest);
        return manifest;
    }

    /// <summary>
    /// Applies the rules every manifest reader applies (runtime and generator share them, see docs/diagnostics.md) to
    /// the manifest about to be written, so that a model whose dims, profile bounds or buffers the runtime cannot
    /// allocate (or whose rank it cannot hold) fails here, naming the tensor, instead of producing a manifest that
    /// the build or the application then rejects.
    /// </summary>
    private static void CheckLimits(string path, BindingManifest manifest)
    {
        try
        {
            ManifestSerializer.Deserialize(ManifestSerializer.Serialize(manifest));
        }
        catch (ManifestException e)
        {
            throw new ModelInspectionException(path, $"{Locate(manifest, e.JsonPath)}{e.Reason}. TypedTrt cannot allocate or bind it (limits: docs/diagnostics.md); export the model with smaller sizes, or pass a narrower --profile range.", e);
        }
    }

    // "tensors[3].shape" → "input 'x' (tensors[3].shape): "; "profiles[0].shapes[1].max" → "profile 0 (…): ".
    private static string Locate(BindingManifest manifest, string? jsonPath)
    {
        if (string.IsNullOrEmpty(jsonPath))
            return "";
        const string tensorsPrefix = "tensors[";
        if (jsonPath.StartsWith(tensorsPrefix, StringComparison.Ordinal))
        {
            int close = jsonPath.IndexOf(']', StringComparison.Ordinal);
            if (close > tensorsPrefix.Length
                && int.TryParse(jsonPath.AsSpan(tensorsPrefix.Length, close - tensorsPrefix.Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int i)
                && i < manifest.Tensors.Count)
            {
                var t = manifest.Tensors[i];
                return $"{(t.Mode == TensorMode.Input ? "input" : "output")} '{t.Name}' ({jsonPath}): ";
            }
        }

        return $"{jsonPath}: ";
    }

    private static TensorBinding ToBinding(string path, OnnxValueInfo vi, TensorMode mode)
    {
        string role = mode == TensorMode.Input ? "input" : "output";
        if (string.IsNullOrEmpty(vi.Name))
            throw new ModelInspectionException(path, $"a graph {role} has no name.");
        if (vi.TypeKind is not ("tensor" or "sparse_tensor"))
        {
            // Sequences, maps, optionals: TensorRT cannot bind them; keep them visible, marked unsupported.
            return new TensorBinding(vi.Name, mode, vi.TypeKind == "none" ? "undefined" : vi.TypeKind, [], null);
        }

        if (vi.Dims is null)
        {
            throw new ModelInspectionException(path,
                $"{role} '{vi.Name}' has no shape (its rank is unknown), and TensorRT needs a rank. Run ONNX shape inference (onnx.shape_inference.infer_shapes) or export with a fixed rank.");
        }

        for (int d = 0; d < vi.Dims.Count; d++)
        {
            if (vi.Dims[d].Value < -1)
            {
                throw new ModelInspectionException(path,
                    $"{role} '{vi.Name}' declares dimension {d} as {vi.Dims[d].Value}; an ONNX dimension is a size >= 0, a symbolic name (dim_param), or unknown. Fix the exporter's shape (or set the dimension to a name to make it dynamic).");
            }
        }

        string dtype = vi.TypeKind == "sparse_tensor" ? "sparse_" + OnnxModel.OnnxTypeName(vi.ElemType) : OnnxModel.ManifestTypeName(vi.ElemType);
        return new TensorBinding(vi.Name, mode, dtype, vi.Dims.Select(static d => d.Value), vi.Dims.Select(static d => d.Name));
    }

    private static List<OptimizationProfile> BuildProfiles(string path, List<TensorBinding> tensors, IReadOnlyList<ProfileSpec> specs)
    {
        var result = new List<OptimizationProfile>();
        if (specs.Count == 0)
            return result;
        var inputs = tensors.Where(static t => t.Mode == TensorMode.Input).ToArray();
        var named = new SortedSet<string>(StringComparer.Ordinal);
        var unnamed = new List<(string Tensor, int Dim)>();
        foreach (var t in inputs)
        {
            for (int d = 0; d < t.Rank; d++)
            {
                if (t.Shape[d] >= 0)
                    continue;
                if (t.DimNames[d].Length > 0)
                    named.Add(t.DimNames[d]);
                else
                    unnamed.Add((t.Name, d));
            }
        }

        string unnamedNote = unnamed.Count == 0
            ? ""
            : $" Dynamic dims without a name take a range by tensor and index, e.g. {ProfileSpec.IndexedKey(unnamed[0].Tensor, unnamed[0].Dim)}=1..8:1; without one: {string.Join(", ", unnamed.Select(static u => ProfileSpec.IndexedKey(u.Tensor, u.Dim)))}.";
        for (int i = 0; i < specs.Count; i++)
        {
            foreach (string key in specs[i].Ranges.Keys)
            {
                if (named.Contains(key))
                    continue;
                if (ProfileSpec.TryParseIndexedKey(key, out string tensorName, out int dimIndex))
                {
                    var target = inputs.FirstOrDefault(t => t.Name == tensorName)
                        ?? throw new ModelInspectionException(path, $"--profile names '{key}', but the model has no input '{tensorName}' (inputs: {string.Join(", ", inputs.Select(static t => $"'{t.Name}'"))}).");
                    if (dimIndex >= target.Rank)
                        throw new ModelInspectionException(path, $"--profile names '{key}', but input '{tensorName}' has rank {target.Rank} (dims 0..{target.Rank - 1}).");
                    if (target.Shape[dimIndex] >= 0)
                        throw new ModelInspectionException(path, $"--profile names '{key}', but dimension {dimIndex} of '{tensorName}' is static (= {target.Shape[dimIndex]}) and needs no range.");
                    continue;
                }

                string known = named.Count == 0 ? "the model's inputs have no named dynamic dims" : $"named dynamic dims: {string.Join(", ", named)}";
                string isInput = inputs.Any(t => t.Name == key) ? $" '{key}' is an input; a profile ranges dims by their name or by {key}[INDEX]." : "";
                throw new ModelInspectionException(path, $"--profile names dimension '{key}', but no input has a dynamic dimension of that name ({known}).{isInput}{unnamedNote}");
            }

            var shapes = new List<ProfileShape>();
            foreach (var t in inputs.Where(static t => t.IsDynamic))
            {
                bool covered = true;
                var min = new long[t.Rank];
                var opt = new long[t.Rank];
                var max = new long[t.Rank];
                for (int d = 0; d < t.Rank; d++)
                {
                    if (t.Shape[d] >= 0)
                    {
                        min[d] = opt[d] = max[d] = t.Shape[d];
                    }
                    else if (specs[i].Ranges.TryGetValue(ProfileSpec.IndexedKey(t.Name, d), out var r)
                        || (t.DimNames[d].Length > 0 && specs[i].Ranges.TryGetValue(t.DimNames[d], out r)))
                    {
                        (min[d], opt[d], max[d]) = (r.Min, r.Opt, r.Max);
                    }
                    else
                    {
                        covered = false;
                    }
                }

                if (covered)
                    shapes.Add(new ProfileShape(t.Name, min, opt, max));
            }

            if (shapes.Count == 0)
                throw new ModelInspectionException(path, $"--profile {specs[i]} covers no input: every input using those dims also has a dynamic dim without a range.{unnamedNote}");
            result.Add(new OptimizationProfile(shapes));
        }

        return result;
    }

    private static BindingManifest InspectEngine(string path, FileStream stream)
    {
        PlanHeader header;
        try
        {
            header = PlanHeader.Read(stream);
        }
        catch (InvalidDataException e)
        {
            throw new ModelInspectionException(path, e.Message, e);
        }

        if (!header.IsSupportedVersion)
        {
            throw new ModelInspectionException(path,
                $"the plan was built by TensorRT {header.TensorRTVersion}, which this TypedTrt does not read (it reads plans from TensorRT 8.6 to 11.x). Rebuild the engine with a supported TensorRT, or update TypedTrt.");
        }

        string sidecar = SidecarPath(path);
        string sidecarName = Path.GetFileName(sidecar);
        string engineName = Path.GetFileName(path);
        if (!File.Exists(sidecar))
        {
            throw new ModelInspectionException(path,
                $"a TensorRT plan (built by TensorRT {header.TensorRTVersion}) keeps its inputs and outputs in a form only TensorRT can read, and there is no sidecar manifest '{sidecarName}' next to it. "
                + $"Ways forward: inspect the engine where TensorRT and the TypedTrt shim are installed with 'typedtrt inspect {engineName} --write-sidecar' (see docs/tensorrt.md); or write or obtain '{sidecarName}' (a typedtrt.bindings/v1 manifest); or inspect the ONNX model the engine was built from.");
        }

        BindingManifest manifest;
        try
        {
            manifest = ManifestSerializer.ReadFile(sidecar);
        }
        catch (ManifestException e)
        {
            string reason = e.IsUnsupportedSchema ? $"unsupported sidecar manifest version: {e.Reason}" : $"the sidecar manifest is invalid: {e.Message}";
            throw new ModelInspectionException(sidecar, reason, e);
        }

        if (manifest.Source.Kind != ModelKind.TensorRTEngine)
            throw new ModelInspectionException(sidecar, "the sidecar manifest describes an ONNX model, not a TensorRT engine.");
        string sha = ManifestSerializer.ComputeSha256(path);
        if (!string.Equals(sha, manifest.Source.Sha256, StringComparison.Ordinal))
        {
            throw new ModelInspectionException(path,
                $"the sidecar manifest '{sidecarName}' is stale: it was written for an engine with sha256 {manifest.Source.Sha256[..12]}…, but this engine's sha256 is {sha[..12]}…. "
                + $"Regenerate it where TensorRT is installed ('typedtrt inspect {engineName} --write-sidecar'), or copy the sidecar that was built with this engine next to it.");
        }

        return manifest;
    }

    /// <summary>Recognises common files that are not models, to say what they are instead of "corrupt protobuf".</summary>
    private static string? Sniff(Stream stream)
    {
        Span<byte> head = stackalloc byte[512];
        stream.Position = 0;
        int n = 0;
        while (n < head.Length)
        {
            int k = stream.Read(head[n..]);
            if (k == 0)
                break;
            n += k;
        }

        var h = head[..n];
        if (h.StartsWith(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }))
            return "it is a PNG image";
        if (h.StartsWith(new byte[] { 0xFF, 0xD8, 0xFF }))
            return "it is a JPEG image";
        if (h.StartsWith("GIF8"u8))
            return "it is a GIF image";
        if (h.StartsWith("%PDF"u8))
            return "it is a PDF document";
        if (h.StartsWith("PK\x03\x04"u8))
            return "it is a zip archive (a PyTorch .pt checkpoint? export it to ONNX first)";
        if (h.StartsWith(new byte[] { 0x1F, 0x8B }))
            return "it is a gzip archive";
        if (IsText(h))
            return h.TrimStart((byte)' ').StartsWith("{"u8) ? "it is a JSON text file" : "it is a text file";
        return null;
    }

    private static bool IsText(ReadOnlySpan<byte> h)
    {
        if (h.IsEmpty)
            return false;
        foreach (byte b in h)
        {
            if (b < 0x20 && b is not ((byte)'\n' or (byte)'\r' or (byte)'\t'))
                return false;
        }

        // Must also be valid UTF-8 (allowing a sequence cut at the end of the sample).
        try
        {
            new UTF8Encoding(false, true).GetCharCount(h.Length < 512 ? h : h[..^4]);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    private static string Describe(Exception e, long length) => e switch
    {
        InvalidProtocolBufferException p when p.Message.Contains("truncated", StringComparison.OrdinalIgnoreCase)
            || p.Message.Contains("ended unexpectedly", StringComparison.OrdinalIgnoreCase)
            => $"the protobuf data is truncated ({length} bytes): {p.Message}",
        InvalidProtocolBufferException p => $"corrupt protobuf: {p.Message}",
        _ => e.Message,
    };
}
