using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using TypedTrt.Hosting;
using Xunit;

namespace TypedTrt.DigitsService.Tests;

/// <summary>The served Digits sample in-process (<see cref="WebApplicationFactory{TEntryPoint}"/>), on ONNX Runtime (CPU).</summary>
public sealed class DigitsServiceTests : IClassFixture<DigitsServiceTests.ProfilingFactory>
{
    private readonly ProfilingFactory _factory;

    public DigitsServiceTests(ProfilingFactory factory) => _factory = factory;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The service with stage profiling on, so every instrument (stage times included) has measurements.</summary>
    public sealed class ProfilingFactory : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder) =>
            builder.UseSetting("TypedTrt:Models:digits:StageProfiling", "true");
    }

    private sealed record Sample(int Label, float[] Pixels);

    private static List<Sample> Samples()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "models", "samples.json")));
        return doc.RootElement.GetProperty("samples").EnumerateArray()
            .Select(s => new Sample(s.GetProperty("label").GetInt32(), s.GetProperty("pixels").EnumerateArray().Select(p => p.GetInt32() / 16f).ToArray()))
            .ToList();
    }

    private sealed record Prediction(int Digit, float Probability, float[] Probabilities);

    private sealed record ClassifyResponse(Prediction[] Predictions);

    private static async Task<Prediction[]> ClassifyAsync(HttpClient client, float[] pixels)
    {
        using var response = await client.PostAsJsonAsync("/v1/digits/classify", new { pixels }, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<ClassifyResponse>(Ct);
        return body!.Predictions;
    }

    [Fact]
    public async Task Ready_AfterStart_TheModelIsLoadedBeforeTheFirstRequest()
    {
        var client = _factory.CreateClient();
        using var response = await client.GetAsync("/health/ready", Ct);
        string body = await response.Content.ReadAsStringAsync(Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"status\":\"Healthy\"", body);
        Assert.Contains("is ready (2 slot(s)", body);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live", Ct)).StatusCode);
    }

    [Fact]
    public async Task Classify_EveryBundledDigit_SingleAndBatched()
    {
        var client = _factory.CreateClient();
        var samples = Samples();
        Assert.Equal(24, samples.Count);
        var singles = await Task.WhenAll(samples.Select(s => ClassifyAsync(client, s.Pixels)));
        for (int i = 0; i < samples.Count; i++)
        {
            var p = Assert.Single(singles[i]);
            Assert.Equal(samples[i].Label, p.Digit);
            Assert.Equal(10, p.Probabilities.Length);
            Assert.Equal(1.0, p.Probabilities.Sum(), 3);
            Assert.Equal(p.Probabilities.Max(), p.Probability);
        }

        var batch = await ClassifyAsync(client, samples.SelectMany(s => s.Pixels).ToArray());
        Assert.Equal(samples.Select(s => s.Label).ToArray(), batch.Select(p => p.Digit).ToArray());
    }

    [Fact]
    public async Task InvalidInput_Is400_WithTheRunnersMessage()
    {
        var client = _factory.CreateClient();
        using (var r = await client.PostAsJsonAsync("/v1/digits/classify", new { pixels = new float[63] }, Ct))
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Contains("'pixels' must hold 64 values per digit (8×8, row by row); got 63.", await r.Content.ReadAsStringAsync(Ct));
        }

        using (var r = await client.PostAsJsonAsync("/v1/digits/classify", new { pixels = new float[33 * 64] }, Ct))
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            string body = await r.Content.ReadAsStringAsync(Ct);
            Assert.True(body.Contains("'pixels'", StringComparison.Ordinal) && body.Contains("33", StringComparison.Ordinal) && body.Contains("1..32", StringComparison.Ordinal), body);
        }
    }

    [Fact]
    public async Task Models_ListsTheRegistry()
    {
        var client = _factory.CreateClient();
        string json = await client.GetStringAsync("/v1/models", Ct);
        using var doc = JsonDocument.Parse(json);
        var m = Assert.Single(doc.RootElement.EnumerateArray());
        Assert.Equal("digits", m.GetProperty("name").GetString());
        Assert.Equal("Ready", m.GetProperty("state").GetString());
        Assert.Equal("onnxruntime", m.GetProperty("backend").GetString());
        Assert.Equal(["pixels", "logits", "probabilities"], m.GetProperty("tensors").EnumerateArray().Select(t => t.GetProperty("name").GetString()!).ToArray());
    }

    [Fact]
    public async Task PrometheusScrape_FindsEveryInstrument_WithModelBackendDeviceLabels()
    {
        var client = _factory.CreateClient();
        var sample = Samples()[0];
        for (int i = 0; i < 5; i++)
            await ClassifyAsync(client, sample.Pixels);
        using (await client.PostAsJsonAsync("/v1/digits/classify", new { pixels = new float[40 * 64] }, Ct))
        {
        }

        string text = await client.GetStringAsync("/metrics", Ct);
        // name → a sample line that must exist, in the Prometheus text format the OpenTelemetry exporter writes.
        string[] expected =
        [
            "typedtrt_requests_total{",
            "typedtrt_request_failures_total{",
            "typedtrt_request_duration_seconds_bucket{",
            "typedtrt_queue_wait_seconds_bucket{",
            "typedtrt_requests_in_flight{",
            "typedtrt_slots_utilization{",
            "typedtrt_batch_size_bucket{",
            "typedtrt_stage_duration_seconds_bucket{",
        ];
        var lines = text.Split('\n');
        foreach (var prefix in expected)
        {
            var line = lines.FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal) && l.Contains("model=\"digits\"", StringComparison.Ordinal));
            Assert.True(line is not null, $"no '{prefix}...model=\"digits\"' line in the scrape:\n{text}");
            Assert.Contains("backend=\"onnxruntime\"", line);
            Assert.Contains("device=\"cpu\"", line);
        }

        Assert.Contains(lines, l => l.StartsWith("typedtrt_request_failures_total{", StringComparison.Ordinal) && l.Contains("error_type=\"invalid_input\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("typedtrt_stage_duration_seconds_bucket{", StringComparison.Ordinal) && l.Contains("stage=\"compute\"", StringComparison.Ordinal));
        double requests = lines.Where(l => l.StartsWith("typedtrt_requests_total{", StringComparison.Ordinal) && l.Contains("model=\"digits\"", StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(requests >= 6, $"typedtrt_requests_total is {requests}, expected at least the 6 requests of this test");
    }

    [Fact]
    public async Task Shutdown_DrainsAndDisposesTheModel()
    {
        var factory = new WebApplicationFactory<Program>();
        var client = factory.CreateClient();
        await ClassifyAsync(client, Samples()[1].Pixels);
        var model = factory.Services.GetRequiredService<TypedTrtModelRegistry>().Get("digits");
        Assert.Equal(HostedModelState.Ready, model.State);
        await factory.DisposeAsync();
        Assert.Equal(HostedModelState.Stopped, model.State);
    }
}
