using TypedTrt.Manifest;
using TypedTrt.Runtime;
using TypedTrt.Runtime.Cuda;
using TypedTrt.Runtime.Diagnostics;
using Xunit;

namespace TypedTrt.OnnxRuntime.Cuda.Tests;

/// <summary>The runner's machinery over the CUDA backend: slots without cross-talk, graphs, profiling, dispose, failures, memory.</summary>
public sealed class GpuRunnerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Concurrent_requests_over_four_slots_get_their_own_results()
    {
        OrtCuda.Require();
        var (pixels, labels) = GpuModelTests.DigitSamples();
        int n = labels.Length;
        using var cpuEngine = OnnxRuntimeEngine.Load(OrtCuda.Model("digits.onnx"), Digits.Signature);
        await using var cpu = new DigitsRunner(cpuEngine, 1);
        using var engine = OnnxRuntimeCudaEngine.Load(OrtCuda.Model("digits.onnx"), Digits.Signature, OrtCuda.Fp32());
        await using var gpu = new DigitsRunner(engine, 4);
        Assert.Equal(4, engine.SessionsCreated);

        // Request k carries a batch of (k % 8) + 1 digits starting at sample k % n: every request is different.
        const int requests = 800;
        var expected = new float[requests][];
        var inputs = new float[requests][];
        for (int k = 0; k < requests; k++)
        {
            int batch = (k % 8) + 1;
            inputs[k] = Enumerable.Range(0, batch).SelectMany(j => pixels.AsSpan(((k + j) % n) * 64, 64).ToArray()).ToArray();
            expected[k] = (await cpu.RunAsync(new DigitsInput { Pixels = inputs[k], PixelsShape = [batch, 1, 8, 8] }, Ct)).Probabilities;
        }

        var slotsUsed = new int[4];
        int next = -1, mismatches = 0;
        string? first = null;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            int k;
            while ((k = Interlocked.Increment(ref next)) < requests)
            {
                int batch = (k % 8) + 1;
                using var lease = await gpu.AcquireAsync(Ct);
                Interlocked.Increment(ref slotsUsed[lease.Lease.SlotIndex]);
                lease.Inputs.SetPixelsShape([batch, 1, 8, 8]);
                inputs[k].CopyTo(lease.Inputs.Pixels);
                await lease.RunAsync(Ct);
                var got = lease.Outputs.Probabilities;
                var (max, bad) = OrtCuda.Compare(got, expected[k], 1e-5, 1e-3);
                if (bad >= 0 && Interlocked.Increment(ref mismatches) == 1)
                    first = $"request {k} (batch {batch}) element {bad}: {got[bad]} vs {expected[k][bad]} (max diff {max})";
            }
        }, Ct)));
        OrtCuda.Log("concurrency", ("requests", requests), ("mismatches", mismatches), ("slots", string.Join("/", slotsUsed)));
        Assert.True(mismatches == 0, $"{mismatches} of {requests} requests got another request's or wrong outputs; first: {first}");
        Assert.All(slotsUsed, c => Assert.True(c > 0, "every slot should have served requests: " + string.Join("/", slotsUsed)));
    }

    [Fact]
    public async Task Detector_requests_on_four_streams_do_not_mix_images()
    {
        string model = OrtCuda.RequireModel("ch_PP-OCRv4_det_infer.onnx");
        const int images = 8;
        var x = Enumerable.Range(0, images).Select(i => OrtCuda.DocumentImage(500 + i, 1, 640, 640, imagenet: true)).ToArray();
        var expected = x.Select(img => OrtCuda.RunCpu(model, "x", img, [1, 3, 640, 640])).ToArray();
        using var engine = OnnxRuntimeCudaEngine.Load(model, OcrDetector.Signature, OrtCuda.Fp32());
        await using var gpu = new OcrDetectorRunner(engine, 4);
        var results = await Task.WhenAll(Enumerable.Range(0, 4 * images).Select(k =>
            gpu.RunAsync(new OcrDetectorInput { X = x[k % images], XShape = [1, 3, 640, 640] }, Ct).AsTask()));
        for (int k = 0; k < results.Length; k++)
            OrtCuda.AssertClose($"det request {k} (image {k % images})", results[k].Sigmoid0Tmp0, expected[k % images], 2e-3, 0);
    }

    [Fact]
    public async Task Onnx_runtime_cuda_graphs_replay_with_new_input_data()
    {
        OrtCuda.Require();
        var (pixels, _) = GpuModelTests.DigitSamples();
        // CUDA graphs need static shapes: the signature pinned to batch 8.
        var signature = OrtCuda.WithProfile(Digits.Signature, "pixels", [8, 1, 8, 8], [8, 1, 8, 8]);
        using var cpuEngine = OnnxRuntimeEngine.Load(OrtCuda.Model("digits.onnx"), Digits.Signature);
        await using var cpu = new DigitsRunner(cpuEngine, 1);
        using var engine = OnnxRuntimeCudaEngine.Load(OrtCuda.Model("digits.onnx"), signature, OrtCuda.Fp32(cudaGraph: true));
        await using var gpu = new DigitsRunner(engine, 2);
        await gpu.Runner.WarmUpAsync(runsPerSlot: 1, Ct);
        var expected = new float[3][];
        for (int b = 0; b < 3; b++)
            expected[b] = (await cpu.RunAsync(new DigitsInput { Pixels = pixels.AsMemory(b * 64 * 8, 64 * 8), PixelsShape = [8, 1, 8, 8] }, Ct)).Probabilities;
        // Replays from many threads at once, on both slots: each must see its own new input data.
        var results = await Task.WhenAll(Enumerable.Range(0, 48).Select(r => Task.Run(async () =>
            (r, (await gpu.RunAsync(new DigitsInput { Pixels = pixels.AsMemory((r % 3) * 64 * 8, 64 * 8), PixelsShape = [8, 1, 8, 8] }, Ct)).Probabilities), Ct)));
        foreach (var (r, p) in results)
            OrtCuda.AssertClose($"graph replay {r}", p, expected[r % 3], 1e-5, 1e-3);
    }

    [Fact]
    public async Task Runner_graph_capture_falls_back_once_per_slot_and_results_stay_right()
    {
        OrtCuda.Require();
        // A model with static shapes, so the runner tries its own graph capture (dynamic inputs never try).
        var image = new byte[3 * 16 * 16];
        new Random(3).NextBytes(image);
        using var cpuEngine = OnnxRuntimeEngine.Load(OrtCuda.Model("uint8_bool.onnx"), MaskNet.Signature);
        await using var cpu = new MaskNetRunner(cpuEngine, 1);
        using var engine = OnnxRuntimeCudaEngine.Load(OrtCuda.Model("uint8_bool.onnx"), MaskNet.Signature, OrtCuda.Fp32());
        await using var gpu = new MaskNetRunner(engine, new InferenceRunnerOptions { Streams = 2, UseCudaGraphs = true });
        await gpu.Runner.WarmUpAsync(1, Ct);
        var g = await gpu.RunAsync(new MaskNetInput { Image = image }, Ct);
        var c = await cpu.RunAsync(new MaskNetInput { Image = image }, Ct);
        OrtCuda.AssertClose("after graph fallback", g.Score, c.Score, 1e-5, 1e-4);
        Assert.Equal(2, gpu.Runner.GraphFallbackCount);
        Assert.Equal(0, gpu.Runner.GraphLaunchCount);
    }

    [Fact]
    public async Task Stage_profiling_of_a_real_model_gives_a_verdict()
    {
        string model = OrtCuda.RequireModel("ch_PP-OCRv4_det_infer.onnx");
        var signature = OrtCuda.WithProfile(OcrDetector.Signature, "x", [1, 3, 640, 640], [1, 3, 640, 640]);
        using var engine = OnnxRuntimeCudaEngine.Load(model, signature);
        await using var gpu = new OcrDetectorRunner(engine, 1);
        await gpu.Runner.WarmUpAsync(2, Ct);
        // (stage split of the detector at one stream; the compute stage includes ONNX Runtime's host launch gaps)
        var input = new OcrDetectorInput { X = OrtCuda.DocumentImage(7, 1, 640, 640, imagenet: true), XShape = [1, 3, 640, 640] };
        gpu.Runner.StartProfiling();
        for (int i = 0; i < 20; i++)
            await gpu.RunAsync(input, Ct);
        var t = gpu.Runner.StopProfiling();
        var report = BottleneckReport.Analyze(t, InferenceRunner.MeasurePinnedH2DPeak());
        OrtCuda.Log("profile-det", ("h2dUs", (object)t.H2DMicroseconds), ("computeUs", t.ComputeMicroseconds), ("d2hUs", t.D2HMicroseconds), ("gapUs", t.HostGapMicroseconds), ("report", report.ToString()));
        Assert.Equal(20, t.Requests);
        Assert.True(t.ComputeMicroseconds > t.D2HMicroseconds, $"the detector's compute ({t.ComputeMicroseconds} µs) should exceed its 1.6 MB output copy ({t.D2HMicroseconds} µs): the compute event does not bracket ONNX Runtime's kernels.");
        Assert.True(t.H2DMicroseconds > 0);
    }

    [Fact]
    public async Task Dispose_in_flight_completes_the_requests_and_frees_the_sessions()
    {
        OrtCuda.Require();
        var (pixels, _) = GpuModelTests.DigitSamples();
        using var cuda = CudaContext.RetainPrimary(0);
        using var engine = OnnxRuntimeCudaEngine.Load(OrtCuda.Model("digits.onnx"), Digits.Signature);
        long freeBefore = 0, freeAfterFirst = 0;
        for (int round = 0; round < 3; round++)
        {
            var gpu = new DigitsRunner(engine, 4);
            // The engine refuses to go while the runner's sessions live.
            Assert.Throws<InvalidOperationException>(() => engine.Dispose());
            var input = new DigitsInput { Pixels = pixels.AsMemory(0, 64 * 16), PixelsShape = [16, 1, 8, 8] };
            var inFlight = Enumerable.Range(0, 32).Select(_ => gpu.RunAsync(input, Ct).AsTask()).ToArray();
            await gpu.DisposeAsync();
            int done = 0, refused = 0;
            foreach (var t in inFlight)
            {
                try
                {
                    await t;
                    done++;
                }
                catch (ObjectDisposedException)
                {
                    refused++;
                }
            }

            Assert.Equal(32, done + refused);
            Assert.True(done >= 4, $"the requests already on slots must complete ({done} did)");
            await Assert.ThrowsAsync<ObjectDisposedException>(async () => await gpu.RunAsync(input, Ct));
            var (free, _) = cuda.GetMemoryInfo();
            if (round == 0)
                freeAfterFirst = free;
            freeBefore = free;
            OrtCuda.Log("dispose", ("round", round), ("done", done), ("refused", refused), ("freeMiB", free >> 20));
        }

        // Sessions, arenas and bindings go with the runner: three rounds leave no growing residue.
        Assert.True(freeAfterFirst - freeBefore < 64L << 20, $"device memory kept shrinking over runner lifetimes: {(freeAfterFirst - freeBefore) >> 20} MiB less free after round 3 than after round 1.");
    }

    [Fact]
    public async Task Bad_provider_option_fails_the_runner_with_onnx_runtimes_reason_and_leaks_no_session()
    {
        OrtCuda.Require();
        using var engine = OnnxRuntimeCudaEngine.Load(OrtCuda.Model("digits.onnx"), Digits.Signature,
            new OnnxRuntimeCudaEngineOptions { CudaProviderOptions = new Dictionary<string, string> { ["cudnn_conv_algo_search"] = "SOMETIMES" } });
        var e = Assert.ThrowsAny<Exception>(() => new DigitsRunner(engine, 2));
        OrtCuda.Log("bad-option", ("message", e.Message));
        Assert.Contains("SOMETIMES", e.ToString(), StringComparison.Ordinal);
        await Task.Yield();
        engine.Dispose(); // no context is left alive
    }

    [Fact]
    public async Task Session_hook_sees_each_slot_stream_and_a_failing_hook_unwinds_the_runner()
    {
        OrtCuda.Require();
        var seen = new List<OnnxRuntimeCudaSession>();
        using var engine = OnnxRuntimeCudaEngine.Load(OrtCuda.Model("digits.onnx"), Digits.Signature, new OnnxRuntimeCudaEngineOptions
        {
            ConfigureSession = (so, s) =>
            {
                lock (seen)
                    seen.Add(s);
                so.AddSessionConfigEntry("session.disable_prepacking", "0");
                if (s.SessionIndex == 4)
                    throw new InvalidOperationException("hook refused session 4");
            },
        });
        await using (var gpu = new DigitsRunner(engine, 3))
        {
            var (pixels, _) = GpuModelTests.DigitSamples();
            await gpu.RunAsync(new DigitsInput { Pixels = pixels.AsMemory(0, 64), PixelsShape = [1, 1, 8, 8] }, Ct);
        }

        Assert.Equal(3, seen.Count);
        Assert.Equal(3, seen.Select(s => s.Stream).Distinct().Count());
        Assert.All(seen, s => Assert.NotEqual(0, s.Stream));
        // Sessions 3 and 4 of the next runner: the hook throws for the second, the runner unwinds, no context stays alive.
        var e = Assert.Throws<InvalidOperationException>(() => new DigitsRunner(engine, 2));
        Assert.Contains("hook refused session 4", e.Message, StringComparison.Ordinal);
        engine.Dispose();
    }

    [Fact]
    public async Task TensorRT_provider_is_reached_through_the_session_hook_with_the_slot_stream()
    {
        OrtCuda.Require();
        // TensorRT exists on no machine here: ONNX Runtime's TensorRT provider fails to load, and says so through the
        // same generated runner construction a TensorRT user would write.
        var streams = new List<nint>();
        using var engine = OnnxRuntimeCudaEngine.Load(OrtCuda.Model("digits.onnx"), Digits.Signature, new OnnxRuntimeCudaEngineOptions
        {
            ConfigureSession = (so, s) =>
            {
                streams.Add(s.Stream);
                using var trt = new Microsoft.ML.OnnxRuntime.OrtTensorRTProviderOptions();
                trt.UpdateOptions(new Dictionary<string, string>
                {
                    ["device_id"] = s.DeviceId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["has_user_compute_stream"] = "1",
                    ["user_compute_stream"] = ((ulong)s.Stream).ToString(System.Globalization.CultureInfo.InvariantCulture),
                });
                so.AppendExecutionProvider_Tensorrt(trt);
            },
        });
        var e = Assert.ThrowsAny<Exception>(() => new DigitsRunner(engine, 1));
        OrtCuda.Log("tensorrt-hook", ("message", e.Message));
        Assert.Contains("tensorrt", e.ToString(), StringComparison.OrdinalIgnoreCase);
        Assert.Single(streams);
        Assert.NotEqual(0, streams[0]);
        await Task.Yield();
        engine.Dispose();
    }

    [Fact]
    public async Task Memory_per_slot_is_measured()
    {
        string model = OrtCuda.RequireModel("ch_PP-OCRv4_det_infer.onnx");
        var signature = OrtCuda.WithProfile(OcrDetector.Signature, "x", [1, 3, 640, 640], [1, 3, 640, 640]);
        using var cuda = CudaContext.RetainPrimary(0);
        using var engine = OnnxRuntimeCudaEngine.Load(model, signature);
        var used = new Dictionary<int, long>();
        foreach (int streams in new[] { 1, 2, 4 })
        {
            long before = cuda.GetMemoryInfo().Free;
            await using var gpu = new OcrDetectorRunner(engine, streams);
            await gpu.Runner.WarmUpAsync(1, Ct);
            used[streams] = before - cuda.GetMemoryInfo().Free;
        }

        double perSlot = (used[4] - used[1]) / 3.0 / (1 << 20);
        OrtCuda.Log("memory-det", ("usedMiB1", used[1] >> 20), ("usedMiB2", used[2] >> 20), ("usedMiB4", used[4] >> 20), ("perSlotMiB", perSlot));
        Assert.True(used[4] > used[1], "four slots should hold more device memory than one");
    }

    [Fact]
    public async Task Cancelled_before_enqueue_runs_nothing_and_the_slot_stays_usable()
    {
        OrtCuda.Require();
        var (pixels, _) = GpuModelTests.DigitSamples();
        using var engine = OnnxRuntimeCudaEngine.Load(OrtCuda.Model("digits.onnx"), Digits.Signature);
        await using var gpu = new DigitsRunner(engine, 1);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var input = new DigitsInput { Pixels = pixels.AsMemory(0, 64), PixelsShape = [1, 1, 8, 8] };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await gpu.RunAsync(input, cts.Token));
        var ok = await gpu.RunAsync(input, Ct);
        Assert.Equal(10, ok.Probabilities.Length);
        long tooMany = Digits.Tensors.Pixels.MaxShape[0] + 1; // 33: beyond the profile, at run time (the analyzer rejects a constant)
        var wrong = new DigitsInput { Pixels = pixels.AsMemory(0, 64), PixelsShape = [tooMany, 1, 8, 8] };
        var e = await Assert.ThrowsAsync<ArgumentException>(async () => await gpu.RunAsync(wrong, Ct));
        Assert.Contains("33", e.Message, StringComparison.Ordinal);
    }
}
