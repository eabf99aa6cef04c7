using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TypedTrt.Manifest;
using TypedTrt.Runtime;
using TypedTrt.Runtime.Cuda;
using TypedTrt.Runtime.Diagnostics;
using TypedTrt.Runtime.Engine;

namespace TypedTrt.OnnxRuntime.Cuda.Benchmark;

/// <summary>
/// Raw ONNX Runtime on CUDA, written as a .NET user would (one session on one stream, IoBinding on device memory,
/// H2D → Run → D2H → synchronize per request; and the simpler IoBinding on host memory, where ONNX Runtime copies),
/// against the generated TypedTrt runner over <see cref="OnnxRuntimeCudaEngine"/> at 1, 2 and 4 streams, with the
/// runner's bottleneck report per point; then the batch and precision steps, ONNX Runtime's CUDA graphs, the memory
/// per slot and a StreamTuner (typedtrt tune) chart. Writes ort-cuda-results.md / .jsonl and tune-ocr-cls.svg.
/// </summary>
public static class Program
{
    private static double s_seconds = 1.5;
    private static readonly List<string> Json = [];
    private static readonly StringBuilder Md = new();
    private static double s_peak;

    private sealed record Model(string Name, string File, BindingManifest Signature, long[] ItemIn, long[] ItemOut, Func<IInferenceEngine, int, (IAsyncDisposable Owner, InferenceRunner Runner)> Runner)
    {
        public long[] In(int batch) => [batch, .. ItemIn[1..]];

        public long[] Out(int batch) => [batch, .. ItemOut[1..]];
    }

    private sealed record Point(string Model, int Batch, string Config, int Streams, double Rps, double P50Ms, string? Verdict, StageTimings? Stages);

    public static async Task<int> Main(string[] args)
    {
        string models = "models", outDir = ".", gpu = "", phase = "plain";
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--models": models = args[i + 1]; break;
                case "--out": outDir = args[i + 1]; break;
                case "--seconds": s_seconds = double.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--gpu-info": gpu = File.Exists(args[i + 1]) ? File.ReadAllText(args[i + 1]).Trim() : args[i + 1]; break;
                case "--phase": phase = args[i + 1]; break;
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        }

        var avail = OnnxRuntimeCudaAvailability.Current;
        Console.WriteLine(avail.ToString());
        if (!avail.IsAvailable)
            return 3;
        Directory.CreateDirectory(outDir);
        s_peak = InferenceRunner.MeasurePinnedH2DPeak();
        if (phase == "plain")
        {
            Md.AppendLine("# ONNX Runtime CUDA: raw ONNX Runtime vs the TypedTrt runner");
            Md.AppendLine();
            Md.AppendLine(Inv($"GPU: {gpu}; ONNX Runtime {avail.OnnxRuntimeVersion}; pinned H2D peak {s_peak:0.0} GB/s; {s_seconds:0.0} s per point; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC."));
            Md.AppendLine();
        }

        Md.AppendLine(Inv($"### phase: {phase}")).AppendLine();

        var cls = new Model("ocr-cls", Path.Combine(models, "ch_ppocr_mobile_v2.0_cls_infer.onnx"), OcrDirection.Signature, [1, 3, 48, 192], [1, 2],
            (e, s) => { var r = new OcrDirectionRunner(e, s); return (r, r.Runner); });
        var det = new Model("ocr-det", Path.Combine(models, "ch_PP-OCRv4_det_infer.onnx"), OcrDetector.Signature, [1, 3, 640, 640], [1, 1, 640, 640],
            (e, s) => { var r = new OcrDetectorRunner(e, s); return (r, r.Runner); });
        int failures = 0;
        foreach (var (model, batches) in new[] { (cls, new[] { 1, 8 }), (det, new[] { 1, 4 }) })
        {
            if (!File.Exists(model.File) || phase == "tune")
                continue;
            try
            {
                if (phase == "plain")
                    await RunModelAsync(model, batches);
                else if (phase == "graph")
                    await RunGraphsAsync(model);
                else if (phase == "memory")
                    await MemoryAsync(model);
            }
            catch (Exception e)
            {
                failures++;
                Console.WriteLine($"{model.Name} FAILED: {e}");
                Md.AppendLine(Inv($"**{model.Name} failed ({phase}):** {e.GetType().Name}: {e.Message}")).AppendLine();
            }
        }

        if (phase == "tune")
        {
            try
            {
                await TuneAsync(cls, outDir);
            }
            catch (Exception e)
            {
                failures++;
                Console.WriteLine($"tune FAILED: {e}");
            }
        }

        File.AppendAllText(Path.Combine(outDir, "ort-cuda-results.md"), Md.ToString());
        File.AppendAllLines(Path.Combine(outDir, "ort-cuda-results.jsonl"), Json);
        Console.WriteLine(Md.ToString());
        return failures == 0 ? 0 : 1;
    }

    private static async Task RunModelAsync(Model m, int[] batches)
    {
        var points = new List<Point>();
        float[] image = Image(m.In(batches[^1]));
        var plain = new OnnxRuntimeCudaEngineOptions();
        foreach (int batch in batches)
        {
            long[] inShape = m.In(batch), outShape = m.Out(batch);
            var pinned = OrtCudaPin(m.Signature, inShape);
            points.Add(RawDevice(m, batch, image, inShape, outShape, plain, "raw ORT, IoBinding on device memory"));
            if (batch == batches[0])
            {
                points.Add(RawHost(m, batch, image, inShape, outShape));
                points.Add(await RunnerAsync(m, batch, image, pinned, plain, 1, "TypedTrt runner", false));
                points.Add(await RunnerAsync(m, batch, image, pinned, new OnnxRuntimeCudaEngineOptions { SynchronizeRuns = true }, 1, "TypedTrt runner, SynchronizeRuns", false));
                points.Add(await RunnerAsync(m, batch, image, pinned, plain, 2, "TypedTrt runner", false));
                points.Add(await RunnerAsync(m, batch, image, pinned, plain, 2, "TypedTrt runner, callers yield", true));
                points.Add(await RunnerAsync(m, batch, image, pinned, plain, 4, "TypedTrt runner, callers yield", true));
                var noTf32 = new OnnxRuntimeCudaEngineOptions { CudaProviderOptions = new Dictionary<string, string> { ["arena_extend_strategy"] = "kSameAsRequested", ["use_tf32"] = "0" } };
                points.Add(await RunnerAsync(m, batch, image, pinned, noTf32, 1, "TypedTrt runner, use_tf32=0", false));
            }
            else
            {
                points.Add(await RunnerAsync(m, batch, image, pinned, plain, 1, "TypedTrt runner", false));
                points.Add(await RunnerAsync(m, batch, image, pinned, plain, 2, "TypedTrt runner, callers yield", true));
            }
        }

        WriteTable(m, points);
    }

    private static async Task RunGraphsAsync(Model m)
    {
        var points = new List<Point>();
        float[] image = Image(m.In(1));
        long[] inShape = m.In(1), outShape = m.Out(1);
        var pinned = OrtCudaPin(m.Signature, inShape);
        var graph = new OnnxRuntimeCudaEngineOptions { CudaGraph = true };
        points.Add(RawDevice(m, 1, image, inShape, outShape, new OnnxRuntimeCudaEngineOptions(), "raw ORT, IoBinding on device memory"));
        points.Add(RawDevice(m, 1, image, inShape, outShape, graph, "raw ORT + CUDA graph"));
        points.Add(await RunnerAsync(m, 1, image, pinned, graph, 1, "TypedTrt runner + ORT CUDA graph", false));
        points.Add(await RunnerAsync(m, 1, image, pinned, graph, 2, "TypedTrt runner + ORT CUDA graph, callers yield", true));
        WriteTable(m, points);
    }

    private static BindingManifest OrtCudaPin(BindingManifest s, long[] shape) =>
        new(s.Source, s.Tensors, [new OptimizationProfile([new ProfileShape(s.Tensors[0].Name, shape, shape, shape)])]);

    private static float[] Image(long[] shape)
    {
        var rng = new Random(42);
        long n = 1;
        foreach (long d in shape)
            n *= d;
        var data = new float[n];
        for (int i = 0; i < data.Length; i++)
            data[i] = rng.NextSingle() < 0.15f ? -1.8f : 1.9f; // dark "ink" on a light page, roughly normalized
        return data;
    }

    private static SessionOptions RawSessionOptions(nint stream, OnnxRuntimeCudaEngineOptions o)
    {
        var so = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        var p = new Dictionary<string, string>(o.CudaProviderOptions)
        {
            ["device_id"] = "0",
            ["has_user_compute_stream"] = "1",
            ["user_compute_stream"] = ((ulong)stream).ToString(CultureInfo.InvariantCulture),
        };
        if (o.CudaGraph)
            p["enable_cuda_graph"] = "1";
        using var cuda = new OrtCUDAProviderOptions();
        cuda.UpdateOptions(p);
        so.AppendExecutionProvider_CUDA(cuda);
        return so;
    }

    /// <summary>One session, one stream, input and output bound to device memory; per request H2D, Run (synchronizing, ORT's default), D2H, stream synchronize.</summary>
    private static Point RawDevice(Model m, int batch, float[] image, long[] inShape, long[] outShape, OnnxRuntimeCudaEngineOptions o, string config)
    {
        using var cuda = CudaContext.RetainPrimary(0);
        cuda.MakeCurrent();
        using var stream = cuda.CreateStream();
        long inBytes = Count(inShape) * 4, outBytes = Count(outShape) * 4;
        using var hIn = cuda.AllocatePinned(inBytes);
        using var hOut = cuda.AllocatePinned(outBytes);
        using var dIn = cuda.Allocate(inBytes);
        using var dOut = cuda.Allocate(outBytes);
        MemoryMarshal.AsBytes(image.AsSpan(0, (int)(inBytes / 4))).CopyTo(hIn.AsSpan());
        using var so = RawSessionOptions(stream.Handle, o);
        using var session = new InferenceSession(m.File, so);
        using var mem = new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA, OrtAllocatorType.DeviceAllocator, 0, OrtMemType.Default);
        using var input = OrtValue.CreateTensorValueWithData(mem, TensorElementType.Float, inShape, (nint)dIn.Address, inBytes);
        using var output = OrtValue.CreateTensorValueWithData(mem, TensorElementType.Float, outShape, (nint)dOut.Address, outBytes);
        using var binding = session.CreateIoBinding();
        binding.BindInput(m.Signature.Tensors[0].Name, input);
        binding.BindOutput(m.Signature.Tensors[1].Name, output);
        using var ro = new RunOptions();
        void One()
        {
            stream.CopyToDevice(dIn, hIn.Pointer, inBytes);
            session.RunWithBinding(ro, binding);
            stream.CopyToHost(hOut.Pointer, dOut, outBytes);
            stream.Synchronize();
        }

        return Loop(m, batch, config, One);
    }

    /// <summary>The simplest IoBinding: input and output in (pinned) host memory, ONNX Runtime copies them.</summary>
    private static Point RawHost(Model m, int batch, float[] image, long[] inShape, long[] outShape)
    {
        using var cuda = CudaContext.RetainPrimary(0);
        cuda.MakeCurrent();
        using var stream = cuda.CreateStream();
        long inBytes = Count(inShape) * 4, outBytes = Count(outShape) * 4;
        using var hIn = cuda.AllocatePinned(inBytes);
        using var hOut = cuda.AllocatePinned(outBytes);
        MemoryMarshal.AsBytes(image.AsSpan(0, (int)(inBytes / 4))).CopyTo(hIn.AsSpan());
        using var so = RawSessionOptions(stream.Handle, new OnnxRuntimeCudaEngineOptions());
        using var session = new InferenceSession(m.File, so);
        using var input = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Float, inShape, hIn.Pointer, inBytes);
        using var output = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Float, outShape, hOut.Pointer, outBytes);
        using var binding = session.CreateIoBinding();
        binding.BindInput(m.Signature.Tensors[0].Name, input);
        binding.BindOutput(m.Signature.Tensors[1].Name, output);
        using var ro = new RunOptions();
        return Loop(m, batch, "raw ORT, IoBinding on host memory", () => session.RunWithBinding(ro, binding));
    }

    private static Point Loop(Model m, int batch, string config, Action one)
    {
        for (int i = 0; i < 20; i++)
            one();
        var lat = new List<double>(4096);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < s_seconds || lat.Count < 50)
        {
            long t0 = Stopwatch.GetTimestamp();
            one();
            lat.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }

        double rps = lat.Count / clock.Elapsed.TotalSeconds;
        return Record(new Point(m.Name, batch, config, 1, rps, Median(lat), null, null));
    }

    private static async Task<Point> RunnerAsync(Model m, int batch, float[] image, BindingManifest pinned, OnnxRuntimeCudaEngineOptions o, int streams, string config, bool yieldAfter)
    {
        using var engine = OnnxRuntimeCudaEngine.Load(m.File, pinned, o);
        var (owner, runner) = m.Runner(engine, streams);
        await using (owner)
        {
            await runner.WarmUpAsync(2);
            long[] shape = m.In(batch);
            int elements = (int)Count(shape);
            var leases = new InferenceLease[streams];
            for (int i = 0; i < streams; i++)
            {
                leases[i] = await runner.AcquireAsync();
                leases[i].SetInputShape(0, shape);
                image.AsSpan(0, elements).CopyTo(leases[i].GetInputSpan<float>(0));
            }

            foreach (var l in leases)
                l.Dispose();

            async Task<List<double>> Caller(double seconds)
            {
                var lat = new List<double>(4096);
                var clock = Stopwatch.StartNew();
                while (clock.Elapsed.TotalSeconds < seconds)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    var lease = await runner.AcquireAsync();
                    lease.SetInputShape(0, shape);
                    await lease.RunAsync();
                    lease.Dispose();
                    lat.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                    // A server's request threads do their own work after a result; yielding leaves the runner's
                    // completion thread free, so ONNX Runtime's launch work of different slots runs in parallel.
                    if (yieldAfter)
                        await Task.Yield();
                }

                return lat;
            }

            // Throughput unprofiled, then a shorter profiled pass for the stage split and the verdict.
            var total = Stopwatch.StartNew();
            var runs = await Task.WhenAll(Enumerable.Range(0, streams).Select(_ => Task.Run(() => Caller(s_seconds))));
            double rps = runs.Sum(r => r.Count) / total.Elapsed.TotalSeconds;
            runner.StartProfiling();
            await Task.WhenAll(Enumerable.Range(0, streams).Select(_ => Task.Run(() => Caller(Math.Max(0.3, s_seconds / 3)))));
            var stages = runner.StopProfiling();
            var report = BottleneckReport.Analyze(stages, s_peak);
            string graphs = o.CudaGraph ? Inv($" (ORT graph; runner graph launches {runner.GraphLaunchCount})") : "";
            return Record(new Point(m.Name, batch, config + graphs, streams, rps, Median(runs.SelectMany(r => r).ToList()), report.Bottleneck.ToString(), stages), report.ToString());
        }
    }

    private static async Task MemoryAsync(Model m)
    {
        using var cuda = CudaContext.RetainPrimary(0);
        var sig = OrtCudaPin(m.Signature, m.In(1));
        using var engine = OnnxRuntimeCudaEngine.Load(m.File, sig);
        var used = new Dictionary<int, long>();
        foreach (int s in new[] { 1, 4 })
        {
            GC.Collect();
            long before = cuda.GetMemoryInfo().Free;
            var (owner, runner) = m.Runner(engine, s);
            await using (owner)
            {
                await runner.WarmUpAsync(2);
                used[s] = before - cuda.GetMemoryInfo().Free;
            }
        }

        double perSlot = (used[4] - used[1]) / 3.0 / (1 << 20);
        Md.AppendLine(Inv($"Device memory ({m.Name}, batch 1, after warm-up): 1 slot {used[1] / 1048576.0:0} MiB, 4 slots {used[4] / 1048576.0:0} MiB: **{perSlot:0} MiB per extra slot** (a session: weights, arena, cuDNN/cuBLAS workspaces; plus the slot's buffers)."));
        Md.AppendLine();
        Json.Add(Inv($"{{\"model\":\"{m.Name}\",\"memoryMiB1\":{used[1] >> 20},\"memoryMiB4\":{used[4] >> 20},\"perSlotMiB\":{perSlot:0.0}}}"));
    }

    private static async Task TuneAsync(Model m, string outDir)
    {
        if (!File.Exists(m.File))
            return;
        var sig = OrtCudaPin(m.Signature, m.In(1));
        using var engine = OnnxRuntimeCudaEngine.Load(m.File, sig);
        float[] image = Image(m.In(1));
        var report = await StreamTuner.RunAsync(engine, new StreamTunerOptions { Streams = [1, 2, 4, 8], Requests = 2000, WarmupRequests = 200 },
            lease =>
            {
                lease.SetInputShape(0, m.In(1));
                image.CopyTo(lease.GetInputSpan<float>(0));
            });
        File.WriteAllText(Path.Combine(outDir, "tune-ocr-cls.svg"), report.ToSvg("PaddleOCR direction classifier on ONNX Runtime CUDA (batch 1): throughput vs streams"));
        Md.AppendLine("## StreamTuner (`typedtrt tune`) on ocr-cls, batch 1").AppendLine().AppendLine("```").AppendLine(report.ToString()).AppendLine("```").AppendLine();
    }

    private static Point Record(Point p, string? report = null)
    {
        var t = p.Stages;
        string stages = t is null ? "" : Inv($",\"h2dUs\":{t.H2DMicroseconds:0.0},\"computeUs\":{t.ComputeMicroseconds:0.0},\"d2hUs\":{t.D2HMicroseconds:0.0},\"gapUs\":{t.HostGapMicroseconds:0.0},\"verdict\":\"{p.Verdict}\"");
        Json.Add(Inv($"{{\"model\":\"{p.Model}\",\"batch\":{p.Batch},\"config\":\"{p.Config}\",\"streams\":{p.Streams},\"rps\":{p.Rps:0.0},\"itemsPerSecond\":{p.Rps * p.Batch:0.0},\"p50Ms\":{p.P50Ms:0.000}{stages}}}"));
        Console.WriteLine(Inv($"{p.Model} b{p.Batch} {p.Config} S={p.Streams}: {p.Rps:0.0} req/s, p50 {p.P50Ms:0.000} ms {p.Verdict}"));
        if (report is not null)
            Console.WriteLine("  " + report.Replace("\n", "\n  ", StringComparison.Ordinal));
        return p;
    }

    private static void WriteTable(Model m, List<Point> points)
    {
        Md.AppendLine(Inv($"## {m.Name} ({m.Signature.Source.FileName}), input [b, {string.Join(", ", m.ItemIn[1..])}] float"));
        Md.AppendLine();
        Md.AppendLine("| batch | config | streams | req/s | items/s | p50 ms | ÷ raw (device IoBinding, same batch) | verdict | H2D µs | compute µs | D2H µs | gap µs |");
        Md.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var p in points)
        {
            var raw = points.First(r => r.Batch == p.Batch && r.Config == "raw ORT, IoBinding on device memory");
            var t = p.Stages;
            Md.AppendLine(Inv($"| {p.Batch} | {p.Config} | {p.Streams} | {p.Rps:0.0} | {p.Rps * p.Batch:0} | {p.P50Ms:0.000} | {p.Rps / raw.Rps:0.000} | {p.Verdict ?? "—"} | {(t is null ? "" : t.H2DMicroseconds.ToString("0.0", CultureInfo.InvariantCulture))} | {(t is null ? "" : t.ComputeMicroseconds.ToString("0.0", CultureInfo.InvariantCulture))} | {(t is null ? "" : t.D2HMicroseconds.ToString("0.0", CultureInfo.InvariantCulture))} | {(t is null ? "" : t.HostGapMicroseconds.ToString("0.0", CultureInfo.InvariantCulture))} |"));
        }

        Md.AppendLine();
    }

    private static long Count(long[] shape)
    {
        long n = 1;
        foreach (long d in shape)
            n *= d;
        return n;
    }

    private static double Median(List<double> v)
    {
        if (v.Count == 0)
            return 0;
        v.Sort();
        return v[v.Count / 2];
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
