using System.Globalization;
using TypedTrt.Runtime;
using TypedTrt.Serving.KServe.Wire;

namespace TypedTrt.Serving.KServe.Internal;

/// <summary>The protocol-independent half of the server: model lookup, input checks against the model, running, error mapping.</summary>
internal static class InferenceCore
{
    /// <summary>The model, checked against an optional version; a <see cref="KServeErrorKind.NotFound"/> error naming what exists otherwise.</summary>
    public static KServeModel Resolve(IKServeModelRepository repository, string name, string? version)
    {
        var model = repository.Find(name);
        if (model is null)
        {
            var names = repository.Models.Select(m => $"'{m.Name}'").ToArray();
            throw new KServeException(KServeErrorKind.NotFound, $"Model '{name}' is not served here; models: {(names.Length == 0 ? "none" : string.Join(", ", names))}.");
        }

        if (!string.IsNullOrEmpty(version) && version != model.Version)
            throw new KServeException(KServeErrorKind.NotFound, $"Model '{name}' has no version '{version}'; the version served is '{model.Version}'.");
        return model;
    }

    /// <summary>
    /// Checks one input's name, datatype and declared shape against the model and the limits, before any data is read;
    /// returns the model's tensor, the element and byte counts.
    /// </summary>
    public static (KServeModel.TensorSpec Spec, long Elements, long Bytes) CheckInput(KServeModel model, string name, string datatype, ReadOnlySpan<long> shape, KServePayloadLimits limits)
    {
        var spec = model.FindInput(name)
            ?? throw new KServeException(KServeErrorKind.InvalidArgument, $"Model '{model.Name}' has no input '{name}'; its inputs are {string.Join(", ", model.InputSpecs.Select(s => $"'{s.Binding.Name}'"))}.");
        string what = $"Input '{name}'";
        if (datatype != spec.Datatype)
        {
            string hint = KServeDataTypes.IsKnown(datatype) ? "" : " (not a protocol datatype)";
            throw new KServeException(KServeErrorKind.InvalidArgument, $"{what} has datatype {datatype}{hint}; the model takes {spec.Datatype}.");
        }

        var b = spec.Binding;
        if (shape.Length != b.Rank)
            throw new KServeException(KServeErrorKind.InvalidArgument, $"{what} has shape {KServeTensor.Format(shape)} (rank {shape.Length}); the model takes rank {b.Rank}: {TypedTrt.Manifest.TensorBinding.FormatShape(b.Shape)}.");
        for (int d = 0; d < shape.Length; d++)
        {
            if (b.Shape[d] >= 0)
            {
                if (shape[d] != b.Shape[d])
                    throw new KServeException(KServeErrorKind.InvalidArgument, $"{what} has dimension {d} = {shape[d]}; the model's shape is {TypedTrt.Manifest.TensorBinding.FormatShape(b.Shape)}.");
            }
            else if (shape[d] < spec.Min[d] || shape[d] > spec.Max[d])
            {
                string dimName = b.DimNames.Count > d && b.DimNames[d].Length > 0 ? $" ('{b.DimNames[d]}')" : "";
                string range = spec.Min[d] < 0 ? "0 or more" : $"within {spec.Min[d]}..{spec.Max[d]}";
                if (shape[d] < 0 || spec.Min[d] >= 0)
                    throw new KServeException(KServeErrorKind.InvalidArgument, $"{what} has dimension {d}{dimName} = {shape[d]}; it must be {range} (model shape {TypedTrt.Manifest.TensorBinding.FormatShape(b.Shape)}).");
            }
        }

        var (elements, bytes) = TensorShapes.Measure(what, shape, spec.ElementSize, limits);
        return (spec, elements, bytes);
    }

    /// <summary>Checks that every model input was given exactly once; <paramref name="byInput"/> is indexed like <see cref="KServeModel.InputSpecs"/>.</summary>
    public static void CheckComplete(KServeModel model, InferenceInput?[] byInput)
    {
        for (int i = 0; i < model.InputSpecs.Length; i++)
        {
            if (byInput[i] is null)
            {
                var s = model.InputSpecs[i];
                throw new KServeException(KServeErrorKind.InvalidArgument, $"Model '{model.Name}' needs input '{s.Binding.Name}' ({s.Datatype} {TypedTrt.Manifest.TensorBinding.FormatShape(s.Binding.Shape)}); the request does not give it.");
            }
        }
    }

    /// <summary>The position of an input in <see cref="KServeModel.InputSpecs"/>, refusing a second occurrence.</summary>
    public static int Slot(KServeModel model, KServeModel.TensorSpec spec, InferenceInput?[] byInput)
    {
        int slot = Array.IndexOf(model.InputSpecs, spec);
        if (byInput[slot] is not null)
            throw new KServeException(KServeErrorKind.InvalidArgument, $"Input '{spec.Binding.Name}' is given twice.");
        return slot;
    }

    /// <summary>Resolves requested output names (none: every output) to specs, refusing unknown and repeated names.</summary>
    public static KServeModel.TensorSpec ResolveOutput(KServeModel model, string name, List<KServeModel.TensorSpec> already)
    {
        var spec = model.FindOutput(name)
            ?? throw new KServeException(KServeErrorKind.InvalidArgument, $"Model '{model.Name}' has no output '{name}'; its outputs are {string.Join(", ", model.OutputSpecs.Select(s => $"'{s.Binding.Name}'"))}.");
        if (already.Contains(spec))
            throw new KServeException(KServeErrorKind.InvalidArgument, $"Output '{name}' is requested twice.");
        return spec;
    }

    /// <summary>Runs the request, turning the runner's exceptions into protocol errors.</summary>
    public static async ValueTask<InferenceResult> RunAsync(KServeModel model, InferenceInput?[] byInput, CancellationToken cancellationToken)
    {
        if (!model.IsReady)
            throw new KServeException(KServeErrorKind.Unavailable, $"Model '{model.Name}' is not ready.");
        var inputs = new InferenceInput[byInput.Length];
        for (int i = 0; i < inputs.Length; i++)
            inputs[i] = byInput[i]!.Value;
        try
        {
            return await model.Handler(inputs, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (cancellationToken.IsCancellationRequested)
        {
            throw new KServeException(KServeErrorKind.Cancelled, $"The request to model '{model.Name}' was cancelled.", ex);
        }
        catch (ObjectDisposedException ex)
        {
            throw new KServeException(KServeErrorKind.Unavailable, $"Model '{model.Name}' is shutting down.", ex);
        }
        catch (ArgumentException ex)
        {
            throw new KServeException(KServeErrorKind.InvalidArgument, ex.Message.Split(" (Parameter '", 2)[0], ex);
        }
        catch (Exception ex) when (ex is not KServeException)
        {
            throw new KServeException(KServeErrorKind.Internal, $"Model '{model.Name}' failed to run the request: {ex.Message}", ex);
        }
    }

    public static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}
