namespace TypedTrt.Manifest;

/// <summary>The kind of model file a manifest was read from.</summary>
public enum ModelKind
{
    /// <summary>An ONNX model (<c>.onnx</c>).</summary>
    Onnx,

    /// <summary>A serialized TensorRT engine (plan), e.g. <c>.engine</c> or <c>.plan</c>.</summary>
    TensorRTEngine,
}

/// <summary>Whether a tensor is consumed or produced by the engine (TensorRT's <c>TensorIOMode</c>).</summary>
public enum TensorMode
{
    /// <summary>An input the caller provides.</summary>
    Input = 1,

    /// <summary>An output the engine produces.</summary>
    Output = 2,
}

/// <summary>
/// Element types in TensorRT's vocabulary. Numeric values equal TensorRT's <c>nvinfer1::DataType</c>, so the native
/// layer can pass them through unchanged.
/// </summary>
public enum TensorDataType
{
    /// <summary>A type TensorRT cannot bind (ONNX double, string, int16, uint16/32/64, complex...). See <see cref="TensorBinding.DTypeName"/>.</summary>
    Unsupported = -1,

    /// <summary>32-bit IEEE float (<c>float</c>).</summary>
    Float = 0,

    /// <summary>16-bit IEEE float (<c>half</c>).</summary>
    Half = 1,

    /// <summary>Signed 8-bit integer (<c>int8</c>).</summary>
    Int8 = 2,

    /// <summary>Signed 32-bit integer (<c>int32</c>).</summary>
    Int32 = 3,

    /// <summary>Boolean stored in one byte (<c>bool</c>).</summary>
    Bool = 4,

    /// <summary>Unsigned 8-bit integer (<c>uint8</c>).</summary>
    UInt8 = 5,

    /// <summary>8-bit float, E4M3 (<c>fp8</c>).</summary>
    FP8 = 6,

    /// <summary>bfloat16 (<c>bf16</c>).</summary>
    BF16 = 7,

    /// <summary>Signed 64-bit integer (<c>int64</c>).</summary>
    Int64 = 8,

    /// <summary>Signed 4-bit integer, two per byte (<c>int4</c>).</summary>
    Int4 = 9,

    /// <summary>4-bit float, E2M1, two per byte (<c>fp4</c>).</summary>
    FP4 = 10,

    /// <summary>8-bit exponent-only scale factor (<c>e8m0</c>).</summary>
    E8M0 = 11,
}

/// <summary>Where TensorRT expects a tensor's memory (TensorRT's <c>TensorLocation</c>).</summary>
public enum TensorLocation
{
    /// <summary>Device (GPU) memory.</summary>
    Device = 0,

    /// <summary>Host memory (shape tensors).</summary>
    Host = 1,
}

/// <summary>Memory layouts of engine IO tensors. Numeric values equal TensorRT's <c>nvinfer1::TensorFormat</c>.</summary>
public enum TensorFormat
{
    /// <summary>Row-major linear layout.</summary>
    Linear = 0,
    /// <summary>Two-wide channel vectors.</summary>
    Chw2 = 1,
    /// <summary>Eight-wide channel vectors, channel-last.</summary>
    Hwc8 = 2,
    /// <summary>Four-wide channel vectors.</summary>
    Chw4 = 3,
    /// <summary>Sixteen-wide channel vectors.</summary>
    Chw16 = 4,
    /// <summary>Thirty-two-wide channel vectors.</summary>
    Chw32 = 5,
    /// <summary>Eight-wide channel vectors, 3-D, channel-last.</summary>
    Dhwc8 = 6,
    /// <summary>Thirty-two-wide channel vectors, 3-D.</summary>
    Cdhw32 = 7,
    /// <summary>Channel-last.</summary>
    Hwc = 8,
    /// <summary>DLA linear.</summary>
    DlaLinear = 9,
    /// <summary>DLA four-wide channel-last.</summary>
    DlaHwc4 = 10,
    /// <summary>Sixteen-wide channel vectors, channel-last.</summary>
    Hwc16 = 11,
    /// <summary>Channel-last, 3-D.</summary>
    Dhwc = 12,
}
