namespace TypedTrt.Manifest;

/// <summary>
/// Which output dims a runner can know before the run. The one statement of that rule: the inspector reports it
/// (<c>typedtrt inspect</c>), the generator documents it on generated properties and the runtime's ONNX Runtime
/// backend resolves output shapes the same way.
/// </summary>
/// <remarks>
/// <para>ONNX models: a dynamic output dim is known before the run when an input has a dim of the same name (its value
/// is that input dim's); a dynamic dim without a name, or with a name that no input dim has (Paddle2ONNX's
/// <c>p2o.DynamicDimension.N</c>, a NonZero count, TopK with a tensor k), is known only after the run.</para>
/// <para>TensorRT engines resolve output shapes from input shapes themselves; only data-dependent outputs (NonZero,
/// NMS) are known after the run, and a plan's metadata does not say which: this rule reports no engine output, and the
/// runner learns it from the engine when it is created.</para>
/// </remarks>
public static class OutputShapeRules
{
    /// <summary>Whether dimension <paramref name="dim"/> of an output is known only after the run.</summary>
    /// <param name="manifest">The model's manifest.</param>
    /// <param name="output">An output of <paramref name="manifest"/>.</param>
    /// <param name="dim">The dimension index.</param>
    /// <exception cref="ArgumentException"><paramref name="output"/> is not an output of the manifest.</exception>
    public static bool IsDimKnownOnlyAfterRun(this BindingManifest manifest, TensorBinding output, int dim)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(output);
        if (output.Mode != TensorMode.Output || !ReferenceEquals(manifest.Find(output.Name), output))
            throw new ArgumentException($"'{output.Name}' is not an output of this manifest.", nameof(output));
        ArgumentOutOfRangeException.ThrowIfNegative(dim);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(dim, output.Rank);
        if (output.Shape[dim] >= 0 || manifest.Source.Kind != ModelKind.Onnx)
            return false;
        string name = output.DimNames[dim];
        return name.Length == 0 || !InputsHaveDim(manifest, name);
    }

    /// <summary>Whether an output's shape is known only after the run (any of its dims is, see <see cref="IsDimKnownOnlyAfterRun"/>).</summary>
    /// <param name="manifest">The model's manifest.</param>
    /// <param name="output">An output of <paramref name="manifest"/>.</param>
    public static bool IsShapeKnownAfterRun(this BindingManifest manifest, TensorBinding output)
    {
        ArgumentNullException.ThrowIfNull(output);
        for (int d = 0; d < output.Rank; d++)
        {
            if (manifest.IsDimKnownOnlyAfterRun(output, d))
                return true;
        }

        return false;
    }

    /// <summary>The outputs whose shape is known only after the run, in model order.</summary>
    public static IReadOnlyList<TensorBinding> OutputsKnownAfterRun(this BindingManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return manifest.Outputs.Where(manifest.IsShapeKnownAfterRun).ToArray();
    }

    private static bool InputsHaveDim(BindingManifest manifest, string name)
    {
        foreach (var t in manifest.Tensors)
        {
            if (t.Mode != TensorMode.Input)
                continue;
            foreach (string n in t.DimNames)
            {
                if (n == name)
                    return true;
            }
        }

        return false;
    }
}
