using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Xunit;

namespace TypedTrt.DigitsService.Tests;

/// <summary>
/// A real scraper: the built sample service runs as its own process on a loopback port, and a real Prometheus server
/// (Debian's <c>prometheus</c> package) scrapes its <c>/metrics</c>; the test then asks Prometheus's HTTP API which
/// metrics it stored. Skipped, saying why, where <c>prometheus</c> is not installed.
/// </summary>
public sealed class PrometheusServerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly string[] Expected =
    [
        "typedtrt_requests_total",
        "typedtrt_request_failures_total",
        "typedtrt_request_duration_seconds_bucket",
        "typedtrt_queue_wait_seconds_bucket",
        "typedtrt_requests_in_flight",
        "typedtrt_slots_utilization",
        "typedtrt_batch_size_bucket",
        "typedtrt_stage_duration_seconds_bucket",
    ];

    private static string? FindOnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private static Process Start(string file, string arguments, string workingDirectory, StringWriterLog log)
    {
        var p = new Process
        {
            StartInfo = new ProcessStartInfo(file, arguments)
            {
                WorkingDirectory = workingDirectory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            },
        };
        p.OutputDataReceived += (_, e) => log.Add(e.Data);
        p.ErrorDataReceived += (_, e) => log.Add(e.Data);
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    private static async Task<bool> PollAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            try
            {
                if (await condition())
                    return true;
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(250, Ct);
        }

        return false;
    }

    [Fact]
    public async Task ARealPrometheusServer_ScrapesEveryInstrumentFromTheServedSample()
    {
        string? prometheus = FindOnPath("prometheus");
        if (prometheus is null)
            Assert.Skip("prometheus is not installed (Debian: apt-get install prometheus); the in-process scrape test covers the endpoint.");
        string dir = AppContext.BaseDirectory;
        string service = Path.Combine(dir, "digits-service.dll");
        Assert.True(File.Exists(service), $"the built sample is missing: {service}");
        string temp = Directory.CreateTempSubdirectory("typedtrt-prom-").FullName;
        int servicePort = FreePort(), promPort = FreePort();
        var serviceLog = new StringWriterLog();
        var promLog = new StringWriterLog();
        Process? svc = null, prom = null;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            svc = Start("dotnet", $"\"{service}\" --urls http://127.0.0.1:{servicePort} --TypedTrt:Models:digits:ModelPath=\"{Path.Combine(dir, "model", "digits.onnx")}\" --TypedTrt:Models:digits:Backend=onnxruntime --TypedTrt:Models:digits:StageProfiling=true", dir, serviceLog);
            string baseUrl = $"http://127.0.0.1:{servicePort}";
            Assert.True(
                await PollAsync(async () => (await http.GetAsync($"{baseUrl}/health/ready", Ct)).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(90)),
                "the service did not become ready:\n" + serviceLog);
            for (int i = 0; i < 5; i++)
            {
                using var ok = await http.PostAsJsonAsync($"{baseUrl}/v1/digits/classify", new { pixels = new float[64] }, Ct);
                Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            }

            using (var bad = await http.PostAsJsonAsync($"{baseUrl}/v1/digits/classify", new { pixels = new float[40 * 64] }, Ct))
                Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);

            File.WriteAllText(Path.Combine(temp, "prometheus.yml"), $"""
                global:
                  scrape_interval: 1s
                scrape_configs:
                  - job_name: digits-service
                    static_configs:
                      - targets: ["127.0.0.1:{servicePort}"]
                """);
            prom = Start(prometheus, $"--config.file={Path.Combine(temp, "prometheus.yml")} --storage.tsdb.path={Path.Combine(temp, "data")} --web.listen-address=127.0.0.1:{promPort}", temp, promLog);
            string api = $"http://127.0.0.1:{promPort}/api/v1";

            // Wait until Prometheus stored a scrape with the request counter, then list every metric name it has.
            double requests = 0;
            Assert.True(
                await PollAsync(async () =>
                {
                    using var doc = JsonDocument.Parse(await http.GetStringAsync($"{api}/query?query=sum(typedtrt_requests_total%7Bmodel%3D%22digits%22%7D)", Ct));
                    var result = doc.RootElement.GetProperty("data").GetProperty("result");
                    if (result.GetArrayLength() == 0)
                        return false;
                    requests = double.Parse(result[0].GetProperty("value")[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture);
                    return true;
                }, TimeSpan.FromSeconds(60)),
                "Prometheus stored no typedtrt_requests_total:\n" + promLog);
            Assert.True(requests >= 6, $"typedtrt_requests_total is {requests}; the test sent 6 requests (plus warm-up)");

            using var names = JsonDocument.Parse(await http.GetStringAsync($"{api}/label/__name__/values", Ct));
            var stored = names.RootElement.GetProperty("data").EnumerateArray().Select(e => e.GetString()).ToHashSet();
            foreach (var name in Expected)
                Assert.True(stored.Contains(name), $"Prometheus has no '{name}'; it has: {string.Join(", ", stored.Where(n => n!.StartsWith("typedtrt", StringComparison.Ordinal)))}");

            using var failures = JsonDocument.Parse(await http.GetStringAsync($"{api}/query?query=typedtrt_request_failures_total%7Berror_type%3D%22invalid_input%22%7D", Ct));
            Assert.True(failures.RootElement.GetProperty("data").GetProperty("result").GetArrayLength() > 0, "no invalid_input failure series");
        }
        finally
        {
            foreach (var p in new[] { prom, svc })
            {
                if (p is null)
                    continue;
                try
                {
                    if (!p.HasExited)
                        p.Kill(entireProcessTree: true);
                    p.WaitForExit(10_000);
                }
                catch (InvalidOperationException)
                {
                }

                p.Dispose();
            }

            try
            {
                Directory.Delete(temp, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>Thread-safe line collector for a child process's output.</summary>
    private sealed class StringWriterLog
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _lines = new();

        public void Add(string? line)
        {
            if (line is not null)
                _lines.Enqueue(line);
        }

        public override string ToString() => string.Join('\n', _lines.TakeLast(60));
    }
}
