using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry.Metrics;
using TypedTrt.Hosting;
using TypedTrt.OnnxRuntime;
using TypedTrt.Runtime.Diagnostics;
using TypedTrt.Samples.DigitsService;
using TypedTrt.TensorRT;

// The served Digits sample: `dotnet run --project samples/DigitsService`, then
//   curl -s localhost:5080/health/ready
//   curl -s localhost:5080/v1/digits/classify -H 'content-type: application/json' -d '{"pixels":[ ...64 values in 0..1... ]}'
//   curl -s localhost:5080/metrics
var builder = WebApplication.CreateBuilder(args);

// Backends a model can name in TypedTrt:Models:<name>:Backend (appsettings.json).
builder.Services.AddTypedTrtBackend("onnxruntime", c => OnnxRuntimeEngine.Load(c.ModelPath, c.Signature));
builder.Services.AddTypedTrtBackend("tensorrt", c => TensorRtEngine.Load(c.ModelPath, c.Signature));

// The generated runner, hosted: options from TypedTrt:Models:digits, loaded and warmed up before the server listens,
// drained and disposed (runner, then engine) at shutdown. Handlers get DigitClassifierRunner from DI.
builder.Services.AddTypedTrtRunner(
    "digits",
    DigitClassifier.Signature,
    static (engine, options) => new DigitClassifierRunner(engine, options),
    static runner => runner.Runner)
    .As<IDigitClassifierRunner>(); // handlers may depend on the generated interface instead

builder.Services.AddHealthChecks().AddTypedTrt();
builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(TypedTrtTelemetry.MeterName).AddPrometheusExporter());
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, DigitsJson.Default));

var app = builder.Build();

// Liveness: the process answers. Readiness: every model loaded and warmed up; 503 while draining or after a sticky
// CUDA error (whose description says to restart the process).
app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
app.MapHealthChecks("/health/ready", new HealthCheckOptions
{
    Predicate = c => c.Tags.Contains(TypedTrtHealthChecksBuilderExtensions.ReadyTag),
    ResultStatusCodes = { [HealthStatus.Healthy] = 200, [HealthStatus.Degraded] = 503, [HealthStatus.Unhealthy] = 503 },
    ResponseWriter = HealthResponse.WriteAsync,
});
app.MapPrometheusScrapingEndpoint(); // GET /metrics
app.MapPost("/v1/digits/classify", Endpoints.ClassifyAsync);
app.MapGet("/v1/models", Endpoints.Models);

app.Run();

/// <summary>The entry point's class, public for <c>WebApplicationFactory&lt;Program&gt;</c> in the tests.</summary>
public partial class Program;

namespace TypedTrt.Samples.DigitsService
{
    /// <summary>The service's endpoints.</summary>
    internal static class Endpoints
    {
        private const int PixelsPerDigit = 64;

        /// <summary>
        /// Classifies one or more 8×8 digits: <c>pixels</c> holds 64 intensities in 0..1 per digit, row by row (the
        /// scikit-learn digits divided by 16), for 1..32 digits (the optimization profile's batch range).
        /// </summary>
        public static async Task<IResult> ClassifyAsync(ClassifyRequest request, DigitClassifierRunner runner, CancellationToken cancellationToken)
        {
            float[]? pixels = request.Pixels;
            if (pixels is null || pixels.Length == 0 || pixels.Length % PixelsPerDigit != 0)
            {
                var error = new ArgumentException($"'pixels' must hold {PixelsPerDigit} values per digit (8×8, row by row); got {pixels?.Length ?? 0}.");
                runner.Runner.RecordRejectedRequest(error); // the service's own validation: typedtrt.request.failures{error.type="invalid_input"}
                return Results.Problem(error.Message, statusCode: 400, title: "Invalid input");
            }

            int digits = pixels.Length / PixelsPerDigit;
            DigitClassifierOutput output;
            try
            {
                output = await runner.RunAsync(new DigitClassifierInput { Pixels = pixels, PixelsShape = [digits, 1, 8, 8] }, cancellationToken);
            }
            catch (ArgumentException e)
            {
                // The runner's own message, naming the tensor, the dimension and the profile's range (1..32 digits); the
                // runner counted it in typedtrt.request.failures{error.type="invalid_input"}.
                return Results.Problem(e.Message, statusCode: 400, title: "Invalid input");
            }

            var predictions = new Prediction[digits];
            for (int i = 0; i < digits; i++)
            {
                float[] p = output.Probabilities.AsSpan(i * 10, 10).ToArray();
                int best = 0;
                for (int c = 1; c < p.Length; c++)
                {
                    if (p[c] > p[best])
                        best = c;
                }

                predictions[i] = new Prediction(best, p[best], p);
            }

            return Results.Ok(new ClassifyResponse(predictions));
        }

        /// <summary>The hosted models: name, state, backend and tensors (from the registry).</summary>
        public static ModelInfo[] Models(TypedTrtModelRegistry registry) =>
            [.. registry.Models.Select(m => new ModelInfo(
                m.Name,
                m.State.ToString(),
                m.Backend,
                [.. m.Signature.Tensors.Select(t => new TensorInfo(t.Name, t.Mode.ToString().ToLowerInvariant(), t.DTypeName, [.. t.Shape]))]))];
    }

    /// <summary>Writes a health report as JSON: overall status and each check's status and description.</summary>
    internal static class HealthResponse
    {
        public static Task WriteAsync(HttpContext context, HealthReport report)
        {
            var body = new HealthBody(
                report.Status.ToString(),
                [.. report.Entries.Select(e => new HealthEntry(e.Key, e.Value.Status.ToString(), e.Value.Description))]);
            return context.Response.WriteAsJsonAsync(body, DigitsJson.Default.HealthBody);
        }
    }

    /// <summary>POST /v1/digits/classify body.</summary>
    /// <param name="Pixels">64 intensities (0..1) per digit.</param>
    internal sealed record ClassifyRequest(float[]? Pixels);

    /// <summary>POST /v1/digits/classify response.</summary>
    internal sealed record ClassifyResponse(Prediction[] Predictions);

    /// <summary>One digit's class, its probability and all ten probabilities.</summary>
    internal sealed record Prediction(int Digit, float Probability, float[] Probabilities);

    /// <summary>GET /v1/models entry.</summary>
    internal sealed record ModelInfo(string Name, string State, string? Backend, TensorInfo[] Tensors);

    /// <summary>A tensor of a hosted model (-1: dynamic dimension).</summary>
    internal sealed record TensorInfo(string Name, string Mode, string DType, long[] Shape);

    /// <summary>Health endpoint body.</summary>
    internal sealed record HealthBody(string Status, HealthEntry[] Checks);

    /// <summary>One health check's result.</summary>
    internal sealed record HealthEntry(string Name, string Status, string? Description);

    /// <summary>System.Text.Json source generation for the service's types (no reflection).</summary>
    [JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
    [JsonSerializable(typeof(ClassifyRequest))]
    [JsonSerializable(typeof(ClassifyResponse))]
    [JsonSerializable(typeof(ModelInfo[]))]
    [JsonSerializable(typeof(HealthBody))]
    [JsonSerializable(typeof(Microsoft.AspNetCore.Mvc.ProblemDetails))]
    internal sealed partial class DigitsJson : JsonSerializerContext;
}
