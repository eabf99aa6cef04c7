using TypedTrt.Runtime;

namespace TypedTrt.Serving.KServe;

/// <summary>
/// Runs one request with untyped inputs, like <see cref="InferenceRunner.RunAsync(IReadOnlyList{InferenceInput}, CancellationToken)"/>
/// (a batching front end or another runner wrapper can stand in for the runner).
/// </summary>
public delegate ValueTask<InferenceResult> KServeInferHandler(IReadOnlyList<InferenceInput> inputs, CancellationToken cancellationToken);
