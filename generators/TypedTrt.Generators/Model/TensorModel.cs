namespace TypedTrt.Generators.Model;

/// <summary>One tensor as the emitter sees it.</summary>
/// <param name="Name">The tensor's name exactly as in the model.</param>
/// <param name="Index">Its index in the manifest's tensor list (what the runner's APIs take).</param>
/// <param name="IsInput">Input or output.</param>
/// <param name="DType">The manifest's dtype name.</param>
/// <param name="ClrType">The C# element type (<c>float</c>, <c>global::System.Half</c>, ...; <c>byte</c> for raw types), or null when unsupported.</param>
/// <param name="IsRaw">Whether the CLR buffer holds raw bytes (bf16, fp8, int4, fp4, e8m0).</param>
/// <param name="Shape">Dimensions, -1 for dynamic.</param>
/// <param name="DimNames">One per dimension, empty when unnamed.</param>
/// <param name="PropertyName">The unique C# identifier for the tensor (see the Parser's naming rules).</param>
/// <param name="ElementCount">Element count of a static shape, else null.</param>
/// <param name="BufferLength">Buffer length in <see cref="ClrType"/> units for a static shape, else null.</param>
/// <param name="Min">Profile 0 minimum shape of a dynamic input, or empty.</param>
/// <param name="Opt">Profile 0 optimal shape, or empty.</param>
/// <param name="Max">Profile 0 maximum shape, or empty.</param>
/// <param name="Format">Engine tensor format, or null for ONNX manifests.</param>
/// <param name="AfterRunDims">For outputs, the dimensions known only after a run (shared rule), else empty.</param>
internal sealed record TensorModel(
    string Name,
    int Index,
    bool IsInput,
    string DType,
    string? ClrType,
    bool IsRaw,
    EquatableArray<long> Shape,
    EquatableArray<string> DimNames,
    string PropertyName,
    long? ElementCount,
    long? BufferLength,
    EquatableArray<long> Min,
    EquatableArray<long> Opt,
    EquatableArray<long> Max,
    string? Format,
    EquatableArray<int> AfterRunDims)
{
    public bool IsSupported => ClrType is not null;

    public bool IsScalar => Shape.Count == 0;

    /// <summary>A scalar with a .NET element type: a plain property rather than a one-element buffer.</summary>
    public bool IsPlainScalar => IsScalar && IsSupported && !IsRaw;

    public bool IsDynamic
    {
        get
        {
            foreach (long d in Shape)
            {
                if (d < 0)
                    return true;
            }

            return false;
        }
    }
}
