// CPU proxy of the tiny-workload batching benchmark (issue 14): a host engine doing (almost) no work, 64 concurrent
// single-row callers, the dynamic batcher on, against the same runner fed pre-batched k-row requests. With nothing to
// compute, everything it measures is host work of the batching path: queueing, batch forming, the row copies, the
// completion fan-out and the callers' resubmission. HostExecution.ThreadPool stands in for a device engine (the run
// completes on another thread, as the completion poller does); Inline runs it on the thread that forms the batch.
//
//   TypedTrt.PipelineBenchmark --cpu-proxy [--out DIR]      writes DIR/batching-cpu-proxy.md and .jsonl
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using TypedTrt.Runtime;
using TypedTrt.Runtime.Batching;
using TypedTrt.Runtime.Diagnostics;

internal static class BatchingProxy
{
    private static readonly (int Streams, int MaxBatch)[] Configs = [(1, 64), (2, 32), (4, 16), (8, 8)];

    public static async Task<(string Markdown, string Jsonl)> RunAsync(MeasurementOptions measure, string[]? only = null)
    {
        var c = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        var jsonl = new StringBuilder();
        using var engine = new HostPipelineEngine(4, 4, 0, 64);
        md.AppendLine(c, $"## CPU proxy: {BatchingBench.Callers} concurrent single-row callers on a host engine that does no work (4 B in, 4 B out per row)");
        md.AppendLine();
        md.AppendLine(c, $"Machine: {Environment.ProcessorCount} logical CPUs, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC. MaxQueueDelay 100 µs. Cycle = S × mean batch ÷ items/s: the time one slot takes from forming a batch to forming its next. Pre-batched = the same runner without batching, S callers each sending k-row requests (k = MaxBatchSize). CPU µs/request = the process's CPU time (every thread, spinning included) over the measurement ÷ batched requests (with the runner's setup and warm-up; a machine-load-independent measure of host work per request).");
        md.AppendLine();
        md.AppendLine("| host execution | streams | MaxBatchSize | batcher items/s | mean batch | cycle µs | p50 µs | p99 µs | pre-batched items/s | ×pre-batched | alloc B/request | process CPU µs/request |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var exec in new[] { HostExecution.ThreadPool, HostExecution.Inline })
        {
            if (only is not null && !only.Contains(exec.ToString(), StringComparer.OrdinalIgnoreCase))
                continue;
            foreach (var (s, mb) in Configs)
            {
                var options = new InferenceRunnerOptions
                {
                    Streams = s,
                    HostExecution = exec,
                    Batching = new DynamicBatchingOptions { MaxBatchSize = mb, MaxQueueDelay = TimeSpan.FromMicroseconds(100) },
                };
                double items, p50, p99, mean, cpuUs;
                long alloc;
                bool stable;
                await using (var runner = new InferenceRunner(engine, options))
                {
                    var inputs = Inputs(BatchingBench.Callers, 1);
                    long a0 = GC.GetTotalAllocatedBytes(false);
                    var cpu0 = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
                    var m = await LoadMeasurement.MeasureAsync(BatchingBench.Callers, i => PooledCaller.RunAsync(runner, inputs[i]), measure);
                    var st = runner.GetBatchingStatistics()!;
                    alloc = st.Requests > 0 ? (GC.GetTotalAllocatedBytes(false) - a0) / st.Requests : 0;
                    cpuUs = st.Requests > 0 ? (System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMicroseconds / st.Requests : double.NaN;
                    (items, p50, p99, mean, stable) = (m.RequestsPerSecond, m.LatencyP50Microseconds, m.LatencyP99Microseconds, st.MeanBatchSize, m.Stable);
                }

                double pre;
                await using (var plain = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = s, HostExecution = exec }))
                {
                    var inputs = Inputs(s, mb);
                    var m = await LoadMeasurement.MeasureAsync(s, i => PooledCaller.RunAsync(plain, inputs[i]), measure);
                    pre = m.RequestsPerSecond * mb;
                }

                double cycle = items > 0 ? s * mean / items * 1e6 : double.NaN;
                md.AppendLine(c, $"| {exec} | {s} | {mb} | {items:0}{(stable ? "" : " ~")} | {mean:0.0} | {cycle:0.0} | {p50:0} | {p99:0} | {pre:0} | {items / pre:0.000} | {alloc} | {cpuUs:0.00} |");
                jsonl.AppendLine(c, $"{{\"section\":\"batching-cpu-proxy\",\"host_execution\":\"{exec}\",\"streams\":{s},\"max_batch\":{mb},\"items_per_s\":{items:F1},\"stable\":{(stable ? "true" : "false")},\"mean_batch\":{mean:F2},\"cycle_us\":{cycle:F2},\"p50_us\":{p50:F1},\"p99_us\":{p99:F1},\"prebatched_items_per_s\":{pre:F1},\"alloc_bytes_per_request\":{alloc},\"cpu_us_per_request\":{cpuUs:F3}}}");
                Console.WriteLine($"proxy {exec} S={s} max {mb}: {items:0} items/s, batch {mean:0.0}, cycle {cycle:0.0} µs, p99 {p99:0} µs; pre-batched {pre:0} items/s ({items / pre:0.000}×), {alloc} B/request, {cpuUs:0.00} CPU µs/request");
            }
        }

        return (md.ToString(), jsonl.ToString());
    }

    private static InferenceInput[][] Inputs(int callers, int rows)
    {
        var inputs = new InferenceInput[callers][];
        for (int i = 0; i < callers; i++)
        {
            var data = new float[rows];
            for (int r = 0; r < rows; r++)
                data[r] = (i * 31 + r) % 1000 / 1000f;
            inputs[i] = [new InferenceInput(0, MemoryMarshal.AsBytes(data.AsSpan()).ToArray(), new long[] { rows, 1 })];
        }

        return inputs;
    }
}
