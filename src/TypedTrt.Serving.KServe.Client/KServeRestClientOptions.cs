namespace TypedTrt.Serving.KServe;

/// <summary>Options of a <see cref="KServeRestClient"/>.</summary>
public sealed class KServeRestClientOptions
{
    /// <summary>Send inputs as Triton binary tensor data after the JSON header (default), instead of JSON numbers.</summary>
    public bool BinaryInputs { get; set; } = true;

    /// <summary>Ask for outputs as binary tensor data (default), instead of JSON numbers.</summary>
    public bool BinaryOutputs { get; set; } = true;

    /// <summary>What a response may make the client allocate.</summary>
    public KServePayloadLimits Limits { get; set; } = new();
}
