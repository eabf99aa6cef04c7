namespace TypedTrt.Serving.KServe;

/// <summary>What kind of failure a <see cref="KServeException"/> reports; it decides the HTTP status and the gRPC status code.</summary>
public enum KServeErrorKind
{
    /// <summary>The request is malformed or does not fit the model (HTTP 400, gRPC <c>INVALID_ARGUMENT</c>).</summary>
    InvalidArgument,

    /// <summary>No such model or version (HTTP 404, gRPC <c>NOT_FOUND</c>).</summary>
    NotFound,

    /// <summary>The payload, a tensor or a shape is larger than the configured limits (HTTP 413, gRPC <c>RESOURCE_EXHAUSTED</c>).</summary>
    PayloadTooLarge,

    /// <summary>The model is not ready or is shutting down (HTTP 503, gRPC <c>UNAVAILABLE</c>).</summary>
    Unavailable,

    /// <summary>The engine failed while running the request (HTTP 500, gRPC <c>INTERNAL</c>).</summary>
    Internal,

    /// <summary>The request was cancelled (HTTP 499, gRPC <c>CANCELLED</c>).</summary>
    Cancelled,
}
