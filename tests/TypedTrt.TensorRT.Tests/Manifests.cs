using TypedTrt.Manifest;

namespace TypedTrt.TensorRT.Tests;

/// <summary>Signatures of the fake's engine ("fake-detector") as generated code would carry them.</summary>
internal static class Manifests
{
    internal static ModelSource Source() => new(ModelKind.TensorRTEngine, "model.engine", new string('0', 64), 64, "10.16.0.7");

    internal static ProfileShape[][] Profiles() =>
    [
        [new("images", [1, 3, 8, 8], [2, 3, 16, 16], [4, 3, 32, 32]), new("offset", [1], [2], [4])],
        [new("images", [1, 3, 16, 16], [8, 3, 32, 32], [16, 3, 64, 64]), new("offset", [1], [8], [16])],
    ];

    /// <summary>What the fake serves, without layout facts (as if generated from an ONNX-derived manifest).</summary>
    internal static BindingManifest Expected() => new(
        Source(),
        [
            new TensorBinding("images", TensorMode.Input, "float", [-1, 3, -1, -1]),
            new TensorBinding("offset", TensorMode.Input, "int64", [-1]),
            new TensorBinding("scores", TensorMode.Output, "float", [-1, 3, -1, -1]),
            new TensorBinding("counts", TensorMode.Output, "int32", [-1]),
        ],
        Profiles().Select(p => new OptimizationProfile(p)));

    /// <summary>The same tensors in another order: indices must follow this order, not the engine's.</summary>
    internal static BindingManifest ExpectedReordered() => new(
        Source(),
        [
            new TensorBinding("counts", TensorMode.Output, "int32", [-1]),
            new TensorBinding("offset", TensorMode.Input, "int64", [-1]),
            new TensorBinding("scores", TensorMode.Output, "float", [-1, 3, -1, -1]),
            new TensorBinding("images", TensorMode.Input, "float", [-1, 3, -1, -1]),
        ],
        Profiles().Select(p => new OptimizationProfile(p)));
}
