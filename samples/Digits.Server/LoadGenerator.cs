using System.Diagnostics;
using System.Globalization;
using TypedTrt.OnnxRuntime;
using TypedTrt.Runtime;
using TypedTrt.Runtime.Batching;
using TypedTrt.Serving.KServe;

namespace TypedTrt.Samples.DigitsServer;

/// <summary>
/// Closed-loop load: N concurrent callers of <see cref="IDigitClassifierRunner.RunAsync"/> for a fixed time, in process
/// (the generated runner) or remote (the generated client over gRPC or REST). Prints one table row.
/// </summary>
internal static class LoadGenerator
{
    public static async Task<int> RunAsync(string[] args, Func<string, string, string> option, string modelPath, int streams, int batching, TimeSpan batchDelay)
    {
        string mode = args.Length > 1 ? args[1] : "inproc";
        int connections = int.Parse(option("connections", "64"), CultureInfo.InvariantCulture);
        int seconds = int.Parse(option("seconds", "30"), CultureInfo.InvariantCulture);
        int batch = int.Parse(option("batch", "1"), CultureInfo.InvariantCulture);
        string? serverPid = option("server-pid", "") is { Length: > 0 } p ? p : null;
        OnnxRuntimeEngine? engine = null;
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = connections }) { BaseAddress = new Uri(option("rest", "http://127.0.0.1:8000/")) };
        IDigitClassifierRunner runner;
        Func<int, IDigitClassifierRunner>? pick = null;
        switch (mode)
        {
            case "inproc":
                engine = OnnxRuntimeEngine.Load(modelPath, DigitClassifier.Signature);
                runner = new DigitClassifierRunner(engine, new InferenceRunnerOptions
                {
                    Streams = streams,
                    Batching = batching > 0 ? new DynamicBatchingOptions { MaxBatchSize = batching, MaxQueueDelay = batchDelay } : null,
                });
                break;
            case "grpc":
                // --channels N: N HTTP/2 connections (callers spread round-robin); default one, as a single client would use.
                int channels = int.Parse(option("channels", "1"), CultureInfo.InvariantCulture);
                var clients = Enumerable.Range(0, channels).Select(_ => new DigitClassifierClient(new KServeGrpcClient(Grpc.Net.Client.GrpcChannel.ForAddress(option("grpc", "http://127.0.0.1:8001"), new Grpc.Net.Client.GrpcChannelOptions
                {
                    HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true },
                })), "digits")).ToArray();
                runner = clients[0];
                pick = c => clients[c % clients.Length];
                break;
            case "rest":
                runner = new DigitClassifierClient(new KServeRestClient(http), "digits");
                break;
            default:
                Console.Error.WriteLine($"load: unknown mode '{mode}' (inproc, grpc, rest)");
                return 2;
        }

        var pixels = new float[batch * 64];
        for (int i = 0; i < pixels.Length; i++)
            pixels[i] = i % 17 / 16f;
        var input = new DigitClassifierInput { Pixels = pixels, PixelsShape = [batch, 1, 8, 8] };
        for (int i = 0; i < 200; i++)
            await runner.RunAsync(input);

        long rssBefore = Rss(serverPid), gcBefore = GC.GetTotalMemory(true);
        var latencies = new List<long>[connections];
        long errors = 0;
        var stop = Stopwatch.StartNew();
        long end = (long)(seconds * (double)Stopwatch.Frequency);
        var workers = Enumerable.Range(0, connections).Select(c => Task.Run(async () =>
        {
            var mine = latencies[c] = new List<long>(1 << 16);
            var caller = pick?.Invoke(c) ?? runner;
            while (stop.ElapsedTicks < end)
            {
                long t0 = Stopwatch.GetTimestamp();
                try
                {
                    var o = await caller.RunAsync(input).ConfigureAwait(false);
                    if (o.Probabilities.Length != batch * 10)
                        Interlocked.Increment(ref errors);
                }
                catch (Exception)
                {
                    Interlocked.Increment(ref errors);
                }

                mine.Add(Stopwatch.GetTimestamp() - t0);
            }
        })).ToArray();
        await Task.WhenAll(workers);
        double elapsed = stop.Elapsed.TotalSeconds;
        long rssAfter = Rss(serverPid), gcAfter = GC.GetTotalMemory(true);
        var all = latencies.SelectMany(l => l).Order().ToArray();
        double Us(double q) => all.Length == 0 ? 0 : all[(int)Math.Min(all.Length - 1, q * all.Length)] * 1e6 / Stopwatch.Frequency;
        string memory = serverPid is null
            ? $"client heap {gcBefore >> 20} -> {gcAfter >> 20} MiB"
            : $"server RSS {rssBefore >> 20} -> {rssAfter >> 20} MiB";
        Console.WriteLine($"| {mode} | {connections} | {batch} | {all.Length / elapsed:F0} | {Us(0.50):F0} | {Us(0.99):F0} | {errors} | {all.Length} | {memory} |");
        await runner.DisposeAsync();
        engine?.Dispose();
        return errors == 0 ? 0 : 1;
    }

    private static long Rss(string? pid)
    {
        if (pid is null)
            return 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }

        return 0;
    }
}
