using System.Globalization;
using TypedTrt.Manifest;

namespace TypedTrt.Runtime.Engine;

/// <summary>
/// Compares the signature code was generated from (<em>expected</em>) with the signature a backend actually loaded
/// (<em>actual</em>), so a model or engine that drifted from its bindings fails at load with every difference listed
/// instead of producing garbage at the first request.
/// </summary>
public static class SignatureVerifier
{
    /// <summary>Lists every difference between two signatures: missing or extra tensors, modes, dtypes, ranks and static dims.</summary>
    /// <param name="expected">The signature the caller's code was generated from.</param>
    /// <param name="actual">The signature the backend reports.</param>
    /// <param name="compareProfiles">Also compare optimization profiles (engines carry them; ONNX models do not).</param>
    /// <returns>Human-readable differences; empty when the signatures agree.</returns>
    public static IReadOnlyList<string> Compare(BindingManifest expected, BindingManifest actual, bool compareProfiles)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(actual);
        var diffs = new List<string>();
        foreach (var e in expected.Tensors)
        {
            var a = actual.Find(e.Name);
            if (a is null)
            {
                diffs.Add($"{Mode(e.Mode)} '{e.Name}' is missing from the loaded model.");
                continue;
            }

            if (a.Mode != e.Mode)
                diffs.Add($"'{e.Name}' is an {Mode(a.Mode)} in the loaded model, but an {Mode(e.Mode)} in the bindings.");
            if (a.DTypeName != e.DTypeName)
                diffs.Add($"'{e.Name}' has dtype {a.DTypeName} in the loaded model, but {e.DTypeName} in the bindings.");
            if (a.Rank != e.Rank)
            {
                diffs.Add($"'{e.Name}' has shape {Shape(a.Shape)} (rank {a.Rank}) in the loaded model, but {Shape(e.Shape)} (rank {e.Rank}) in the bindings.");
                continue;
            }

            for (int d = 0; d < e.Rank; d++)
            {
                if (a.Shape[d] != e.Shape[d])
                    diffs.Add($"'{e.Name}' dimension {d} is {Dim(a.Shape[d])} in the loaded model, but {Dim(e.Shape[d])} in the bindings ({Shape(a.Shape)} vs {Shape(e.Shape)}).");
            }
        }

        foreach (var a in actual.Tensors)
        {
            if (expected.Find(a.Name) is null)
                diffs.Add($"the loaded model has an extra {Mode(a.Mode)} '{a.Name}' {Shape(a.Shape)} that the bindings do not know.");
        }

        if (compareProfiles)
        {
            if (actual.Profiles.Count != expected.Profiles.Count)
                diffs.Add($"the loaded model has {actual.Profiles.Count} optimization profile(s), the bindings {expected.Profiles.Count}.");
            for (int p = 0; p < Math.Min(actual.Profiles.Count, expected.Profiles.Count); p++)
            {
                foreach (var er in expected.Profiles[p].Inputs)
                {
                    var ar = actual.Profiles[p].Find(er.Name);
                    if (ar is null)
                        diffs.Add($"profile {p}: no range for '{er.Name}' in the loaded model.");
                    else if (!er.Min.SequenceEqual(ar.Min) || !er.Opt.SequenceEqual(ar.Opt) || !er.Max.SequenceEqual(ar.Max))
                        diffs.Add($"profile {p}: '{er.Name}' allows {Range(ar)} in the loaded model, but {Range(er)} in the bindings.");
                }
            }
        }

        return diffs;
    }

    /// <summary>Throws <see cref="SignatureMismatchException"/> listing every difference, if any.</summary>
    public static void Verify(BindingManifest expected, BindingManifest actual, bool compareProfiles, string modelDescription)
    {
        var diffs = Compare(expected, actual, compareProfiles);
        if (diffs.Count > 0)
            throw new SignatureMismatchException(modelDescription, diffs);
    }

    private static string Mode(TensorMode m) => m == TensorMode.Input ? "input" : "output";

    private static string Dim(long d) => d < 0 ? "dynamic" : d.ToString(CultureInfo.InvariantCulture);

    private static string Shape(IReadOnlyList<long> s) => TensorBinding.FormatShape(s);

    private static string Range(ProfileShape r) => $"min {Shape(r.Min)}, opt {Shape(r.Opt)}, max {Shape(r.Max)}";
}

/// <summary>The model a backend loaded does not match the bindings the code was generated from.</summary>
public sealed class SignatureMismatchException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SignatureMismatchException(string modelDescription, IReadOnlyList<string> differences)
        : base($"{modelDescription} does not match the bindings it was generated from ({differences.Count} difference(s)):"
               + string.Concat(differences.Select(d => "\n  - " + d))
               + "\nRebuild the project so the bindings are regenerated from this model, or load the model the bindings were made from.")
    {
        Differences = differences;
    }

    /// <summary>Creates the exception.</summary>
    public SignatureMismatchException() : this("The model", []) { }

    /// <summary>Creates the exception.</summary>
    public SignatureMismatchException(string message) : base(message) => Differences = [];

    /// <summary>Creates the exception.</summary>
    public SignatureMismatchException(string message, Exception inner) : base(message, inner) => Differences = [];

    /// <summary>Every difference found.</summary>
    public IReadOnlyList<string> Differences { get; }
}
