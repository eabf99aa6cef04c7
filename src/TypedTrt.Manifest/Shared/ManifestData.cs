// Shared source (TypedTrt.Manifest and TypedTrt.Generators); netstandard2.0-compatible.
using System.Collections.Generic;

namespace TypedTrt.Manifest.Shared;

/// <summary>A manifest that passed every rule of <see cref="ManifestReader{T}"/>: plain data for the runtime's model and the generator's.</summary>
internal sealed class ManifestData
{
    public bool IsEngine { get; set; }

    public string File { get; set; } = "";

    public string Sha256 { get; set; } = "";

    public long Bytes { get; set; }

    public string? TensorRTVersion { get; set; }

    public OnnxData? Onnx { get; set; }

    public List<KeyValuePair<string, string>> Metadata { get; } = [];

    public List<TensorData> Tensors { get; } = [];

    /// <summary>Per profile, the ranges in manifest order.</summary>
    public List<List<ProfileRangeData>> Profiles { get; } = [];
}

internal sealed class OnnxData
{
    public long IrVersion { get; set; }

    public string ProducerName { get; set; } = "";

    public string ProducerVersion { get; set; } = "";

    public List<KeyValuePair<string, long>> Opsets { get; } = [];
}

internal sealed class TensorData
{
    public string Name { get; set; } = "";

    public bool IsInput { get; set; }

    public string DType { get; set; } = "";

    /// <summary>The <c>TensorDataType</c> value, or -1 for a type marked unsupported.</summary>
    public int TypeIndex { get; set; } = -1;

    public long[] Shape { get; set; } = [];

    /// <summary>One per dimension (<c>""</c> when unnamed).</summary>
    public string[] DimNames { get; set; } = [];

    public LayoutData? Layout { get; set; }

    public bool IsDynamic => System.Array.IndexOf(Shape, -1L) >= 0;
}

internal sealed class LayoutData
{
    public int FormatIndex { get; set; }

    public int VectorizedDim { get; set; } = -1;

    public int Components { get; set; } = 1;

    public int BytesPerComponent { get; set; }

    public bool IsHost { get; set; }

    public bool IsShapeTensor { get; set; }
}

internal sealed class ProfileRangeData
{
    public string Name { get; set; } = "";

    public int TensorIndex { get; set; }

    public long[] Min { get; set; } = [];

    public long[] Opt { get; set; } = [];

    public long[] Max { get; set; } = [];
}
