using System.Globalization;
using System.Text;
using TypedTrt.Manifest;

namespace TypedTrt.Serving.KServe;

/// <summary>Options of <see cref="TritonModelConfig.Generate"/>.</summary>
public sealed class TritonModelConfigOptions
{
    /// <summary>The model name (the model repository folder's name). Default: the model file's name without extension.</summary>
    public string? Name { get; set; }

    /// <summary>
    /// The platform: default <c>tensorrt_plan</c> for engines, <c>onnxruntime_onnx</c> for ONNX models.
    /// </summary>
    public string? Platform { get; set; }

    /// <summary>
    /// The backend (<c>backend: "onnxruntime"</c>, <c>"tensorrt"</c>, <c>"python"</c>, ...), Triton's other way to say what
    /// runs the model. When set, <c>platform</c> is written only if <see cref="Platform"/> is set too. Default none.
    /// </summary>
    public string? Backend { get; set; }

    /// <summary>
    /// <c>max_batch_size</c>. Default (<see langword="null"/>): when every input and output has a leading dynamic
    /// dimension of one name (the batch), the smallest maximum the first optimization profile gives it (or 0 without a
    /// profile); otherwise 0 (no batching, full shapes). 0 forces full shapes.
    /// </summary>
    public int? MaxBatchSize { get; set; }

    /// <summary>Emit <c>dynamic_batching { }</c> (needs a batch dimension). With preferred sizes from the profile's opt.</summary>
    public bool DynamicBatching { get; set; }

    /// <summary>Longest a request may wait for a batch, in microseconds (with <see cref="DynamicBatching"/>). Default 100.</summary>
    public int MaxQueueDelayMicroseconds { get; set; } = 100;

    /// <summary>Instances per GPU (<c>instance_group</c> count); <see langword="null"/>: Triton's default.</summary>
    public int? InstanceCount { get; set; }
}

/// <summary>
/// Writes the Triton Inference Server model configuration (<c>config.pbtxt</c>, protobuf text format) of a binding
/// manifest: tensor names, <c>TYPE_*</c> data types, dims (-1 for dynamic ones), <c>max_batch_size</c> with the batch
/// dimension taken out of dims, scalars as <c>dims: [ 1 ]</c> with <c>reshape: { shape: [ ] }</c>, and optionally
/// dynamic batching. Put it at <c>&lt;repository&gt;/&lt;name&gt;/config.pbtxt</c> beside <c>1/model.plan</c> (or
/// <c>1/model.onnx</c>); the typed client then calls the model by that name.
/// </summary>
public static class TritonModelConfig
{
    /// <summary>The <c>TYPE_*</c> name of a manifest dtype.</summary>
    /// <exception cref="NotSupportedException">Triton has no data type for it (fp8, int4, fp4, e8m0, unsupported).</exception>
    public static string DataType(TensorBinding binding)
    {
        ArgumentNullException.ThrowIfNull(binding);
        return binding.DataType switch
        {
            TensorDataType.Float => "TYPE_FP32",
            TensorDataType.Half => "TYPE_FP16",
            TensorDataType.BF16 => "TYPE_BF16",
            TensorDataType.Int8 => "TYPE_INT8",
            TensorDataType.Int32 => "TYPE_INT32",
            TensorDataType.Int64 => "TYPE_INT64",
            TensorDataType.UInt8 => "TYPE_UINT8",
            TensorDataType.Bool => "TYPE_BOOL",
            _ => throw new NotSupportedException($"Tensor '{binding.Name}' has dtype '{binding.DTypeName}', which Triton's model configuration has no data type for."),
        };
    }

    /// <summary>The batch size Triton would batch over, or 0 when the tensors have no common leading batch dimension.</summary>
    public static int DetectMaxBatchSize(BindingManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        if (manifest.Tensors.Count == 0)
            return 0;
        string? name = null;
        foreach (var t in manifest.Tensors)
        {
            if (t.Rank == 0 || t.Shape[0] != -1)
                return 0;
            string dim = t.DimNames.Count > 0 ? t.DimNames[0] : "";
            name ??= dim;
            if (dim != name)
                return 0;
        }

        if (manifest.Profiles.Count == 0)
            return 0;
        long max = long.MaxValue;
        foreach (var input in manifest.Inputs)
        {
            var range = manifest.Profiles[0].Find(input.Name);
            if (range is null)
                return 0;
            max = Math.Min(max, range.Max[0]);
        }

        return (int)Math.Clamp(max, 0, int.MaxValue);
    }

    /// <summary>The <c>config.pbtxt</c> text.</summary>
    /// <exception cref="NotSupportedException">A tensor's dtype has no Triton data type.</exception>
    /// <exception cref="ArgumentException">Options that do not fit the manifest (a batch size without a batch dimension, dynamic batching without batching).</exception>
    public static string Generate(BindingManifest manifest, TritonModelConfigOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        options ??= new TritonModelConfigOptions();
        int detected = DetectMaxBatchSize(manifest);
        int maxBatch = options.MaxBatchSize ?? detected;
        if (maxBatch < 0)
            throw new ArgumentException("MaxBatchSize must be 0 or more.", nameof(options));
        if (maxBatch > 0 && detected == 0 && !AllLeadingDynamic(manifest))
            throw new ArgumentException($"MaxBatchSize {maxBatch} needs a leading dynamic batch dimension on every input and output; '{manifest.Source.FileName}' has none.", nameof(options));
        if (options.DynamicBatching && maxBatch == 0)
            throw new ArgumentException("Dynamic batching needs max_batch_size > 0 (a leading dynamic batch dimension on every tensor).", nameof(options));
        string name = options.Name ?? Path.GetFileNameWithoutExtension(manifest.Source.FileName);
        string? platform = options.Platform ?? (options.Backend is null ? (manifest.Source.Kind == ModelKind.TensorRTEngine ? "tensorrt_plan" : "onnxruntime_onnx") : null);
        bool plan = platform == "tensorrt_plan" || options.Backend == "tensorrt" || manifest.Source.Kind == ModelKind.TensorRTEngine;
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.Append(inv, $"# Triton model configuration generated by TypedTrt from {manifest.Source.FileName} (sha256 {manifest.Source.Sha256}).\n");
        sb.Append(inv, $"# Model repository layout: <repository>/{name}/config.pbtxt and <repository>/{name}/1/{(plan ? "model.plan" : "model.onnx")}\n");
        sb.Append(inv, $"name: {Quote(name)}\n");
        if (platform is not null)
            sb.Append(inv, $"platform: {Quote(platform)}\n");
        if (options.Backend is { } backend)
            sb.Append(inv, $"backend: {Quote(backend)}\n");
        sb.Append(inv, $"max_batch_size: {maxBatch}\n");
        Tensors(sb, "input", manifest.Inputs, maxBatch > 0);
        Tensors(sb, "output", manifest.Outputs, maxBatch > 0);
        if (options.DynamicBatching)
        {
            sb.Append("dynamic_batching {\n");
            var opt = manifest.Profiles.Count > 0 ? manifest.Inputs.Select(i => manifest.Profiles[0].Find(i.Name)?.Opt[0]).FirstOrDefault() : null;
            if (opt is long o && o > 1 && o <= maxBatch)
                sb.Append(inv, $"  preferred_batch_size: [ {o} ]\n");
            sb.Append(inv, $"  max_queue_delay_microseconds: {options.MaxQueueDelayMicroseconds}\n");
            sb.Append("}\n");
        }

        if (options.InstanceCount is int count)
        {
            string kind = plan ? "KIND_GPU" : "KIND_AUTO";
            sb.Append(inv, $"instance_group [\n  {{\n    count: {count}\n    kind: {kind}\n  }}\n]\n");
        }

        return sb.ToString();
    }

    private static bool AllLeadingDynamic(BindingManifest manifest) => manifest.Tensors.All(static t => t.Rank > 0 && t.Shape[0] == -1);

    private static void Tensors(StringBuilder sb, string kind, IEnumerable<TensorBinding> tensors, bool batched)
    {
        var list = tensors.ToList();
        sb.Append(kind).Append(" [\n");
        for (int i = 0; i < list.Count; i++)
        {
            var t = list[i];
            var dims = batched ? t.Shape.Skip(1).ToList() : [.. t.Shape];
            sb.Append("  {\n");
            sb.Append("    name: ").Append(Quote(t.Name)).Append('\n');
            sb.Append("    data_type: ").Append(DataType(t)).Append('\n');
            if (dims.Count == 0)
            {
                // Triton needs at least one dim: a scalar is [ 1 ] reshaped to [ ]
                sb.Append("    dims: [ 1 ]\n");
                sb.Append("    reshape: { shape: [ ] }\n");
            }
            else
            {
                sb.Append("    dims: [ ").Append(string.Join(", ", dims.Select(d => d.ToString(CultureInfo.InvariantCulture)))).Append(" ]\n");
            }

            sb.Append(i + 1 < list.Count ? "  },\n" : "  }\n");
        }

        sb.Append("]\n");
    }

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
