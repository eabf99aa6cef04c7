using System.Text.Json;
using TypedTrt.Runtime;
using TypedTrt.Serving.KServe.Wire;

namespace TypedTrt.Serving.KServe.Internal;

/// <summary>An <c>$inference_request</c> decoded against a model: inputs in model order, requested outputs, id.</summary>
internal sealed class DecodedRequest
{
    public required InferenceInput?[] Inputs { get; init; }

    public required List<KServeModel.TensorSpec> Outputs { get; init; }

    /// <summary>Per entry of <see cref="Outputs"/>: whether it goes back as binary data (REST only).</summary>
    public required List<bool> BinaryOutputs { get; init; }

    public string? Id { get; init; }
}

/// <summary>Decodes a REST inference body (JSON, optionally followed by Triton binary tensor data) against a model.</summary>
internal static class RestRequestDecoder
{
    public static DecodedRequest Decode(KServeModel model, ReadOnlyMemory<byte> json, ReadOnlyMemory<byte> binary, KServePayloadLimits limits)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException ex)
        {
            throw RestWire.Invalid($"The request's JSON is malformed: {ex.Message}");
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw RestWire.Invalid("The request must be a JSON object with \"inputs\".");
            string? id = null;
            if (root.TryGetProperty("id", out var idElement) && idElement.ValueKind != JsonValueKind.Null)
            {
                id = idElement.ValueKind == JsonValueKind.String
                    ? idElement.GetString()
                    : throw RestWire.Invalid($"The request's \"id\" is {RestWire.Clip(idElement.GetRawText())}; it must be a string.");
            }

            if (root.TryGetProperty("parameters", out var ps) && ps.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
                throw RestWire.Invalid("The request's \"parameters\" must be an object.");
            bool binaryDefault = RestWire.GetBool(root, RestWire.BinaryDataOutput, false, "The request");
            if (!root.TryGetProperty("inputs", out var inputs) || inputs.ValueKind != JsonValueKind.Array)
                throw RestWire.Invalid("The request has no \"inputs\" array.");
            int count = inputs.GetArrayLength();
            if (count > limits.MaxTensors)
                throw new KServeException(KServeErrorKind.PayloadTooLarge, $"The request has {count} inputs; at most {limits.MaxTensors} are accepted.");

            var byInput = new InferenceInput?[model.InputSpecs.Length];
            long offset = 0;
            int position = 0;
            foreach (var e in inputs.EnumerateArray())
            {
                var h = RestWire.ReadTensorHeader(e, "input", position++, limits);
                var (spec, elements, bytes) = InferenceCore.CheckInput(model, h.Name, h.Datatype, h.Shape, limits);
                int slot = InferenceCore.Slot(model, spec, byInput);
                var data = RestWire.ReadTensorData(h, $"Input '{h.Name}'", elements, bytes, spec.ElementSize, binary, ref offset);
                byInput[slot] = new InferenceInput(spec.Index, data, h.Shape);
            }

            if (offset != binary.Length)
                throw RestWire.Invalid($"The body has {binary.Length - offset} bytes of binary data after the JSON header that no input claims (the inputs' binary_data_size add up to {offset} of {binary.Length}).");
            InferenceCore.CheckComplete(model, byInput);

            var outputs = new List<KServeModel.TensorSpec>();
            var binaryOutputs = new List<bool>();
            if (root.TryGetProperty("outputs", out var requested) && requested.ValueKind != JsonValueKind.Null)
            {
                if (requested.ValueKind != JsonValueKind.Array)
                    throw RestWire.Invalid("The request's \"outputs\" must be an array.");
                foreach (var o in requested.EnumerateArray())
                {
                    string name = o.ValueKind == JsonValueKind.Object && o.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String
                        ? n.GetString()!
                        : throw RestWire.Invalid("A requested output has no \"name\" string.");
                    var spec = InferenceCore.ResolveOutput(model, name, outputs);
                    if (o.TryGetProperty("parameters", out var ops) && ops.ValueKind == JsonValueKind.Object && ops.TryGetProperty("classification", out _))
                        throw RestWire.Invalid($"Output '{name}' asks for the classification extension, which this server does not implement.");
                    outputs.Add(spec);
                    binaryOutputs.Add(RestWire.GetBool(o, RestWire.BinaryData, binaryDefault, $"Output '{name}'"));
                }
            }

            if (outputs.Count == 0)
            {
                foreach (var spec in model.OutputSpecs)
                {
                    outputs.Add(spec);
                    binaryOutputs.Add(binaryDefault);
                }
            }

            return new DecodedRequest { Inputs = byInput, Outputs = outputs, BinaryOutputs = binaryOutputs, Id = id };
        }
    }
}
