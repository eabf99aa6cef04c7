namespace TypedTrt.Serving.KServe;

/// <summary>
/// Upper bounds on what a peer may make this side allocate. Every declared size (a shape, a <c>binary_data_size</c>, an
/// <c>Inference-Header-Content-Length</c>, a Content-Length) is checked against these and against the others before
/// anything of that size is allocated; a payload over a limit is refused with <see cref="KServeErrorKind.PayloadTooLarge"/>.
/// </summary>
public sealed class KServePayloadLimits
{
    /// <summary>Largest HTTP body or gRPC message, in bytes. Default 64 MiB.</summary>
    public long MaxMessageBytes { get; set; } = 64L << 20;

    /// <summary>Largest JSON part of a REST body (before any binary tensor data), in bytes. Default 16 MiB.</summary>
    public long MaxJsonBytes { get; set; } = 16L << 20;

    /// <summary>Most elements in one tensor. Default 16 Mi.</summary>
    public long MaxTensorElements { get; set; } = 16L << 20;

    /// <summary>Largest tensor, in bytes. Default 64 MiB.</summary>
    public long MaxTensorBytes { get; set; } = 64L << 20;

    /// <summary>Most dimensions of one tensor. Default 16 (the runtime's limit).</summary>
    public int MaxRank { get; set; } = 16;

    /// <summary>Most input tensors (or output tensors) in one message. Default 256.</summary>
    public int MaxTensors { get; set; } = 256;

    /// <summary>Checks that every limit is positive.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A limit is zero or negative.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxMessageBytes, 1, nameof(MaxMessageBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxJsonBytes, 1, nameof(MaxJsonBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxTensorElements, 1, nameof(MaxTensorElements));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxTensorBytes, 1, nameof(MaxTensorBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxRank, 1, nameof(MaxRank));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxTensors, 1, nameof(MaxTensors));
    }
}
