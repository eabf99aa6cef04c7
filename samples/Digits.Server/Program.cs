// Serves the Digits classifier over KServe v2 (REST + gRPC) on loopback, and doubles as the load generator of
// docs/benchmarks/kserve-load.md:
//   digits-server [--rest-port 8000] [--grpc-port 8001] [--streams 2] [--batching 32 [--batch-delay-us 100]]
//   digits-server load (inproc|grpc|rest) [--connections 64] [--seconds 30] [--batch 1] [--streams 2] [--batching 32]
// The model is hosted by TypedTrt.Hosting (loaded and warmed up before the server listens, drained at shutdown);
// AddKServe serves every hosted model, so it is not registered a second time.
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedTrt.Hosting;
using TypedTrt.OnnxRuntime;
using TypedTrt.Samples.DigitsServer;
using TypedTrt.Serving.KServe;

string Option(string name, string fallback)
{
    int i = Array.IndexOf(args, "--" + name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}

int IntOption(string name, int fallback) => int.Parse(Option(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

string modelPath = Path.Combine(AppContext.BaseDirectory, "model", "digits.onnx");
int streams = IntOption("streams", 2);
int batching = IntOption("batching", 0);
var batchDelay = TimeSpan.FromMicroseconds(IntOption("batch-delay-us", 100));
if (args.Length > 0 && args[0] == "load")
    return await LoadGenerator.RunAsync(args, Option, modelPath, streams, batching, batchDelay);

int restPort = IntOption("rest-port", 8000);
int grpcPort = IntOption("grpc-port", 8001);
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.ConfigureKestrel(k =>
{
    // Triton's ports; loopback only. REST is HTTP/1.1, gRPC needs HTTP/2 (cleartext: prior knowledge).
    k.Listen(System.Net.IPAddress.Loopback, restPort, o => o.Protocols = HttpProtocols.Http1);
    k.Listen(System.Net.IPAddress.Loopback, grpcPort, o => o.Protocols = HttpProtocols.Http2);
});

// The hosted model's settings, as appsettings.json would give them (TypedTrt:Models:digits:...).
builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
{
    ["TypedTrt:Models:digits:ModelPath"] = modelPath,
    ["TypedTrt:Models:digits:Streams"] = streams.ToString(CultureInfo.InvariantCulture),
    ["TypedTrt:Models:digits:Batching:MaxBatchSize"] = batching.ToString(CultureInfo.InvariantCulture),
    ["TypedTrt:Models:digits:Batching:MaxQueueDelay"] = batchDelay.ToString("c", CultureInfo.InvariantCulture),
});
builder.Services.AddTypedTrtBackend("onnxruntime", c => OnnxRuntimeEngine.Load(c.ModelPath, c.Signature));
builder.Services.AddTypedTrtRunner("digits", DigitClassifier.Signature, static (engine, options) => new DigitClassifierRunner(engine, options), static r => r.Runner);
builder.Services.AddKServe();
var app = builder.Build();
app.MapKServe();
await app.StartAsync();
Console.WriteLine($"digits-server: REST http://127.0.0.1:{restPort}/v2, gRPC http://127.0.0.1:{grpcPort}, {streams} streams, "
    + (batching > 0 ? $"dynamic batching up to {batching} rows ({batchDelay.TotalMicroseconds:0} us delay)" : "no batching") + $", pid {Environment.ProcessId}");
await app.WaitForShutdownAsync();
return 0;
