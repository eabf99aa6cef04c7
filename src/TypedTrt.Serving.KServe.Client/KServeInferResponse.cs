namespace TypedTrt.Serving.KServe;

/// <summary>An inference response: the model and version that ran, the request id, and the output tensors.</summary>
public sealed class KServeInferResponse
{
    /// <summary>Creates a response.</summary>
    public KServeInferResponse(string modelName, string? modelVersion, string? id, IReadOnlyList<KServeTensor> outputs)
    {
        ModelName = modelName;
        ModelVersion = modelVersion;
        Id = id;
        Outputs = outputs ?? throw new ArgumentNullException(nameof(outputs));
    }

    /// <summary>The model that ran.</summary>
    public string ModelName { get; }

    /// <summary>The version that ran, if the server reports one.</summary>
    public string? ModelVersion { get; }

    /// <summary>The request's id, if it had one.</summary>
    public string? Id { get; }

    /// <summary>The outputs in the order the server sent them.</summary>
    public IReadOnlyList<KServeTensor> Outputs { get; }

    /// <summary>The output with this name.</summary>
    /// <exception cref="KeyNotFoundException">The response has no such output.</exception>
    public KServeTensor GetOutput(string name)
    {
        foreach (var o in Outputs)
        {
            if (o.Name == name)
                return o;
        }

        throw new KeyNotFoundException($"The response has no output '{name}'; it has {string.Join(", ", Outputs.Select(o => $"'{o.Name}'"))}.");
    }
}
