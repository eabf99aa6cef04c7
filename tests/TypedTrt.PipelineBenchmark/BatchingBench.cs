// Issue 14 benchmark: 64 concurrent callers, one row each, on workload (b) and the tiny workload: items/s of the
// dynamic batching runner against (i) the same runner without batching and (ii) native-pipeline run pre-batched at the
// batch size the batcher actually formed (in and out bytes × k), with p99 latency next to MaxQueueDelay.
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using TypedTrt.Manifest;
using TypedTrt.Runtime;
using TypedTrt.Runtime.Batching;
using TypedTrt.Runtime.Diagnostics;
using TypedTrt.Runtime.Engine;
using TypedTrt.Runtime.Testing;

internal static class BatchingBench
{
    internal const int Callers = 64;

    /// <summary>The workloads to run (--batching-workloads), or null for all.</summary>
    internal static string[]? Only { get; set; }

    internal sealed record Workload(string Name, long InBytes, long OutBytes, int Iters, int Blocks, int NativeRequests, (int Streams, int MaxBatch, TimeSpan Delay)[] Configs);

    internal static readonly Workload[] Workloads =
    [
        new("tiny", 4, 4, 0, 1, 2000, [(1, 64, TimeSpan.FromMicroseconds(100)), (2, 32, TimeSpan.FromMicroseconds(100)), (4, 16, TimeSpan.FromMicroseconds(100)), (8, 8, TimeSpan.FromMicroseconds(100))]),
        new("b", 602112, 4000, 16, 16, 128, [(2, 32, TimeSpan.FromMicroseconds(500)), (4, 16, TimeSpan.FromMicroseconds(500)), (8, 8, TimeSpan.FromMicroseconds(500))]),
    ];

    internal sealed record Point(string Label, int Streams, int MaxBatch, TimeSpan Delay, Measurement M, BatchingStatistics? Stats);

    /// <summary>Runs the section; returns its markdown and JSON lines, adds missed goals to <paramref name="missed"/>.</summary>
    public static async Task<(string Markdown, string Jsonl)> RunAsync(Func<Workload, IInferenceEngine> createEngine, string? nativeBin, MeasurementOptions measure, List<string> missed)
    {
        var c = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        var jsonl = new StringBuilder();
        md.AppendLine(c, $"## Dynamic batching (issue 14): {Callers} concurrent callers, one row each");
        md.AppendLine();
        md.AppendLine("Engine: native-pipeline's kernel with a batch dimension (NvrtcTestEngine.CreateBatchedPipeline, nvcc's PTX when given): a batch of k rows launches the kernel over k·n_in inputs and k·n_out outputs with the same grid, which is exactly `native-pipeline in×k out×k iters blocks` (ii). Callers use the convenience `RunAsync` (caller memory copied straight into the slot's pinned buffer), awaited through a pooled async builder (`PooledCaller`: the harness allocates nothing of its own per request). Throughput and latency are measured like perf_analyzer (windows until three agree within 5%; `~` marks a point that never did). (i) is the same runner without batching at 4 and 8 streams (the better one).");
        md.AppendLine();
        foreach (var w in Workloads)
        {
            if (Only is not null && !Only.Contains(w.Name))
                continue;
            using var engine = createEngine(w);
            var plain = new List<Point>();
            foreach (int s in new[] { 4, 8 })
                plain.Add(await MeasureAsync(engine, w, s, null, measure));
            var unbatched = plain.MaxBy(p => p.M.RequestsPerSecond)!;
            var points = new List<Point>();
            foreach (var (s, mb, delay) in w.Configs)
                points.Add(await MeasureAsync(engine, w, s, new DynamicBatchingOptions { MaxBatchSize = mb, MaxQueueDelay = delay }, measure));

            // Native, pre-batched at each batch size the batcher formed most often.
            var native = new Dictionary<int, NativeRun>();
            foreach (int k in points.Select(p => Math.Max(1, p.Stats!.ModeBatchSize)).Distinct())
                native[k] = RunNative(nativeBin, w, k);

            md.AppendLine(c, $"### Workload ({w.Name}): {w.InBytes} B in, {w.OutBytes} B out per row, iters {w.Iters}, blocks {w.Blocks}");
            md.AppendLine();
            md.AppendLine(c, $"(i) without batching: {string.Join(", ", plain.Select(p => string.Create(c, $"S={p.Streams} {p.M.RequestsPerSecond:0} items/s (p99 {p.M.LatencyP99Microseconds:0} µs){(p.M.Stable ? "" : " ~")}")))}.");
            md.AppendLine();
            md.AppendLine("| streams | MaxBatchSize | MaxQueueDelay µs | batcher items/s | batch mean / mode | p50 µs | p99 µs | queue wait p99 µs | ×(i) | (ii) native at k=mode, same S, items/s | ×(ii) |");
            md.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|");
            foreach (var p in points)
            {
                var st = p.Stats!;
                int k = Math.Max(1, st.ModeBatchSize);
                double items = p.M.RequestsPerSecond;
                double n = native[k].ItemsPerSecond(p.Streams);
                double r1 = items / unbatched.M.RequestsPerSecond, r2 = n > 0 ? items / n : double.NaN;
                md.AppendLine(c, $"| {p.Streams} | {p.MaxBatch} | {p.Delay.TotalMicroseconds:0} | {items:0}{(p.M.Stable ? "" : " ~")} | {st.MeanBatchSize:0.0} / {k} | {p.M.LatencyP50Microseconds:0} | {p.M.LatencyP99Microseconds:0} | {st.QueueWaitP99.TotalMicroseconds:0} | {r1:0.00} | {(n > 0 ? n.ToString("0", c) : "n/a")} | {(n > 0 ? r2.ToString("0.000", c) : "n/a")} |");
                jsonl.AppendLine(c, $"{{\"section\":\"batching\",\"workload\":\"{w.Name}\",\"streams\":{p.Streams},\"max_batch\":{p.MaxBatch},\"delay_us\":{p.Delay.TotalMicroseconds:0},\"items_per_s\":{items:F1},\"stable\":{(p.M.Stable ? "true" : "false")},\"mean_batch\":{st.MeanBatchSize:F2},\"mode_batch\":{k},\"p50_us\":{p.M.LatencyP50Microseconds:F1},\"p99_us\":{p.M.LatencyP99Microseconds:F1},\"queue_wait_p99_us\":{st.QueueWaitP99.TotalMicroseconds:F1},\"unbatched_items_per_s\":{unbatched.M.RequestsPerSecond:F1},\"native_items_per_s\":{n:F1}}}");
                Console.WriteLine($"batching ({w.Name}) S={p.Streams} max {p.MaxBatch} delay {p.Delay.TotalMicroseconds:0}µs: {items:0} items/s, batch {st.MeanBatchSize:0.0}/{k}, p99 {p.M.LatencyP99Microseconds:0} µs; ×(i) {r1:0.00}, ×(ii) {r2:0.000}");
            }

            md.AppendLine();
            var best = points.MaxBy(p => p.M.RequestsPerSecond)!;
            md.AppendLine(c, $"Batch sizes formed at the best point (S={best.Streams}, max {best.MaxBatch}):");
            md.AppendLine();
            md.AppendLine("```");
            md.AppendLine(best.Stats!.ToString());
            md.AppendLine("```");
            md.AppendLine();
            if (w.Name == "tiny")
            {
                int k = Math.Max(1, best.Stats.ModeBatchSize);
                double n = native[k].ItemsPerSecond(best.Streams);
                double r1 = best.M.RequestsPerSecond / unbatched.M.RequestsPerSecond;
                if (r1 < 4)
                    missed.Add(string.Create(c, $"batching (tiny): {r1:0.00}× the runner without batching (goal ≥ 4×)"));
                if (n > 0 && best.M.RequestsPerSecond < 0.9 * n)
                    missed.Add(string.Create(c, $"batching (tiny): {best.M.RequestsPerSecond / n:0.000}× native pre-batched at k={k} (goal ≥ 0.9×)"));
            }
        }

        return (md.ToString(), jsonl.ToString());
    }

    private static async Task<Point> MeasureAsync(IInferenceEngine engine, Workload w, int streams, DynamicBatchingOptions? batching, MeasurementOptions measure)
    {
        await using var runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = streams, Batching = batching });
        int nIn = (int)(w.InBytes / 4);
        var inputs = new InferenceInput[Callers][];
        for (int c = 0; c < Callers; c++)
        {
            var data = new float[nIn];
            for (int i = 0; i < nIn; i++)
                data[i] = (float)(((uint)i * 2654435761u + (uint)c) % 1000) / 1000f;
            inputs[c] = [new InferenceInput(0, MemoryMarshal.AsBytes(data.AsSpan()).ToArray(), new long[] { 1, nIn })];
        }

        var m = await LoadMeasurement.MeasureAsync(Callers, c => PooledCaller.RunAsync(runner, inputs[c]), measure);
        return new Point(batching is null ? "plain" : "batching", streams, batching?.MaxBatchSize ?? 0, batching?.MaxQueueDelay ?? TimeSpan.Zero, m, runner.GetBatchingStatistics());
    }

    internal sealed class NativeRun
    {
        public Dictionary<int, double> Rps { get; } = [];

        public int K { get; init; }

        public double ItemsPerSecond(int streams) => Rps.TryGetValue(streams, out double r) ? r * K : 0;
    }

    /// <summary>Runs native-pipeline pre-batched at k rows (in and out bytes × k) and reads its per-stream-count lines.</summary>
    internal static NativeRun RunNative(string? nativeBin, Workload w, int k)
    {
        var run = new NativeRun { K = k };
        if (nativeBin is null || !File.Exists(nativeBin))
        {
            Console.Error.WriteLine("warning: no --native-bin; the pre-batched native column is empty");
            return run;
        }

        var psi = new ProcessStartInfo(nativeBin)
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { (w.InBytes * k).ToString(CultureInfo.InvariantCulture), (w.OutBytes * k).ToString(CultureInfo.InvariantCulture), w.Iters.ToString(CultureInfo.InvariantCulture), w.Blocks.ToString(CultureInfo.InvariantCulture), w.NativeRequests.ToString(CultureInfo.InvariantCulture), "8" })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Console.WriteLine($"native pre-batched ({w.Name}, k={k}): exit {p.ExitCode}");
        Parse(output, run);
        return run;
    }

    internal static void Parse(string output, NativeRun run)
    {
        foreach (string line in output.Split('\n'))
        {
            if (!line.StartsWith('{'))
                continue;
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            if (r.GetProperty("kind").GetString() == "pipeline")
                run.Rps[r.GetProperty("streams").GetInt32()] = r.GetProperty("req_per_s_median").GetDouble();
        }
    }
}

/// <summary>
/// A CPU engine with the batched pipeline's signature and the kernel's exact semantics (NvrtcTestEngine.PipelineReference
/// over k rows), so the benchmark's batching section can be checked on a machine without a GPU (<c>--host-test</c>).
/// </summary>
internal sealed class HostPipelineEngine(long inBytes, long outBytes, int iters, int maxBatch) : IInferenceEngine
{
    private readonly int _nIn = (int)(inBytes / 4), _nOut = (int)(outBytes / 4), _iters = iters;

    public BindingManifest Signature { get; } = new(
        new ModelSource(ModelKind.TensorRTEngine, "host-pipeline.engine", new string('0', 64), 1),
        [
            new TensorBinding("in", TensorMode.Input, "float", [-1, inBytes / 4], ["batch", ""]),
            new TensorBinding("out", TensorMode.Output, "float", [-1, outBytes / 4], ["batch", ""]),
        ],
        [new OptimizationProfile([new ProfileShape("in", [1, inBytes / 4], [maxBatch, inBytes / 4], [maxBatch, inBytes / 4])])]);

    public BufferPlacement Placement => BufferPlacement.Host;

    public IEngineContext CreateContext() => new Context(this);

    public void Dispose()
    {
    }

    private sealed unsafe class Context(HostPipelineEngine e) : IEngineContext
    {
        private readonly nint[] _addr = new nint[2];
        private long _k = -1;

        public void SetOptimizationProfile(int profileIndex, nint stream)
        {
        }

        public void SetInputShape(int tensorIndex, ReadOnlySpan<long> dims) => _k = dims[0];

        public int GetTensorShape(int tensorIndex, Span<long> dims)
        {
            dims[0] = _k;
            dims[1] = tensorIndex == 0 ? e._nIn : e._nOut;
            return 2;
        }

        public void SetTensorAddress(int tensorIndex, nint address, long capacityBytes) => _addr[tensorIndex] = address;

        public void Enqueue(nint stream) =>
            NvrtcTestEngine.PipelineReference(new ReadOnlySpan<float>((void*)_addr[0], (int)(e._nIn * _k)), new Span<float>((void*)_addr[1], (int)(e._nOut * _k)), e._iters);

        public void Dispose()
        {
        }
    }
}
