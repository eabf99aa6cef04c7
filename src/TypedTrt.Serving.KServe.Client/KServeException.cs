using System.Net;
using Grpc.Core;

namespace TypedTrt.Serving.KServe;

/// <summary>
/// A protocol error: on the server it becomes the protocol's error response (<c>{"error": "..."}</c> with an HTTP status,
/// or a gRPC status); on the client it is what the server answered, with its message.
/// </summary>
public sealed class KServeException : Exception
{
    /// <summary>Creates an error of the given kind.</summary>
    public KServeException(KServeErrorKind kind, string message, Exception? innerException = null)
        : base(message, innerException) => Kind = kind;

    /// <summary>Creates an <see cref="KServeErrorKind.InvalidArgument"/> error.</summary>
    public KServeException() : this(KServeErrorKind.InvalidArgument, "The request is not valid.") { }

    /// <summary>Creates an <see cref="KServeErrorKind.InvalidArgument"/> error.</summary>
    public KServeException(string message) : this(KServeErrorKind.InvalidArgument, message) { }

    /// <summary>Creates an <see cref="KServeErrorKind.InvalidArgument"/> error with a cause.</summary>
    public KServeException(string message, Exception innerException) : this(KServeErrorKind.InvalidArgument, message, innerException) { }

    /// <summary>What kind of failure this is.</summary>
    public KServeErrorKind Kind { get; }

    /// <summary>The HTTP status the REST endpoints answer with (or, on the client, answered with).</summary>
    public HttpStatusCode HttpStatus => ToHttpStatus(Kind);

    /// <summary>The gRPC status code the gRPC service answers with.</summary>
    public StatusCode GrpcStatus => ToGrpcStatus(Kind);

    /// <summary>The HTTP status of an error kind.</summary>
    public static HttpStatusCode ToHttpStatus(KServeErrorKind kind) => kind switch
    {
        KServeErrorKind.NotFound => HttpStatusCode.NotFound,
        KServeErrorKind.PayloadTooLarge => HttpStatusCode.RequestEntityTooLarge,
        KServeErrorKind.Unavailable => HttpStatusCode.ServiceUnavailable,
        KServeErrorKind.Internal => HttpStatusCode.InternalServerError,
        KServeErrorKind.Cancelled => (HttpStatusCode)499,
        _ => HttpStatusCode.BadRequest,
    };

    /// <summary>The gRPC status code of an error kind.</summary>
    public static StatusCode ToGrpcStatus(KServeErrorKind kind) => kind switch
    {
        KServeErrorKind.NotFound => StatusCode.NotFound,
        KServeErrorKind.PayloadTooLarge => StatusCode.ResourceExhausted,
        KServeErrorKind.Unavailable => StatusCode.Unavailable,
        KServeErrorKind.Internal => StatusCode.Internal,
        KServeErrorKind.Cancelled => StatusCode.Cancelled,
        _ => StatusCode.InvalidArgument,
    };

    /// <summary>The error kind of an HTTP status (client side).</summary>
    public static KServeErrorKind FromHttpStatus(HttpStatusCode status) => (int)status switch
    {
        404 => KServeErrorKind.NotFound,
        413 => KServeErrorKind.PayloadTooLarge,
        503 => KServeErrorKind.Unavailable,
        499 => KServeErrorKind.Cancelled,
        >= 500 => KServeErrorKind.Internal,
        _ => KServeErrorKind.InvalidArgument,
    };

    /// <summary>The error kind of a gRPC status code (client side).</summary>
    public static KServeErrorKind FromGrpcStatus(StatusCode status) => status switch
    {
        StatusCode.NotFound => KServeErrorKind.NotFound,
        StatusCode.ResourceExhausted => KServeErrorKind.PayloadTooLarge,
        StatusCode.Unavailable => KServeErrorKind.Unavailable,
        StatusCode.Cancelled or StatusCode.DeadlineExceeded => KServeErrorKind.Cancelled,
        StatusCode.InvalidArgument or StatusCode.FailedPrecondition or StatusCode.OutOfRange => KServeErrorKind.InvalidArgument,
        _ => KServeErrorKind.Internal,
    };
}
