// Serves the Digits classifier over KServe v2 (REST + gRPC) on loopback, and doubles as the load generator of
// docs/benchmarks/kserve-load.md:
//   digits-server [--rest-port 8000] [--grpc-port 8001] [--streams 2]
//   digits-server load (inproc|grpc|rest) [--connections 64] [--seconds 30] [--batch 1] [--streams 2]
using Microsoft.AspNetCore.Server.Kestrel.Core;
using TypedTrt.OnnxRuntime;
using TypedTrt.Samples.DigitsServer;
using TypedTrt.Serving.KServe;

string Option(string name, string fallback)
{
    int i = Array.IndexOf(args, "--" + name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}

string modelPath = Path.Combine(AppContext.BaseDirectory, "model", "digits.onnx");
int streams = int.Parse(Option("streams", "2"), System.Globalization.CultureInfo.InvariantCulture);
if (args.Length > 0 && args[0] == "load")
    return await LoadGenerator.RunAsync(args, Option, modelPath, streams);

int restPort = int.Parse(Option("rest-port", "8000"), System.Globalization.CultureInfo.InvariantCulture);
int grpcPort = int.Parse(Option("grpc-port", "8001"), System.Globalization.CultureInfo.InvariantCulture);
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.ConfigureKestrel(k =>
{
    // Triton's ports; loopback only. REST is HTTP/1.1, gRPC needs HTTP/2 (cleartext: prior knowledge).
    k.Listen(System.Net.IPAddress.Loopback, restPort, o => o.Protocols = HttpProtocols.Http1);
    k.Listen(System.Net.IPAddress.Loopback, grpcPort, o => o.Protocols = HttpProtocols.Http2);
});
builder.Services.AddSingleton(_ => OnnxRuntimeEngine.Load(modelPath, DigitClassifier.Signature));
builder.Services.AddSingleton(sp => new DigitClassifierRunner(sp.GetRequiredService<OnnxRuntimeEngine>(), streams));
builder.Services.AddKServe();
builder.Services.AddKServeModel(sp => new KServeModel("digits", sp.GetRequiredService<DigitClassifierRunner>().Runner));
var app = builder.Build();
app.MapKServe();
await app.StartAsync();
Console.WriteLine($"digits-server: REST http://127.0.0.1:{restPort}/v2, gRPC http://127.0.0.1:{grpcPort}, {streams} streams, pid {Environment.ProcessId}");
await app.WaitForShutdownAsync();
return 0;
