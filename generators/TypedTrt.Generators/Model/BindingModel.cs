namespace TypedTrt.Generators.Model;

/// <summary>Everything the emitter needs for one manifest: names, tensors and the manifest text to embed.</summary>
/// <param name="HintName">The generated file's hint name (namespace, class and a hash of the manifest's path).</param>
/// <param name="ManifestPath">The manifest's path (for diagnostics of the emit step).</param>
/// <param name="Namespace">The namespace, or empty.</param>
/// <param name="ClassName">The descriptor class's name; the other types derive from it.</param>
/// <param name="IsInternal">Whether the generated types are internal (<c>Access="Internal"</c>).</param>
/// <param name="ManifestFileName">The manifest's file name.</param>
/// <param name="ModelKind"><c>onnx</c> or <c>tensorrt-engine</c>.</param>
/// <param name="ModelFileName">The model file's name.</param>
/// <param name="ModelSha256">The model file's SHA-256.</param>
/// <param name="TensorRTVersion">The engine's TensorRT version, when known.</param>
/// <param name="DefaultStreams">The runner's default stream count.</param>
/// <param name="ProfileCount">Number of optimization profiles.</param>
/// <param name="ManifestJson">The manifest, minified, to embed as a UTF-8 literal.</param>
/// <param name="Tensors">Every tensor, in manifest order.</param>
/// <param name="EmitKServeClient">Whether to emit a KServe v2 client (<c>KServeClient="true"</c>).</param>
internal sealed record BindingModel(
    string HintName,
    string ManifestPath,
    string Namespace,
    string ClassName,
    bool IsInternal,
    string ManifestFileName,
    string ModelKind,
    string ModelFileName,
    string ModelSha256,
    string? TensorRTVersion,
    int DefaultStreams,
    int ProfileCount,
    string ManifestJson,
    EquatableArray<TensorModel> Tensors,
    bool EmitKServeClient = false);
