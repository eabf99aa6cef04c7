namespace TypedTrt.Serving.KServe;

/// <summary>One inference request: model, optional version and id, input tensors, and the outputs wanted (none: all).</summary>
public sealed class KServeInferRequest
{
    /// <summary>Creates a request for a model.</summary>
    public KServeInferRequest(string modelName)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelName);
        ModelName = modelName;
    }

    /// <summary>The model name.</summary>
    public string ModelName { get; }

    /// <summary>The model version; <see langword="null"/> lets the server choose.</summary>
    public string? ModelVersion { get; init; }

    /// <summary>An id the server echoes back.</summary>
    public string? Id { get; init; }

    /// <summary>The input tensors.</summary>
    public IList<KServeTensor> Inputs { get; } = new List<KServeTensor>();

    /// <summary>Names of the outputs to return; empty: every output.</summary>
    public IList<string> Outputs { get; } = new List<string>();
}
