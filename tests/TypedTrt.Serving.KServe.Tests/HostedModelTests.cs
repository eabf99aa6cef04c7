using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TypedTrt.Hosting;
using TypedTrt.OnnxRuntime;
using TypedTrt.Runtime;
using TypedTrt.Runtime.Cuda;
using TypedTrt.Runtime.Tests;
using TypedTrt.Serving.KServe.Protocol;
using TypedTrt.Serving.KServe.Tests.Generated;
using Xunit;

namespace TypedTrt.Serving.KServe.Tests;

/// <summary>
/// The KServe server over the models of TypedTrt.Hosting (AddTypedTrtRunner) in a real ASP.NET Core host (TestServer):
/// served without registering them again, readiness following the hosted model's lifecycle, batching from its options.
/// </summary>
public sealed class HostedModelTests
{
    private const string FakeInfer = """{"inputs":[{"name":"a","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]},{"name":"b","shape":[1,4],"datatype":"INT32","data":[1,1,1,1]},{"name":"k","shape":[1],"datatype":"FP32","data":[2]}]}""";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static WebApplication Build(Action<IServiceCollection> services, Dictionary<string, string?> config)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(config);
        services(builder.Services);
        var app = builder.Build();
        app.MapKServe();
        return app;
    }

    private static void HostDigits(IServiceCollection s) =>
        s.AddTypedTrtBackend("onnxruntime", c => OnnxRuntimeEngine.Load(c.ModelPath, c.Signature))
         .AddTypedTrtRunner("digits", DigitClassifier.Signature, static (e, o) => new DigitClassifierRunner(e, o), static r => r.Runner);

    private static Dictionary<string, string?> DigitsConfig(params (string Key, string Value)[] settings)
    {
        var d = new Dictionary<string, string?> { ["TypedTrt:Models:digits:ModelPath"] = ServedModel.DigitsPath };
        foreach (var (k, v) in settings)
            d[$"TypedTrt:Models:digits:{k}"] = v;
        return d;
    }

    private static void HostFake(IServiceCollection s, FakeEngine engine) =>
        s.AddTypedTrtBackend("fake", _ => engine)
         .AddTypedTrtRunner("fake", engine.Signature, static (e, o) => new InferenceRunner(e, o), static r => r);

    private static async Task<(int Status, JsonDocument Body)> GetAsync(HttpClient http, string path)
    {
        using var r = await http.GetAsync(new Uri(path, UriKind.Relative), Ct);
        return ((int)r.StatusCode, JsonDocument.Parse(await r.Content.ReadAsByteArrayAsync(Ct)));
    }

    private static async Task<(int Status, JsonDocument Body)> PostAsync(HttpClient http, string path, string json)
    {
        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        using var r = await http.PostAsync(new Uri(path, UriKind.Relative), content, Ct);
        return ((int)r.StatusCode, JsonDocument.Parse(await r.Content.ReadAsByteArrayAsync(Ct)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Hosted_model_is_served_over_REST_and_gRPC_without_registering_it_again(bool addKServeFirst)
    {
        await using var app = Build(
            s =>
            {
                if (addKServeFirst)
                    s.AddKServe();
                HostDigits(s);
                if (!addKServeFirst)
                    s.AddKServe();
            },
            DigitsConfig());
        await app.StartAsync(Ct);
        var server = app.GetTestServer();
        using var http = server.CreateClient();
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(server.BaseAddress, new() { HttpHandler = server.CreateHandler() });

        var (status, metadata) = await GetAsync(http, "/v2/models/digits");
        Assert.Equal(200, status);
        Assert.Equal("onnxruntime_onnx", metadata.RootElement.GetProperty("platform").GetString());
        Assert.Equal("[-1,1,8,8]", metadata.RootElement.GetProperty("inputs")[0].GetProperty("shape").GetRawText());
        Assert.Equal(200, (await GetAsync(http, "/v2/health/ready")).Status);
        Assert.True((await new GRPCInferenceService.GRPCInferenceServiceClient(channel).ModelReadyAsync(new ModelReadyRequest { Name = "digits" }, cancellationToken: Ct)).Ready);

        // The typed client over both transports gets exactly what the hosted runner (resolved from DI) computes.
        var (pixels, labels, _, _) = ServedModel.DigitsExpected();
        var input = new DigitClassifierInput { Pixels = pixels, PixelsShape = [24, 1, 8, 8] };
        var local = await app.Services.GetRequiredService<DigitClassifierRunner>().RunAsync(input, Ct);
        await using var grpc = new DigitClassifierClient(new KServeGrpcClient(channel), "digits");
        await using var rest = new DigitClassifierClient(new KServeRestClient(http), "digits");
        foreach (var client in new[] { grpc, rest })
        {
            await client.Model.VerifyAsync(Ct);
            var remote = await client.RunAsync(input, Ct);
            Assert.Equal(local.Probabilities, remote.Probabilities);
            Assert.Equal(local.Logits, remote.Logits);
        }

        int correct = Enumerable.Range(0, 24).Count(i => Array.IndexOf(local.Probabilities, local.Probabilities.AsSpan(i * 10, 10).ToArray().Max(), i * 10) - i * 10 == labels[i]);
        Assert.True(correct >= 23);
        var core = app.Services.GetRequiredService<TypedTrtModelRegistry>().Get("digits").Core;
        Assert.Same(core, app.Services.GetRequiredService<DigitClassifierRunner>().Runner);
        await app.StopAsync(Ct);
    }

    [Fact]
    public async Task Models_added_with_AddKServeModel_are_served_beside_hosted_ones()
    {
        await using var echo = ServedModel.Echo();
        await using var app = Build(s => { HostDigits(s); s.AddKServe().AddKServeModel(_ => echo.Model); }, DigitsConfig());
        await app.StartAsync(Ct);
        using var http = app.GetTestServer().CreateClient();
        Assert.Equal(200, (await GetAsync(http, "/v2/models/digits")).Status);
        Assert.Equal(200, (await GetAsync(http, "/v2/models/echo")).Status);
        var names = app.Services.GetRequiredService<IKServeModelRepository>().Models.Select(m => m.Name);
        Assert.Equal(["digits", "echo"], names);
        Assert.IsType<HostedKServeModelRepository>(app.Services.GetRequiredService<IKServeModelRepository>());
        await app.StopAsync(Ct);
    }

    [Fact]
    public async Task An_explicit_repository_wins_and_ServeHostedModels_false_opts_out()
    {
        var mine = new KServeModelRepository();
        await using (var app = Build(s => { s.AddSingleton<IKServeModelRepository>(mine); HostDigits(s); s.AddKServe(); }, DigitsConfig()))
        {
            await app.StartAsync(Ct);
            Assert.Same(mine, app.Services.GetRequiredService<IKServeModelRepository>());
            var (status, body) = await GetAsync(app.GetTestServer().CreateClient(), "/v2/models/digits");
            Assert.Equal(404, status);
            Assert.Contains("not served here", body.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
            await app.StopAsync(Ct);
        }

        await using (var app = Build(s => { HostDigits(s); s.AddKServe(o => o.ServeHostedModels = false); }, DigitsConfig()))
        {
            await app.StartAsync(Ct);
            Assert.Equal(404, (await GetAsync(app.GetTestServer().CreateClient(), "/v2/models/digits")).Status);
            await app.StopAsync(Ct);
        }
    }

    [Fact]
    public async Task A_second_registration_of_a_hosted_model_is_refused_with_a_message_that_says_what_to_do()
    {
        await using var app = Build(
            s =>
            {
                HostDigits(s);
                s.AddKServe().AddKServeModel(sp => new KServeModel("digits", sp.GetRequiredService<DigitClassifierRunner>().Runner));
            },
            DigitsConfig());
        await app.StartAsync(Ct);
        var e = Assert.Throws<InvalidOperationException>(() => app.Services.GetRequiredService<IKServeModelRepository>());
        Assert.Contains("'digits' is added with AddKServeModel", e.Message, StringComparison.Ordinal);
        Assert.Contains("hosted models are served automatically", e.Message, StringComparison.Ordinal);
        await app.StopAsync(Ct);
    }

    [Fact]
    public async Task Readiness_follows_the_hosted_model_loading_ready_faulted()
    {
        using var engine = new FakeEngine();
        using var loading = new ManualResetEventSlim();
        await using var app = Build(
            s => s.AddTypedTrtBackend("fake", _ =>
                {
                    loading.Wait(Ct);
                    return engine;
                })
                .AddTypedTrtRunner("fake", engine.Signature, static (e, o) => new InferenceRunner(e, o), static r => r)
                .Services.AddKServe(),
            new() { ["TypedTrt:Models:fake:ModelPath"] = "fake.engine" });
        var model = app.Services.GetRequiredService<IKServeModelRepository>().Find("fake")!;
        var hosted = app.Services.GetRequiredService<TypedTrtModelRegistry>().Get("fake");
        Assert.False(model.IsReady); // not started
        var start = Task.Run(() => app.StartAsync(Ct), Ct); // the loader runs on the starting thread
        while (hosted.State != HostedModelState.Loading)
            await Task.Delay(5, Ct);
        Assert.False(model.IsReady);
        loading.Set();
        await start;
        Assert.True(model.IsReady);

        using var http = app.GetTestServer().CreateClient();
        Assert.Equal(200, (await GetAsync(http, "/v2/health/ready")).Status);
        var (status, body) = await PostAsync(http, "/v2/models/fake/infer", FakeInfer);
        Assert.Equal(200, status);
        Assert.Equal("[3,5,7,9]", body.RootElement.GetProperty("outputs")[0].GetProperty("data").GetRawText());

        // A sticky CUDA error faults the hosted model for good: the protocol reports it not ready and refuses requests.
        engine.EnqueueFailure = () => new CudaException(700, "cuLaunchKernel");
        Assert.Equal(500, (await PostAsync(http, "/v2/models/fake/infer", FakeInfer)).Status);
        engine.EnqueueFailure = null;
        Assert.Equal(HostedModelState.Faulted, hosted.State);
        Assert.False(model.IsReady);
        var ready = await GetAsync(http, "/v2/models/fake/ready");
        Assert.Equal(503, ready.Status);
        Assert.False(ready.Body.RootElement.GetProperty("ready").GetBoolean());
        Assert.Equal(503, (await GetAsync(http, "/v2/health/ready")).Status);
        (status, body) = await PostAsync(http, "/v2/models/fake/infer", FakeInfer);
        Assert.Equal(503, status);
        Assert.Contains("Model 'fake' is not ready", body.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        await app.StopAsync(Ct);
    }

    [Fact]
    public async Task Readiness_is_withdrawn_while_the_host_drains_and_after_it_stopped()
    {
        using var engine = new FakeEngine { Delay = TimeSpan.FromMilliseconds(600) };
        await using var app = Build(s => { HostFake(s, engine); s.AddKServe(); }, new() { ["TypedTrt:Models:fake:ModelPath"] = "fake.engine", ["TypedTrt:Models:fake:WarmUpRuns"] = "0" });
        await app.StartAsync(Ct);
        var model = app.Services.GetRequiredService<IKServeModelRepository>().Find("fake")!;
        var hosted = app.Services.GetRequiredService<TypedTrtModelRegistry>().Get("fake");
        using var http = app.GetTestServer().CreateClient();
        var inFlight = PostAsync(http, "/v2/models/fake/infer", FakeInfer);
        while (hosted.Core.ActiveRequests == 0)
            await Task.Delay(5, Ct);
        var stop = app.StopAsync(Ct);
        while (hosted.State == HostedModelState.Ready)
            await Task.Delay(1, Ct);
        Assert.False(model.IsReady); // draining (or already stopped): new requests go elsewhere
        Assert.Equal(200, (await inFlight).Status); // the request in flight finished
        await stop;
        Assert.Equal(HostedModelState.Stopped, hosted.State);
        Assert.False(model.IsReady);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Dynamic_batching_in_the_hosted_model_options_batches_protocol_requests(bool batching)
    {
        var config = batching
            ? DigitsConfig(("Streams", "1"), ("Batching:MaxBatchSize", "32"), ("Batching:MaxQueueDelay", "00:00:00.020"))
            : DigitsConfig(("Streams", "1"));
        await using var app = Build(s => { HostDigits(s); s.AddKServe(); }, config);
        await app.StartAsync(Ct);
        var server = app.GetTestServer();
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(server.BaseAddress, new() { HttpHandler = server.CreateHandler() });
        await using var client = new DigitClassifierClient(new KServeGrpcClient(channel), "digits");
        var core = app.Services.GetRequiredService<TypedTrtModelRegistry>().Get("digits").Core;
        core.ResetBatchingStatistics();

        var (pixels, labels, _, _) = ServedModel.DigitsExpected();
        var outputs = await Task.WhenAll(Enumerable.Range(0, 24).Select(i =>
            client.RunAsync(new DigitClassifierInput { Pixels = pixels.AsMemory(i * 64, 64), PixelsShape = [1, 1, 8, 8] }, Ct).AsTask()));
        int correct = outputs.Select((o, i) => Array.IndexOf(o.Probabilities, o.Probabilities.Max()) == labels[i]).Count(c => c);
        Assert.True(correct >= 23);

        var stats = core.GetBatchingStatistics();
        if (!batching)
        {
            Assert.Null(stats);
        }
        else
        {
            Assert.NotNull(stats);
            Assert.Equal(24, stats.Requests);
            Assert.True(stats.Batches < 24, $"24 concurrent requests ran as {stats.Batches} batches");
        }

        await app.StopAsync(Ct);
    }
}
