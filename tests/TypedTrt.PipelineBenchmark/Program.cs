// Issue 4 benchmark: the InferenceRunner doing native-pipeline.cu's work (same kernel, loaded from nvcc's PTX when
// given; same grid, sizes and request scheme) next to the native numbers of the same device call.
//
//   TypedTrt.PipelineBenchmark --native-dir DIR [--ptx FILE] [--native-bin FILE] [--out DIR] [--gpu-info FILE]
//   TypedTrt.PipelineBenchmark --host-test [--native-bin FILE] [--out DIR]
//   TypedTrt.PipelineBenchmark --batching-only --native-bin FILE [--ptx FILE] [--batching-workloads tiny,b] [--no-tune] [--out DIR] [--gpu-info FILE]
//     (only the issue-14 batching section, and its `typedtrt tune` run unless --no-tune)
//   TypedTrt.PipelineBenchmark --cpu-proxy [--proxy-only ThreadPool|Inline] [--out DIR]   (BatchingProxy.cs)
//   TypedTrt.PipelineBenchmark --devices all|0,1,.. --native-dir DIR [--ptx FILE] [--out DIR] [--gpu-info FILE]
//
// With --devices: the multi-device benchmark only (MultiDevice.cs; workloads b and c, 1/2/4 streams per device,
// native-<workload>-dev<d>.jsonl per device in DIR), written to <out>/multi-device-results.md/.jsonl.
//
// DIR holds native-<workload>.jsonl (native-pipeline's output for each workload, see tests/gpu/run-benchmark.sh);
// --native-bin is the native-pipeline binary, run pre-batched by the dynamic batching section (issue 14).
// Writes <out>/pipeline-results.md, <out>/pipeline-results.jsonl, <out>/tune-pipeline.svg and <out>/tune-batching.svg.
// --host-test runs only the dynamic batching section on a CPU engine with the kernel's semantics (no GPU needed),
// to check the program's logic; its numbers are not GPU numbers.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using TypedTrt.Runtime;
using TypedTrt.Runtime.Cuda;
using TypedTrt.Runtime.Diagnostics;
using TypedTrt.Runtime.Testing;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
string? nativeDir = null, ptxFile = null, outDir = ".", gpuInfo = null, nativeBin = null, deviceList = null;
bool hostTest = false, cpuProxy = false, batchingOnly = false, noTune = false;
string[]? proxyOnly = null;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--native-dir": nativeDir = args[++i]; break;
        case "--ptx": ptxFile = args[++i]; break;
        case "--out": outDir = args[++i]; break;
        case "--gpu-info": gpuInfo = args[++i]; break;
        case "--native-bin": nativeBin = args[++i]; break;
        case "--host-test": hostTest = true; break;
        case "--cpu-proxy": cpuProxy = true; break;
        case "--batching-only": batchingOnly = true; break;
        case "--batching-workloads": BatchingBench.Only = args[++i].Split(','); break;
        case "--no-tune": noTune = true; break;
        case "--proxy-only": proxyOnly = args[++i].Split(','); break;
        case "--devices": deviceList = args[++i]; break;
        default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
    }
}

if (cpuProxy)
{
    Directory.CreateDirectory(outDir);
    var (pmd, pjson) = await BatchingProxy.RunAsync(new MeasurementOptions { Window = TimeSpan.FromMilliseconds(500), Warmup = TimeSpan.FromMilliseconds(200), MaxWindows = 6 }, proxyOnly);
    File.WriteAllText(Path.Combine(outDir, "batching-cpu-proxy.md"), pmd);
    File.WriteAllText(Path.Combine(outDir, "batching-cpu-proxy.jsonl"), pjson);
    Console.WriteLine(pmd);
    return 0;
}

if (hostTest)
{
    Directory.CreateDirectory(outDir);
    var hostMissed = new List<string>();
    var (hmd, hjson) = await BatchingBench.RunAsync(
        w => new HostPipelineEngine(w.InBytes, w.OutBytes, w.Iters, 64),
        nativeBin,
        new MeasurementOptions { Window = TimeSpan.FromMilliseconds(300), Warmup = TimeSpan.FromMilliseconds(100), MaxWindows = 5 },
        hostMissed);
    File.WriteAllText(Path.Combine(outDir, "batching-host-test.md"), hmd + string.Join(Environment.NewLine, hostMissed.Select(m => "- missed: " + m)) + Environment.NewLine);
    File.WriteAllText(Path.Combine(outDir, "batching-host-test.jsonl"), hjson);
    Console.WriteLine(hmd);
    return 0;
}

if (!CudaDriver.IsAvailable)
{
    Console.Error.WriteLine("No CUDA driver: this benchmark needs an NVIDIA GPU.");
    return 2;
}

Directory.CreateDirectory(outDir);
byte[]? ptx = ptxFile is not null && File.Exists(ptxFile) ? File.ReadAllBytes(ptxFile) : null;
if (deviceList is not null)
    return await MultiDevice.RunAsync(MultiDevice.ParseDevices(deviceList), nativeDir ?? ".", ptx, outDir, gpuInfo);
const int Requests = 512, Reps = 5;
int[] streamCounts = [1, 2, 4, 8];
var md = new StringBuilder();
var jsonl = new StringBuilder();
string gpu = gpuInfo is not null && File.Exists(gpuInfo) ? File.ReadAllText(gpuInfo).Trim() : CudaDriver.GetDeviceName(0);
md.AppendLine("# Pipeline benchmark: InferenceRunner vs native CUDA (native-pipeline.cu)");
md.AppendLine();
md.AppendLine(CultureInfo.InvariantCulture, $"GPU: {gpu}; CUDA driver API {CudaDriver.Version}; date {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; kernel: {(ptx is not null ? "nvcc -ptx of native-pipeline.cu (same code as native)" : "NVRTC")}.");
md.AppendLine(CultureInfo.InvariantCulture, $"Scheme (both): request r → slot r % S, wait for that slot's previous request; {Requests} requests; median of {Reps} reps after one warm-up rep. Runner modes: **poll** = default (CompletionMode.Polling), **callback** = CompletionMode.Callback (the previous design), **graph** = polling + UseCudaGraphs.");
md.AppendLine();
double peak = InferenceRunner.MeasurePinnedH2DPeak();
md.AppendLine(CultureInfo.InvariantCulture, $"Pinned H2D peak (64 MiB copies, runtime helper): {peak:0.00} GB/s.");
md.AppendLine();
Console.WriteLine($"pinned H2D peak {peak:0.00} GB/s");

var missed = new List<string>();
if (!batchingOnly)
{
    var workloads = new (string Name, long In, long Out, int Iters, int Blocks)[]
    {
        ("a", 8 << 20, 64 << 10, 64, 66),
        ("b", 602112, 4000, 16, 16),
        ("c", 602112, 4000, 200, 33),
    };
    foreach (var w in workloads)
    {
        var native = Native.Load(Path.Combine(nativeDir ?? ".", $"native-{w.Name}.jsonl"));
        using var engine = ptx is not null
            ? NvrtcTestEngine.CreatePipelineFromImage(ptx, w.In, w.Out, w.Iters, w.Blocks)
            : NvrtcTestEngine.CreatePipeline(w.In, w.Out, w.Iters, w.Blocks);
        md.AppendLine(CultureInfo.InvariantCulture, $"## Workload ({w.Name}): {w.In} B in, {w.Out} B out, iters {w.Iters}, blocks {w.Blocks}");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Native stages: H2D {native.H2DUs:0.0} µs ({native.H2DGbps:0.00} GB/s), kernel {native.KernelUs:0.0} µs, D2H {native.D2HUs:0.0} µs.");
        md.AppendLine();
        md.AppendLine("| streams | native req/s | runner poll req/s | poll/native | callback req/s | callback/native | graph req/s | graph/native |");
        md.AppendLine("|---|---|---|---|---|---|---|---|");
        double checksum = double.NaN;
        foreach (int s in streamCounts)
        {
            var poll = await Bench.Measure(engine, s, CompletionMode.Polling, false, Requests, Reps);
            var cb = await Bench.Measure(engine, s, CompletionMode.Callback, false, Requests, Reps);
            var graph = await Bench.Measure(engine, s, CompletionMode.Polling, true, Requests, Reps);
            checksum = poll.Checksum;
            double n = native.Rps.GetValueOrDefault(s);
            md.AppendLine(CultureInfo.InvariantCulture, $"| {s} | {n:0} | {poll.Median:0} | {poll.Median / n:0.000} | {cb.Median:0} | {cb.Median / n:0.000} | {graph.Median:0} | {graph.Median / n:0.000} |");
            jsonl.AppendLine(CultureInfo.InvariantCulture, $"{{\"workload\":\"{w.Name}\",\"streams\":{s},\"native\":{n:F1},\"poll\":{poll.Median:F1},\"poll_min\":{poll.Min:F1},\"poll_max\":{poll.Max:F1},\"callback\":{cb.Median:F1},\"graph\":{graph.Median:F1},\"graph_launches\":{graph.GraphLaunches}}}");
            Console.WriteLine($"({w.Name}) S={s}: native {n:0}  poll {poll.Median:0} ({poll.Median / n:0.000})  callback {cb.Median:0} ({cb.Median / n:0.000})  graph {graph.Median:0} ({graph.Median / n:0.000}, {graph.GraphLaunches} launches)");
            if (poll.Median < 0.97 * n)
                missed.Add($"({w.Name}) S={s}: runner {poll.Median / n:0.000}× native");
        }

        bool same = Math.Abs(checksum - native.Checksum) <= 1e-6 * Math.Max(1, Math.Abs(native.Checksum)) + 1e-4;
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Checksum (slot 0 output sum): runner {checksum:F6}, native {native.Checksum:F6} → {(same ? "equal" : "DIFFERENT")}.");
        md.AppendLine();
        foreach (int s in new[] { 1, 4 })
        {
            var t = await Bench.Profile(engine, s, Requests);
            var report = BottleneckReport.Analyze(t, peak);
            md.AppendLine(CultureInfo.InvariantCulture, $"Stage profile, {s} stream(s) (runner.StartProfiling/StopProfiling, CUDA events per slot):");
            md.AppendLine();
            md.AppendLine("```");
            md.AppendLine(report.ToString());
            md.AppendLine("```");
            md.AppendLine();
            Console.WriteLine(report);
            if (s == 1)
            {
                // Same method as native's stage line: 20 back-to-back copies, event-timed (the per-request figure above
                // also contains each copy's launch latency, which back-to-back copies hide for both).
                await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 1 });
                var (gbps, us) = await runner.MeasureInputCopyBandwidthAsync();
                double ratio = gbps / native.H2DGbps;
                md.AppendLine(CultureInfo.InvariantCulture, $"H2D from slot buffers (runner.MeasureInputCopyBandwidthAsync, 20 back-to-back copies like native's stage line, median of 5 batches): {gbps:0.00} GB/s ({us:0.0} µs) vs native pinned copy {native.H2DGbps:0.00} GB/s ({native.H2DUs:0.0} µs) → {ratio:P1} (target ≥ 95%). Per request inside the pipeline (event-bracketed, single copy): {t.H2DGigabytesPerSecond:0.00} GB/s.");
                md.AppendLine();
                Console.WriteLine($"({w.Name}) H2D slot buffers {gbps:0.00} GB/s vs native {native.H2DGbps:0.00} → {ratio:P1}");
                if (ratio < 0.95)
                    missed.Add($"({w.Name}) H2D {ratio:P1} of native");
            }
        }
    }

    // Host overhead: tiny buffers, empty kernel (native-pipeline 4 4 0 1).
    {
        var native = Native.Load(Path.Combine(nativeDir ?? ".", "native-tiny.jsonl"));
        int req = native.Requests > 0 ? native.Requests : 5000;
        using var engine = ptx is not null ? NvrtcTestEngine.CreatePipelineFromImage(ptx, 4, 4, 0, 1) : NvrtcTestEngine.CreatePipeline(4, 4, 0, 1);
        md.AppendLine(CultureInfo.InvariantCulture, $"## Host overhead per request: 4 B in, 4 B out, iters 0, 1 block ({req} requests)");
        md.AppendLine();
        md.AppendLine("| streams | native µs/req | runner poll µs/req | poll/native | callback µs/req | callback/native | graph µs/req | graph/native |");
        md.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (int s in streamCounts)
        {
            var poll = await Bench.Measure(engine, s, CompletionMode.Polling, false, req, Reps);
            var cb = await Bench.Measure(engine, s, CompletionMode.Callback, false, req, Reps);
            var graph = await Bench.Measure(engine, s, CompletionMode.Polling, true, req, Reps);
            double n = 1e6 / native.Rps.GetValueOrDefault(s);
            double p = 1e6 / poll.Median, c = 1e6 / cb.Median, g = 1e6 / graph.Median;
            md.AppendLine(CultureInfo.InvariantCulture, $"| {s} | {n:0.00} | {p:0.00} | {p / n:0.00} | {c:0.00} | {c / n:0.00} | {g:0.00} | {g / n:0.00} |");
            jsonl.AppendLine(CultureInfo.InvariantCulture, $"{{\"workload\":\"tiny\",\"streams\":{s},\"native_us\":{n:F2},\"poll_us\":{p:F2},\"callback_us\":{c:F2},\"graph_us\":{g:F2}}}");
            Console.WriteLine($"(tiny) S={s}: native {n:0.00} µs  poll {p:0.00} ({p / n:0.00})  callback {c:0.00} ({c / n:0.00})  graph {g:0.00} ({g / n:0.00})");
            if (p > 1.25 * n)
                missed.Add($"(tiny) S={s}: host {p / n:0.00}× native");
        }

        md.AppendLine();

        // Allocation per request in steady state: 10,000 requests, GC.GetTotalAllocatedBytes(precise: true).
        md.AppendLine("## Allocation per request (steady state, 10,000 requests, GC.GetTotalAllocatedBytes(true), whole process)");
        md.AppendLine();
        foreach (var (label, graphs, streams) in new[] { ("acquire → run → dispose per request, 1 stream, polling", false, 1), ("same, CUDA graphs", true, 1), ("same, 4 streams / 4 callers", false, 4) })
        {
            double perReq = await Bench.AllocationPerRequest(engine, streams, graphs, 10_000);
            md.AppendLine(CultureInfo.InvariantCulture, $"- {label}: **{perReq:0.###} B/request**");
            Console.WriteLine($"alloc ({label}): {perReq:0.###} B/request");
            // Bytes per request, rounded down: a one-off allocation somewhere in 10,000 requests (a timer, tiering) is not per request.
            if (perReq >= 1)
                missed.Add($"alloc {label}: {perReq:0.###} B/request");
        }

        md.AppendLine();
    }

    // Stream tuning through the CLI command (same code path as `typedtrt tune --test-engine pipeline`).
    {
        string svg = Path.Combine(outDir, "tune-pipeline.svg");
        var sw = new StringWriter();
        int rc = TypedTrt.Cli.Program.Run(["tune", "--test-engine", "pipeline", "--streams", "1,2,4,8", "--svg", svg, .. (ptxFile is not null ? new[] { "--ptx", ptxFile } : [])], sw, Console.Error);
        md.AppendLine("## `typedtrt tune --test-engine pipeline --streams 1,2,4,8` (workload a, concurrent callers)");
        md.AppendLine();
        md.AppendLine("```");
        md.AppendLine(sw.ToString().TrimEnd());
        md.AppendLine("```");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Exit code {rc}; chart: tune-pipeline.svg.");
        md.AppendLine();
        Console.WriteLine(sw.ToString());
    }

}

// Dynamic batching (issue 14): 64 concurrent single-row callers, batching vs plain runner vs native pre-batched.
{
    var (bmd, bjson) = await BatchingBench.RunAsync(
        w => NvrtcTestEngine.CreateBatchedPipeline(w.InBytes, w.OutBytes, w.Iters, w.Blocks, 64, ptx),
        nativeBin,
        new MeasurementOptions { Window = TimeSpan.FromMilliseconds(500), Warmup = TimeSpan.FromMilliseconds(300), MaxWindows = 6 },
        missed);
    md.Append(bmd);
    jsonl.Append(bjson);

    // The tuner over dynamic batching on the tiny workload, through the CLI.
    if (noTune)
        goto Done;
    string svg = Path.Combine(outDir, "tune-batching.svg");
    var sw = new StringWriter();
    string[] tuneArgs = ["tune", "--test-engine", "tiny", "--streams", "1,2,4", "--max-batch", "8,16,32", "--queue-delay", "50us,200us", "--concurrency", "64", "--window", "300ms", "--p99-budget", "2ms", "--svg", svg, .. (ptxFile is not null ? new[] { "--ptx", ptxFile } : [])];
    int rc = TypedTrt.Cli.Program.Run(tuneArgs, sw, Console.Error);
    md.AppendLine(CultureInfo.InvariantCulture, $"## `typedtrt {string.Join(' ', tuneArgs.Where(a => !a.Contains('/')))}`");
    md.AppendLine();
    md.AppendLine("```");
    md.AppendLine(sw.ToString().TrimEnd());
    md.AppendLine("```");
    md.AppendLine();
    md.AppendLine(CultureInfo.InvariantCulture, $"Exit code {rc}; chart: tune-batching.svg.");
    md.AppendLine();
    Console.WriteLine(sw.ToString());
}

Done:
md.AppendLine("## Targets missed in this run");
md.AppendLine();
if (missed.Count == 0)
    md.AppendLine("None.");
foreach (var m in missed)
    md.AppendLine(CultureInfo.InvariantCulture, $"- {m}");
File.WriteAllText(Path.Combine(outDir, "pipeline-results.md"), md.ToString());
File.WriteAllText(Path.Combine(outDir, "pipeline-results.jsonl"), jsonl.ToString());
Console.WriteLine(md.ToString());
return 0;

/// <summary>One runner measurement.</summary>
internal sealed record Result(double Median, double Min, double Max, double Checksum, long GraphLaunches);

internal static class Bench
{
    private static InferenceRunnerOptions Options(int streams, CompletionMode mode, bool graphs) =>
        new() { Streams = streams, Completion = mode, UseCudaGraphs = graphs };

    private static async Task<InferenceLease[]> Lease(InferenceRunner runner, int streams)
    {
        var leases = new InferenceLease[streams];
        for (int s = 0; s < streams; s++)
        {
            leases[s] = await runner.AcquireAsync();
            var span = leases[s].GetInputSpan<float>(0);
            uint slot = (uint)leases[s].SlotIndex;
            for (int i = 0; i < span.Length; i++)
                span[i] = (float)(((uint)i * 2654435761u + slot) % 1000) / 1000f; // native: (float)((i * 2654435761u + s) % 1000) / 1000.f
        }

        return leases;
    }

    /// <summary>native-pipeline's loop: request r on slot r % S, waiting for the slot's previous request first.</summary>
    private static async Task RunScheme(InferenceLease[] leases, ValueTask[] pending, int requests)
    {
        int s = leases.Length;
        for (int r = 0; r < requests; r++)
        {
            int k = r % s;
            if (r >= s)
                await pending[k];
            pending[k] = leases[k].RunAsync();
        }

        for (int k = 0; k < Math.Min(s, requests); k++)
            await pending[k];
    }

    public static async Task<Result> Measure(NvrtcTestEngine engine, int streams, CompletionMode mode, bool graphs, int requests, int reps)
    {
        await using var runner = new InferenceRunner(engine, Options(streams, mode, graphs));
        var leases = await Lease(runner, streams);
        var pending = new ValueTask[streams];
        var rps = new List<double>();
        for (int rep = 0; rep < reps + 1; rep++)
        {
            long t0 = Stopwatch.GetTimestamp();
            await RunScheme(leases, pending, requests);
            double sec = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            if (rep > 0)
                rps.Add(requests / sec);
        }

        double sum = 0;
        foreach (float v in leases[0].GetOutputSpan<float>(1))
            sum += v;
        foreach (var l in leases)
            l.Dispose();
        rps.Sort();
        return new Result(rps[rps.Count / 2], rps[0], rps[^1], sum, runner.GraphLaunchCount);
    }

    public static async Task<StageTimings> Profile(NvrtcTestEngine engine, int streams, int requests)
    {
        await using var runner = new InferenceRunner(engine, Options(streams, CompletionMode.Polling, false));
        var leases = await Lease(runner, streams);
        var pending = new ValueTask[streams];
        await RunScheme(leases, pending, requests); // warm-up
        runner.StartProfiling();
        await RunScheme(leases, pending, requests);
        var t = runner.StopProfiling();
        foreach (var l in leases)
            l.Dispose();
        return t;
    }

    /// <summary>Bytes allocated per request by S callers each doing acquire → RunAsync → dispose in a loop.</summary>
    public static async Task<double> AllocationPerRequest(NvrtcTestEngine engine, int streams, bool graphs, int requests)
    {
        await using var runner = new InferenceRunner(engine, Options(streams, CompletionMode.Polling, graphs));
        async Task Callers(int n)
        {
            int next = 0;
            var tasks = new Task[streams];
            for (int c = 0; c < streams; c++)
            {
                tasks[c] = Task.Run(async () =>
                {
                    while (Interlocked.Increment(ref next) <= n)
                    {
                        using var lease = await runner.AcquireAsync();
                        await lease.RunAsync();
                    }
                });
            }

            await Task.WhenAll(tasks);
        }

        await Callers(5000); // warm-up (tiering)
        long before = GC.GetTotalAllocatedBytes(precise: true);
        await Callers(requests);
        long after = GC.GetTotalAllocatedBytes(precise: true);
        // The measurement scaffolding (S tasks, closures, state machines, WhenAll) is per run, not per request:
        // measure it with a run of one request per caller and subtract.
        long b2 = GC.GetTotalAllocatedBytes(precise: true);
        await Callers(streams);
        long fixedCost = GC.GetTotalAllocatedBytes(precise: true) - b2;
        return Math.Max(0, (after - before - fixedCost)) / (double)requests;
    }
}

internal sealed class Native
{
    public double H2DUs, H2DGbps, KernelUs, D2HUs, Checksum = double.NaN;
    public int Requests;
    public Dictionary<int, double> Rps { get; } = [];

    public static Native Load(string path)
    {
        var n = new Native();
        if (!File.Exists(path))
        {
            Console.Error.WriteLine($"warning: {path} is missing; native columns are empty");
            return n;
        }

        foreach (string line in File.ReadLines(path))
        {
            if (!line.StartsWith('{'))
                continue;
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            switch (r.GetProperty("kind").GetString())
            {
                case "stages":
                    n.H2DUs = r.GetProperty("h2d_us").GetDouble();
                    n.H2DGbps = r.GetProperty("h2d_gbps").GetDouble();
                    n.KernelUs = r.GetProperty("kernel_us").GetDouble();
                    n.D2HUs = r.GetProperty("d2h_us").GetDouble();
                    break;
                case "pipeline":
                    n.Rps[r.GetProperty("streams").GetInt32()] = r.GetProperty("req_per_s_median").GetDouble();
                    n.Requests = r.GetProperty("requests").GetInt32();
                    break;
                case "checksum":
                    n.Checksum = r.GetProperty("slot0_output_sum").GetDouble();
                    break;
            }
        }

        return n;
    }
}
