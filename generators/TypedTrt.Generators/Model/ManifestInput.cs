namespace TypedTrt.Generators.Model;

/// <summary>
/// One <c>.bindings.json</c> additional file with the item metadata that MSBuild passes for it. Plain strings only, so
/// the first pipeline step is cached by content.
/// </summary>
/// <param name="Path">The manifest file's path.</param>
/// <param name="Text">The manifest's text.</param>
/// <param name="ClassName"><c>TypedTrtClassName</c> item metadata, or null.</param>
/// <param name="Namespace"><c>TypedTrtNamespace</c> item metadata, or the project's root namespace, or null.</param>
/// <param name="Streams"><c>TypedTrtStreams</c> item metadata, or null.</param>
/// <param name="SourceFile"><c>TypedTrtSourceFile</c>: the model file the manifest was made from (for messages), or null.</param>
/// <param name="SourceSha256"><c>TypedTrtSourceSha256</c>: the model file's current SHA-256 when MSBuild computed it, or null.</param>
/// <param name="Access"><c>TypedTrtAccess</c>: <c>Public</c> (default) or <c>Internal</c>, or null.</param>
/// <param name="KServeClient"><c>TypedTrtKServeClient</c>: <c>true</c> to emit a KServe v2 client, or null.</param>
/// <param name="ReadError">Set when reading the file or its options failed unexpectedly (reported as TTRT0099).</param>
internal sealed record ManifestInput(
    string Path,
    string Text,
    string? ClassName,
    string? Namespace,
    string? Streams,
    string? SourceFile,
    string? SourceSha256,
    string? Access = null,
    string? ReadError = null,
    string? KServeClient = null);
