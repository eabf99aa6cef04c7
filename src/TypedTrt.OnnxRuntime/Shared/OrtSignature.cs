using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TypedTrt.Manifest;

namespace TypedTrt.OnnxRuntime;

/// <summary>
/// The manifest's vocabulary ↔ ONNX Runtime's: element types and the signature a session reports. One source file,
/// compiled into TypedTrt.OnnxRuntime and linked into TypedTrt.OnnxRuntime.Cuda (which must not reference the CPU
/// package: the two carry different native builds of ONNX Runtime).
/// </summary>
internal static class OrtSignature
{
    /// <summary>The manifest dtype → ONNX Runtime element type, failing clearly for types ONNX Runtime cannot hold.</summary>
    public static TensorElementType ToOrt(TensorBinding t) => t.DataType switch
    {
        TensorDataType.Float => TensorElementType.Float,
        TensorDataType.Half => TensorElementType.Float16,
        TensorDataType.BF16 => TensorElementType.BFloat16,
        TensorDataType.Int8 => TensorElementType.Int8,
        TensorDataType.UInt8 => TensorElementType.UInt8,
        TensorDataType.Int32 => TensorElementType.Int32,
        TensorDataType.Int64 => TensorElementType.Int64,
        TensorDataType.Bool => TensorElementType.Bool,
        _ => throw new NotSupportedException(
            $"Tensor '{t.Name}' has dtype {t.DTypeName}, which the ONNX Runtime backend cannot bind; run this model with the TensorRT backend."),
    };

    private static string FromOrt(TensorElementType e) => e switch
    {
        TensorElementType.Float => "float",
        TensorElementType.Float16 => "half",
        TensorElementType.BFloat16 => "bf16",
        TensorElementType.Int8 => "int8",
        TensorElementType.UInt8 => "uint8",
        TensorElementType.Int32 => "int32",
        TensorElementType.Int64 => "int64",
        TensorElementType.Bool => "bool",
        _ => e.ToString().ToLowerInvariant(),
    };

    /// <summary>The signature a session reports, in the manifest's vocabulary (dynamic dims as -1).</summary>
    public static BindingManifest Describe(InferenceSession session, ModelSource source)
    {
        var tensors = new List<TensorBinding>();
        void Add(IReadOnlyDictionary<string, NodeMetadata> meta, IReadOnlyList<string> names, TensorMode mode)
        {
            foreach (string name in names)
            {
                var m = meta[name];
                if (!m.IsTensor)
                {
                    tensors.Add(new TensorBinding(name, mode, m.OnnxValueType.ToString().ToLowerInvariant(), []));
                    continue;
                }

                tensors.Add(new TensorBinding(name, mode, FromOrt(m.ElementDataType), m.Dimensions.Select(static d => d < 0 ? -1L : d)));
            }
        }

        Add(session.InputMetadata, session.InputNames, TensorMode.Input);
        Add(session.OutputMetadata, session.OutputNames, TensorMode.Output);
        return new BindingManifest(source, tensors);
    }
}
