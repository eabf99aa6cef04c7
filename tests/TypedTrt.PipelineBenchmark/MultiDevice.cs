// Issue 17/18: the runner on several devices (one engine per device, S slots per device) against native-pipeline.cu run
// on each device alone (CUDA_VISIBLE_DEVICES=d, see tests/gpu/device-multi.sh): per-device and total req/s, and
// total ÷ Σ single-device native.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using TypedTrt.Runtime;
using TypedTrt.Runtime.Cuda;
using TypedTrt.Runtime.Diagnostics;
using TypedTrt.Runtime.Engine;
using TypedTrt.Runtime.Testing;

internal static class MultiDevice
{
    private const int Requests = 512, Reps = 5;
    private static readonly int[] StreamCounts = [1, 2, 4];

    /// <summary>"all" or a comma-separated list of ordinals.</summary>
    public static int[] ParseDevices(string text) =>
        text == "all"
            ? [.. Enumerable.Range(0, CudaDriver.DeviceCount)]
            : [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture))];

    public static async Task<int> RunAsync(int[] devices, string nativeDir, byte[]? ptx, string outDir, string? gpuInfo)
    {
        var md = new StringBuilder();
        var jsonl = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        string gpus = gpuInfo is not null && File.Exists(gpuInfo) ? File.ReadAllText(gpuInfo).Trim() : string.Join("; ", devices.Select(CudaDriver.GetDeviceName));
        md.AppendLine(c, $"# Multi-device pipeline benchmark: one InferenceRunner on devices [{string.Join(", ", devices)}] vs native-pipeline.cu on each device alone");
        md.AppendLine();
        md.AppendLine(c, $"GPUs: {gpus}; CUDA driver API {CudaDriver.Version}; date {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; kernel: {(ptx is not null ? "nvcc -ptx of native-pipeline.cu" : "NVRTC")}.");
        md.AppendLine(c, $"Runner: `new InferenceRunner(d => engine on d, new() {{ Devices = [...], Streams = S }})` (S slots per device, polling). Per device one caller loop runs native's scheme on that device's S leases (request r → lease r % S, waiting for its previous request), {Requests} requests per device, all devices at once; median of {Reps} reps after one warm-up. Native: `CUDA_VISIBLE_DEVICES=d native-pipeline ... {Requests} 4`, each device alone.");
        md.AppendLine();
        md.Append("Host NUMA node per device (CU_DEVICE_ATTRIBUTE_HOST_NUMA_ID): ");
        md.AppendLine(string.Join(", ", devices.Select(d => string.Create(c, $"{d} → {CudaDriver.GetHostNumaNode(d)}"))));
        md.AppendLine();
        var missed = new List<string>();
        var workloads = new (string Name, long In, long Out, int Iters, int Blocks)[]
        {
            ("b", 602112, 4000, 16, 16),
            ("c", 602112, 4000, 200, 33),
        };
        foreach (var w in workloads)
        {
            var natives = devices.ToDictionary(d => d, d => Native.Load(Path.Combine(nativeDir, $"native-{w.Name}-dev{d}.jsonl")));
            md.AppendLine(c, $"## Workload ({w.Name}): {w.In} B in, {w.Out} B out, iters {w.Iters}, blocks {w.Blocks}");
            md.AppendLine();
            md.AppendLine("| streams/device | " + string.Join(" | ", devices.Select(d => $"dev {d} native | dev {d} runner | ratio")) + " | Σ native | runner total | total ÷ Σ native |");
            md.AppendLine("|---|" + string.Concat(Enumerable.Repeat("---|---|---|", devices.Length)) + "---|---|---|");
            IInferenceEngine Factory(int d) => ptx is not null
                ? NvrtcTestEngine.CreatePipelineFromImage(ptx, w.In, w.Out, w.Iters, w.Blocks, d)
                : NvrtcTestEngine.CreatePipeline(w.In, w.Out, w.Iters, w.Blocks, d);
            foreach (int s in StreamCounts)
            {
                var (perDevice, total) = await MeasureAsync(Factory, devices, s);
                double sumNative = devices.Sum(d => natives[d].Rps.GetValueOrDefault(s));
                var row = new StringBuilder(string.Create(c, $"| {s} |"));
                var json = new StringBuilder(string.Create(c, $"{{\"workload\":\"{w.Name}\",\"streams_per_device\":{s},\"devices\":[{string.Join(",", devices)}],\"per_device\":["));
                for (int i = 0; i < devices.Length; i++)
                {
                    double n = natives[devices[i]].Rps.GetValueOrDefault(s);
                    row.Append(c, $" {n:0} | {perDevice[i]:0} | {perDevice[i] / n:0.000} |");
                    json.Append(c, $"{(i > 0 ? "," : "")}{{\"device\":{devices[i]},\"native\":{n:F1},\"runner\":{perDevice[i]:F1}}}");
                }

                double ratio = total / sumNative;
                row.Append(c, $" {sumNative:0} | {total:0} | **{ratio:0.000}** |");
                json.Append(c, $"],\"native_sum\":{sumNative:F1},\"runner_total\":{total:F1},\"ratio\":{ratio:F4}}}");
                md.AppendLine(row.ToString());
                jsonl.AppendLine(json.ToString());
                Console.WriteLine($"({w.Name}) S={s}/device on [{string.Join(",", devices)}]: runner total {total:0} req/s, Σ native {sumNative:0} → {ratio:0.000}; per device {string.Join(", ", perDevice.Select(p => p.ToString("0", c)))}");
                if (!(ratio >= 0.95))
                    missed.Add(string.Create(c, $"({w.Name}) S={s}/device: total {ratio:0.000}× Σ native"));
            }

            md.AppendLine();
            var report = await ProfileAsync(Factory, devices, 2);
            md.AppendLine(c, $"Stage profile at 2 streams per device (per-device pinned peaks, BottleneckReport over the device set):");
            md.AppendLine();
            md.AppendLine("```");
            md.AppendLine(report.ToString());
            md.AppendLine("```");
            md.AppendLine();
            Console.WriteLine(report);
        }

        md.AppendLine("## Targets missed in this run (goal: total ≥ 0.95 × Σ single-device native)");
        md.AppendLine();
        if (missed.Count == 0)
            md.AppendLine("None.");
        foreach (var m in missed)
            md.AppendLine(c, $"- {m}");
        File.WriteAllText(Path.Combine(outDir, "multi-device-results.md"), md.ToString());
        File.WriteAllText(Path.Combine(outDir, "multi-device-results.jsonl"), jsonl.ToString());
        Console.WriteLine(md.ToString());
        return 0;
    }

    // Leases every slot; slot indices are grouped per device in the order of runner.Devices (Streams per device).
    private static async Task<InferenceLease[][]> LeaseAllAsync(InferenceRunner runner, int streams)
    {
        var byDevice = new List<InferenceLease>[runner.Devices.Count];
        for (int d = 0; d < byDevice.Length; d++)
            byDevice[d] = [];
        for (int i = 0; i < runner.SlotCount; i++)
        {
            var lease = await runner.AcquireAsync();
            byDevice[lease.SlotIndex / streams].Add(lease);
            var span = lease.GetInputSpan<float>(0);
            uint slot = (uint)(lease.SlotIndex % streams);
            for (int k = 0; k < span.Length; k++)
                span[k] = (float)(((uint)k * 2654435761u + slot) % 1000) / 1000f;
        }

        return [.. byDevice.Select(l => l.ToArray())];
    }

    private static async Task<double> DeviceLoopAsync(InferenceLease[] leases, int requests)
    {
        await Task.Yield();
        int s = leases.Length;
        var pending = new ValueTask[s];
        long t0 = Stopwatch.GetTimestamp();
        for (int r = 0; r < requests; r++)
        {
            int k = r % s;
            if (r >= s)
                await pending[k];
            pending[k] = leases[k].RunAsync();
        }

        for (int k = 0; k < Math.Min(s, requests); k++)
            await pending[k];
        return Stopwatch.GetElapsedTime(t0).TotalSeconds;
    }

    private static async Task<(double[] PerDevice, double Total)> MeasureAsync(Func<int, IInferenceEngine> factory, int[] devices, int streams)
    {
        await using var runner = new InferenceRunner(factory, new InferenceRunnerOptions { Devices = devices, Streams = streams });
        var leases = await LeaseAllAsync(runner, streams);
        var per = new List<double>[devices.Length];
        for (int d = 0; d < per.Length; d++)
            per[d] = [];
        var totals = new List<double>();
        for (int rep = 0; rep < Reps + 1; rep++)
        {
            long t0 = Stopwatch.GetTimestamp();
            double[] secs = await Task.WhenAll(leases.Select(l => DeviceLoopAsync(l, Requests)));
            double wall = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            if (rep == 0)
                continue;
            for (int d = 0; d < secs.Length; d++)
                per[d].Add(Requests / secs[d]);
            totals.Add(Requests * devices.Length / wall);
        }

        foreach (var l in leases.SelectMany(x => x))
            l.Dispose();
        return ([.. per.Select(Median)], Median(totals));
    }

    private static async Task<BottleneckReport> ProfileAsync(Func<int, IInferenceEngine> factory, int[] devices, int streams)
    {
        await using var runner = new InferenceRunner(factory, new InferenceRunnerOptions { Devices = devices, Streams = streams });
        var leases = await LeaseAllAsync(runner, streams);
        await Task.WhenAll(leases.Select(l => DeviceLoopAsync(l, Requests))); // warm-up
        runner.StartProfiling();
        await Task.WhenAll(leases.Select(l => DeviceLoopAsync(l, Requests)));
        var t = runner.StopProfiling();
        foreach (var l in leases.SelectMany(x => x))
            l.Dispose();
        return BottleneckReport.Analyze(t, runner.MeasurePinnedH2DPeaks());
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values.Count == 0 ? double.NaN : values[values.Count / 2];
    }
}
