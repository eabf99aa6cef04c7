using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TypedTrt.Serving.KServe.Protocol;

namespace TypedTrt.Serving.KServe.Tests;

/// <summary>An in-memory ASP.NET Core server with the KServe endpoints, a REST HttpClient and a gRPC channel to it.</summary>
internal sealed class KServeTestHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private KServeTestHost(WebApplication app, KServeModelRepository repository)
    {
        _app = app;
        Repository = repository;
        var server = app.GetTestServer();
        Http = server.CreateClient();
        Channel = GrpcChannel.ForAddress(server.BaseAddress, new GrpcChannelOptions { HttpHandler = server.CreateHandler(), MaxReceiveMessageSize = null });
        Grpc = new GRPCInferenceService.GRPCInferenceServiceClient(Channel);
    }

    public KServeModelRepository Repository { get; }

    public HttpClient Http { get; }

    public GrpcChannel Channel { get; }

    public GRPCInferenceService.GRPCInferenceServiceClient Grpc { get; }

    public static async Task<KServeTestHost> StartAsync(IEnumerable<KServeModel> models, Action<KServeServerOptions>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        var repository = new KServeModelRepository();
        foreach (var m in models)
            repository.Add(m);
        builder.Services.AddSingleton(repository);
        builder.Services.AddKServe(configure);
        var app = builder.Build();
        app.MapKServe();
        await app.StartAsync();
        return new KServeTestHost(app, repository);
    }

    public async Task<(int Status, JsonDocument Body)> GetAsync(string path)
    {
        using var r = await Http.GetAsync(new Uri(path, UriKind.Relative));
        return ((int)r.StatusCode, JsonDocument.Parse(await r.Content.ReadAsByteArrayAsync()));
    }

    /// <summary>POSTs a JSON body (and optionally binary data after it with Inference-Header-Content-Length).</summary>
    public async Task<RestResponse> PostAsync(string path, string json, byte[]? binary = null, long? headerLength = null)
    {
        byte[] header = Encoding.UTF8.GetBytes(json);
        byte[] body = binary is null ? header : [.. header, .. binary];
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(binary is null ? "application/json" : "application/octet-stream");
        if (binary is not null || headerLength is not null)
            content.Headers.Add("Inference-Header-Content-Length", (headerLength ?? header.Length).ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var r = await Http.PostAsync(new Uri(path, UriKind.Relative), content);
        byte[] bytes = await r.Content.ReadAsByteArrayAsync();
        long jsonLength = bytes.Length;
        if (r.Headers.TryGetValues("Inference-Header-Content-Length", out var v))
            jsonLength = long.Parse(v.Single(), System.Globalization.CultureInfo.InvariantCulture);
        return new RestResponse((int)r.StatusCode, r.Content.Headers.ContentType?.MediaType, JsonDocument.Parse(bytes.AsMemory(0, (int)jsonLength)), bytes[(int)jsonLength..]);
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

internal sealed record RestResponse(int Status, string? ContentType, JsonDocument Json, byte[] Binary)
{
    public string Error => Json.RootElement.GetProperty("error").GetString()!;

    public JsonElement Output(string name) => Json.RootElement.GetProperty("outputs").EnumerateArray().Single(o => o.GetProperty("name").GetString() == name);
}
