namespace TypedTrt.Runtime;

/// <summary>The outputs of a convenience run, in model order.</summary>
public sealed class InferenceResult
{
    /// <summary>Creates a result from outputs in model order (runners and remote clients create these).</summary>
    public InferenceResult(IReadOnlyList<InferenceOutput> outputs) => Outputs = outputs ?? throw new ArgumentNullException(nameof(outputs));

    /// <summary>The outputs in model order.</summary>
    public IReadOnlyList<InferenceOutput> Outputs { get; }

    /// <summary>The output with this tensor index.</summary>
    /// <exception cref="ArgumentException">No output has that index.</exception>
    public InferenceOutput GetOutput(int tensorIndex)
    {
        foreach (var o in Outputs)
        {
            if (o.TensorIndex == tensorIndex)
                return o;
        }

        throw new ArgumentException($"Tensor {tensorIndex} is not an output.", nameof(tensorIndex));
    }

    /// <summary>The output with this name.</summary>
    /// <exception cref="ArgumentException">No output has that name.</exception>
    public InferenceOutput GetOutput(string name)
    {
        foreach (var o in Outputs)
        {
            if (o.Name == name)
                return o;
        }

        throw new ArgumentException($"No output is named '{name}'.", nameof(name));
    }
}
