// Shared source (TypedTrt.Manifest and TypedTrt.Generators); netstandard2.0-compatible.
using System;

namespace TypedTrt.Manifest.Shared;

/// <summary>TensorRT tensor formats as manifests name them; the index of a name is its <c>TensorFormat</c> value (<c>nvinfer1::TensorFormat</c>).</summary>
internal static class TensorFormatTable
{
    /// <summary>Manifest names, indexed by <c>TensorFormat</c>.</summary>
    public static readonly string[] Names =
        ["linear", "chw2", "hwc8", "chw4", "chw16", "chw32", "dhwc8", "cdhw32", "hwc", "dla_linear", "dla_hwc4", "hwc16", "dhwc"];

    /// <summary>The index of a format name, or -1.</summary>
    public static int IndexOf(string name) => Array.IndexOf(Names, name);
}
