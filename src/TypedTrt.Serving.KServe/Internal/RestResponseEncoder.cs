using System.Buffers;
using System.Text.Json;
using TypedTrt.Runtime;
using TypedTrt.Serving.KServe.Wire;

namespace TypedTrt.Serving.KServe.Internal;

/// <summary>Writes an <c>$inference_response</c>: JSON outputs, and binary outputs after the JSON (Triton's extension).</summary>
internal static class RestResponseEncoder
{
    public static (ArrayBufferWriter<byte> Json, List<ReadOnlyMemory<byte>> Binary) Encode(KServeModel model, DecodedRequest request, InferenceResult result)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        var binary = new List<ReadOnlyMemory<byte>>();
        using (var w = new Utf8JsonWriter(buffer, JsonOptions.Writer))
        {
            w.WriteStartObject();
            w.WriteString("model_name", model.Name);
            w.WriteString("model_version", model.Version);
            if (request.Id is not null)
                w.WriteString("id", request.Id);
            w.WriteStartArray("outputs");
            for (int i = 0; i < request.Outputs.Count; i++)
            {
                var spec = request.Outputs[i];
                var output = result.GetOutput(spec.Index);
                w.WriteStartObject();
                w.WriteString("name", spec.Binding.Name);
                w.WriteString("datatype", spec.Datatype);
                w.WriteStartArray("shape");
                foreach (long d in output.Shape)
                    w.WriteNumberValue(d);
                w.WriteEndArray();
                if (request.BinaryOutputs[i])
                {
                    w.WriteStartObject("parameters");
                    w.WriteNumber(RestWire.BinaryDataSize, output.Data.Length);
                    w.WriteEndObject();
                    binary.Add(output.Data);
                }
                else
                {
                    w.WritePropertyName("data");
                    TensorJson.Write(w, spec.Datatype, output.Data.Span);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return (buffer, binary);
    }
}
