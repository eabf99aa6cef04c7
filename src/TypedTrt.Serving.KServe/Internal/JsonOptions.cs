using System.Text.Encodings.Web;
using System.Text.Json;

namespace TypedTrt.Serving.KServe.Internal;

internal static class JsonOptions
{
    /// <summary>Responses are JSON API bodies, not HTML: keep quotes and '/' in names and messages readable (JSON-escaping only what JSON requires).</summary>
    public static readonly JsonWriterOptions Writer = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
