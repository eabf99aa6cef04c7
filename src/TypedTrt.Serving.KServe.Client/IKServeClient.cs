namespace TypedTrt.Serving.KServe;

/// <summary>
/// A KServe v2 / Open Inference Protocol client on untyped tensors: <see cref="KServeGrpcClient"/> (gRPC) or
/// <see cref="KServeRestClient"/> (HTTP/REST). Errors the server reports are <see cref="KServeException"/>s carrying its message.
/// </summary>
public interface IKServeClient
{
    /// <summary>Whether the server is live.</summary>
    Task<bool> IsServerLiveAsync(CancellationToken cancellationToken = default);

    /// <summary>Whether the server is ready (all models ready).</summary>
    Task<bool> IsServerReadyAsync(CancellationToken cancellationToken = default);

    /// <summary>Whether a model (and version) is ready.</summary>
    Task<bool> IsModelReadyAsync(string modelName, string? modelVersion = null, CancellationToken cancellationToken = default);

    /// <summary>The server's metadata.</summary>
    Task<KServeServerMetadata> GetServerMetadataAsync(CancellationToken cancellationToken = default);

    /// <summary>A model's metadata.</summary>
    Task<KServeModelMetadata> GetModelMetadataAsync(string modelName, string? modelVersion = null, CancellationToken cancellationToken = default);

    /// <summary>Runs one inference.</summary>
    Task<KServeInferResponse> InferAsync(KServeInferRequest request, CancellationToken cancellationToken = default);
}
