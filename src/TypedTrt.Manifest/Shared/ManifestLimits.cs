// Shared source (TypedTrt.Manifest and TypedTrt.Generators); netstandard2.0-compatible.
namespace TypedTrt.Manifest.Shared;

/// <summary>
/// Sizes the runtime can allocate, enforced where manifests are read (runtime reader and generator alike, see
/// docs/diagnostics.md): a larger dimension, profile bound or buffer is rejected, never truncated.
/// </summary>
internal static class ManifestLimits
{
    /// <summary>Largest dimension or profile bound: <see cref="int.MaxValue"/> (TensorRT and ONNX Runtime index dims with 32 bits in practice; larger cannot be allocated).</summary>
    public const long MaxDimension = int.MaxValue;

    /// <summary>Largest buffer, in elements of its CLR element type (bytes for raw types): .NET's <c>Array.MaxLength</c>, the most a span or array can hold.</summary>
    public const long MaxBufferElements = 0x7FFFFFC7;

    /// <summary>Most dimensions a TensorRT engine tensor can have (<c>nvinfer1::Dims::MAX_DIMS</c>).</summary>
    public const int MaxTensorRTRank = 8;

    /// <summary>Most dimensions any tensor may have: the runtime resolves output shapes into a fixed 16-dimension buffer.</summary>
    public const int MaxRank = 16;

    /// <summary>Most components per vector element of a vectorized format (TensorRT uses at most 32).</summary>
    public const int MaxComponents = 64;
}
