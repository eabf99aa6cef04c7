// Shared source (TypedTrt.Manifest and TypedTrt.Generators; the inspector can call it through
// TypedTrt.Manifest.BindingManifest.IsShapeKnownOnlyAfterRun); netstandard2.0-compatible.
using System;
using System.Collections.Generic;

namespace TypedTrt.Manifest.Shared;

/// <summary>
/// Which output dimensions no input dimension determines, so that their size is known only after a run
/// (data-dependent outputs such as NonZero or NMS, Paddle2ONNX's per-output symbols, unnamed dynamic dims):
/// a dynamic (-1) output dimension that is unnamed, or whose name is the name of no input dimension.
/// </summary>
internal static class OutputShapeRule
{
    /// <summary>The dimension names of every input (dynamic or not): the symbols an input shape fixes.</summary>
    public static HashSet<string> InputSymbols(IEnumerable<IReadOnlyList<string>> inputDimNames)
    {
        var symbols = new HashSet<string>(StringComparer.Ordinal);
        foreach (IReadOnlyList<string> names in inputDimNames)
        {
            foreach (string name in names)
            {
                if (name.Length > 0)
                    symbols.Add(name);
            }
        }

        return symbols;
    }

    /// <summary>Whether output dimension <paramref name="dim"/> is known only after a run.</summary>
    public static bool IsDimKnownOnlyAfterRun(IReadOnlyList<long> shape, IReadOnlyList<string> dimNames, int dim, HashSet<string> inputSymbols) =>
        shape[dim] < 0 && (dim >= dimNames.Count || dimNames[dim].Length == 0 || !inputSymbols.Contains(dimNames[dim]));

    /// <summary>Whether any dimension of an output is known only after a run.</summary>
    public static bool IsKnownOnlyAfterRun(IReadOnlyList<long> shape, IReadOnlyList<string> dimNames, HashSet<string> inputSymbols)
    {
        for (int d = 0; d < shape.Count; d++)
        {
            if (IsDimKnownOnlyAfterRun(shape, dimNames, d, inputSymbols))
                return true;
        }

        return false;
    }
}
