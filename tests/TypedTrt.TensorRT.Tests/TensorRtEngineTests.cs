using System.Runtime.InteropServices;
using TypedTrt.Manifest;
using TypedTrt.Runtime;
using TypedTrt.Runtime.Engine;

namespace TypedTrt.TensorRT.Tests;

/// <summary>Contract tests of TensorRtEngine and TensorRtInspector against the fake of the C ABI (no TensorRT, no GPU).</summary>
public sealed class TensorRtEngineTests : IDisposable
{
    private static readonly TensorRtEngineOptions HostOptions = new() { PlacementForTesting = BufferPlacement.Host };

    public TensorRtEngineTests() => FakeShim.Require();

    public void Dispose()
    {
        TensorRtRuntime.SetLogger(null);
        Assert.Equal((0, 0, 0), FakeShim.LiveHandles()); // every test cleans up after itself, also on failure paths
    }

    [Fact]
    public void ReadManifest_marshals_every_field_of_every_tensor_and_profile()
    {
        byte[] plan = FakeShim.Plan(10, 16, 0, 7);
        string path = FakeShim.WriteTemp(plan, "detector.engine");
        var m = TensorRtInspector.ReadManifest(path);

        Assert.Equal(ModelKind.TensorRTEngine, m.Source.Kind);
        Assert.Equal("detector.engine", m.Source.FileName);
        Assert.Equal(ManifestSerializer.ComputeSha256(path), m.Source.Sha256);
        Assert.Equal(plan.Length, m.Source.Bytes);
        Assert.Equal("10.16.0.7", m.Source.TensorRTVersion);
        Assert.Empty(m.Source.Metadata);

        Assert.Equal(["images", "offset", "scores", "counts"], m.Tensors.Select(t => t.Name));
        Assert.Equal([TensorMode.Input, TensorMode.Input, TensorMode.Output, TensorMode.Output], m.Tensors.Select(t => t.Mode));
        Assert.Equal(["float", "int64", "float", "int32"], m.Tensors.Select(t => t.DTypeName));
        Assert.Equal([TensorDataType.Float, TensorDataType.Int64, TensorDataType.Float, TensorDataType.Int32], m.Tensors.Select(t => t.DataType));
        Assert.Equal([-1L, 3, -1, -1], m.Tensors[0].Shape);
        Assert.Equal([-1L], m.Tensors[1].Shape);
        Assert.Equal([-1L, 3, -1, -1], m.Tensors[2].Shape);
        Assert.Equal([-1L], m.Tensors[3].Shape);
        int[] elementBytes = [4, 8, 4, 4];
        for (int i = 0; i < 4; i++)
        {
            var t = m.Tensors[i];
            Assert.All(t.DimNames, n => Assert.Equal("", n));
            Assert.Equal(t.Rank, t.DimNames.Count);
            var l = Assert.IsType<EngineTensorLayout>(t.Layout);
            Assert.Equal(TensorFormat.Linear, l.Format);
            Assert.Equal(-1, l.VectorizedDim);
            Assert.Equal(1, l.ComponentsPerElement);       // TensorRT's -1 for non-vectorized tensors
            Assert.Equal(elementBytes[i], l.BytesPerComponent); // -1 → one component of the element size
            Assert.Equal(TensorLocation.Device, l.Location);
            Assert.False(l.IsShapeTensor);
        }

        Assert.Equal(2, m.Profiles.Count);
        var expected = Manifests.Profiles();
        for (int p = 0; p < 2; p++)
        {
            Assert.Equal(2, m.Profiles[p].Inputs.Count);
            foreach (var e in expected[p])
            {
                var a = m.Profiles[p].Find(e.Name)!;
                Assert.Equal(e.Min, a.Min);
                Assert.Equal(e.Opt, a.Opt);
                Assert.Equal(e.Max, a.Max);
            }
        }

        // The manifest went through tensor_info for profile 0 and profile_shape for both profiles, then cleaned up.
        string log = FakeShim.CallLog();
        Assert.Contains("engine_tensor_info(images);", log, StringComparison.Ordinal);
        Assert.Contains("engine_profile_shape(offset)", log, StringComparison.Ordinal);
        Assert.EndsWith("engine_destroy;runtime_destroy", log, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadManifest_of_an_Ultralytics_engine_keeps_its_metadata_and_deserializes_only_the_plan()
    {
        const string json = """{"stride":32,"task":"detect","names":{"0":"person"}}""";
        string path = FakeShim.WriteTemp(FakeShim.UltralyticsFile(json, FakeShim.Plan()), "yolo.engine");
        var m = TensorRtInspector.ReadManifest(path);
        Assert.Equal(
            [new("names", """{"0":"person"}"""), new("stride", "32"), new KeyValuePair<string, string>("task", "detect")],
            m.Source.Metadata);
        Assert.Equal(new FileInfo(path).Length, m.Source.Bytes);
        Assert.Equal(4, m.Tensors.Count);
    }

    [Fact]
    public void WriteSidecar_writes_engine_bindings_json_once_and_round_trips()
    {
        string path = FakeShim.WriteTemp(FakeShim.Plan());
        var first = TensorRtInspector.WriteSidecar(path);
        Assert.Equal(path + ".bindings.json", first.Path);
        Assert.True(first.Written);
        var again = TensorRtInspector.WriteSidecar(path);
        Assert.False(again.Written);

        var read = ManifestSerializer.ReadFile(first.Path);
        Assert.Equal(ManifestSerializer.Serialize(first.Manifest), ManifestSerializer.Serialize(read));
        string text = File.ReadAllText(first.Path);
        Assert.Contains("\"kind\": \"tensorrt-engine\"", text, StringComparison.Ordinal);
        Assert.Contains("\"format\": \"linear\"", text, StringComparison.Ordinal);
        Assert.Contains("\"dimNames\": [\"\",\"\",\"\",\"\"]", string.Concat(text.Where(c => !char.IsWhiteSpace(c))).Replace(":", ": ", StringComparison.Ordinal), StringComparison.Ordinal);

        // A sidecar written from the engine verifies against the same engine.
        using var engine = TensorRtEngine.Load(path, read);
        Assert.Equal("fake-detector", engine.Name);
    }

    [Fact]
    public void Injected_failure_surfaces_with_exactly_the_message_and_the_calls_name()
    {
        FakeShim.FailNext("engine_deserialize", "deserializeCudaEngine: injected failure 42");
        var e = Assert.Throws<TensorRtException>(() => TensorRtEngine.Load(FakeShim.Plan(), Manifests.Expected()));
        Assert.Equal(TensorRtStatus.TensorRtError, e.Status);
        Assert.Equal("ttrt_engine_deserialize", e.FunctionName);
        Assert.Equal("deserializeCudaEngine: injected failure 42", e.NativeMessage);
        Assert.Equal("ttrt_engine_deserialize failed (TensorRtError): deserializeCudaEngine: injected failure 42", e.Message);
        Assert.EndsWith("engine_deserialize;runtime_destroy", FakeShim.CallLog(), StringComparison.Ordinal); // the runtime was not leaked
    }

    [Fact]
    public void Injected_failures_in_context_calls_surface_per_call()
    {
        using var engine = TensorRtEngine.Load(FakeShim.Plan(), Manifests.Expected());
        using var context = engine.CreateContext();
        foreach (var (fn, act) in new (string, Action)[]
        {
            ("context_set_profile", () => context.SetOptimizationProfile(0, 0)),
            ("context_set_input_shape", () => context.SetInputShape(0, [1, 3, 8, 8])),
            ("context_tensor_shape", () => context.GetTensorShape(2, new long[8])),
            ("context_set_tensor_address", () => context.SetTensorAddress(0, 256, 0)),
            ("context_enqueue", () => context.Enqueue(0x1000)),
        })
        {
            FakeShim.FailNext(fn, "injected: " + fn);
            var e = Assert.Throws<TensorRtException>(act);
            Assert.Equal("ttrt_" + fn, e.FunctionName);
            Assert.Equal("injected: " + fn, e.NativeMessage);
        }

        FakeShim.FailNext("context_create", "no memory for a context");
        var c = Assert.Throws<TensorRtException>(() => engine.CreateContext());
        Assert.Equal("ttrt_context_create", c.FunctionName);
    }

    [Fact]
    public void Shim_error_text_of_a_real_failure_is_carried()
    {
        using var engine = TensorRtEngine.Load(FakeShim.Plan(), Manifests.Expected());
        using var context = engine.CreateContext();
        var e = Assert.Throws<TensorRtException>(() => context.SetInputShape(0, [5, 3, 8, 8])); // batch max is 4 in profile 0
        Assert.Equal(TensorRtStatus.TensorRtError, e.Status);
        Assert.Equal("ttrt_context_set_input_shape", e.FunctionName);
        Assert.Contains("setInputShape('images', [5,3,8,8]) failed; the current optimization profile 0 allows min [1,3,8,8], max [4,3,32,32]", e.NativeMessage, StringComparison.Ordinal);

        var d = Assert.Throws<TensorRtException>(() => context.Enqueue(0)); // Device placement passes stream 0 through: refused
        Assert.Equal(TensorRtStatus.InvalidArgument, d.Status);
        Assert.Contains("default CUDA stream", d.NativeMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void TensorRT_version_incompatible_with_the_shims_headers_is_refused_at_load()
    {
        FakeShim.SetLoadedVersion(110100);
        var e = Assert.Throws<TensorRtException>(() => TensorRtEngine.Load(FakeShim.Plan(), Manifests.Expected()));
        Assert.Equal(TensorRtStatus.VersionMismatch, e.Status);
        Assert.Equal("ttrt_load_library", e.FunctionName);
        Assert.False(string.IsNullOrEmpty(e.NativeMessage));
    }

    [Fact]
    public void Plan_built_by_another_TensorRT_is_explained_before_deserializing()
    {
        var e = Assert.Throws<TensorRtVersionMismatchException>(() => TensorRtEngine.Load(FakeShim.Plan(10, 3, 0, 26), Manifests.Expected()));
        Assert.Equal(new Version(10, 3, 0, 26), e.PlanVersion);
        Assert.Equal(new Version(10, 16, 0), e.LoadedVersion);
        Assert.Equal(TensorRtStatus.VersionMismatch, e.Status);
        Assert.Contains("was built by TensorRT 10.3 (plan header: 10.3.0.26), this process loaded TensorRT 10.16 (libnvinfer.so.10): engines are not portable across TensorRT versions; rebuild the engine with this TensorRT", e.Message, StringComparison.Ordinal);
        Assert.Contains("or install TensorRT 10.3", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("engine_deserialize", FakeShim.CallLog(), StringComparison.Ordinal);

        // Same minor, other patch: the patch is named.
        FakeShim.Reset();
        FakeShim.SetLoadedVersion(101601);
        var p = Assert.Throws<TensorRtVersionMismatchException>(() => TensorRtInspector.ReadManifest(FakeShim.WriteTemp(FakeShim.Plan(10, 16, 0, 7))));
        Assert.Contains("built by TensorRT 10.16.0 (plan header: 10.16.0.7), this process loaded TensorRT 10.16.1", p.Message, StringComparison.Ordinal);

        // Version-compatible engines may skip the check.
        using var engine = TensorRtEngine.Load(FakeShim.Plan(10, 16, 0, 7), Manifests.Expected(), new TensorRtEngineOptions { CheckPlanVersion = false });
        Assert.Equal(new Version(10, 16, 1), engine.LoadedTensorRtVersion);
        Assert.Equal(new Version(10, 16, 0, 7), engine.PlanVersion);
    }

    [Fact]
    public void Not_a_plan_fails_before_any_native_call()
    {
        var e = Assert.Throws<InvalidDataException>(() => TensorRtEngine.Load("not a plan, just text"u8, Manifests.Expected()));
        Assert.Contains("is not a TensorRT engine plan", e.Message, StringComparison.Ordinal);
        Assert.Equal("", FakeShim.CallLog());
        Assert.Throws<FileNotFoundException>(() => TensorRtEngine.Load("/nonexistent/x.engine", Manifests.Expected()));
    }

    [Fact]
    public void Destruction_order_is_contexts_then_engine_then_runtime()
    {
        var engine = TensorRtEngine.Load(FakeShim.Plan(), Manifests.Expected());
        var c1 = engine.CreateContext();
        var c2 = engine.CreateContext();
        var e = Assert.Throws<InvalidOperationException>(engine.Dispose);
        Assert.Contains("still has 2 live execution context(s)", e.Message, StringComparison.Ordinal);
        Assert.Equal((1, 1, 2), FakeShim.LiveHandles()); // nothing was destroyed
        c1.Dispose();
        Assert.Throws<InvalidOperationException>(engine.Dispose);
        c2.Dispose();
        c2.Dispose(); // idempotent
        engine.Dispose();
        engine.Dispose(); // idempotent
        Assert.EndsWith("context_destroy;context_destroy;engine_destroy;runtime_destroy", FakeShim.CallLog(), StringComparison.Ordinal);
        Assert.Throws<ObjectDisposedException>(() => engine.CreateContext());
        Assert.Throws<ObjectDisposedException>(() => c1.SetOptimizationProfile(0, 0));
    }

    [Fact]
    public void Logger_receives_TensorRT_messages_with_severity_filter()
    {
        var got = new List<(TensorRtLogSeverity, string)>();
        TensorRtRuntime.SetLogger((s, m) => { lock (got) got.Add((s, m)); }, TensorRtLogSeverity.Info);
        FakeShim.EmitLog(2, "a warning from TensorRT");
        FakeShim.EmitLog(4, "verbose: filtered out");
        using (TensorRtEngine.Load(FakeShim.Plan(), Manifests.Expected()))
        {
        }

        Assert.Contains((TensorRtLogSeverity.Warning, "a warning from TensorRT"), got);
        Assert.Contains((TensorRtLogSeverity.Info, "fake: deserialized engine 'fake-detector'"), got);
        Assert.DoesNotContain(got, g => g.Item2.StartsWith("verbose", StringComparison.Ordinal));

        // A throwing handler does not take the process down; removing the handler stops delivery.
        TensorRtRuntime.SetLogger((_, _) => throw new InvalidOperationException("handler bug"), TensorRtLogSeverity.Verbose);
        FakeShim.EmitLog(1, "to a throwing handler");
        TensorRtRuntime.SetLogger(null);
        int before = got.Count;
        FakeShim.EmitLog(0, "nobody listens");
        Assert.Equal(before, got.Count);
    }

    [Fact]
    public void Logger_is_thread_safe_under_concurrent_messages()
    {
        int count = 0;
        TensorRtRuntime.SetLogger((_, _) => Interlocked.Increment(ref count), TensorRtLogSeverity.Verbose);
        Parallel.For(0, 8, i =>
        {
            for (int k = 0; k < 100; k++)
                FakeShim.EmitLog(3, "m");
        });
        Assert.Equal(800, count);
    }

    [Fact]
    public void Verification_against_a_different_manifest_lists_every_difference()
    {
        var wrong = new BindingManifest(
            Manifests.Source(),
            [
                new TensorBinding("images", TensorMode.Input, "half", [-1, 3, 640, 640]),
                new TensorBinding("offset", TensorMode.Input, "int32", [-1]),
                new TensorBinding("boxes", TensorMode.Output, "float", [-1, 4]),
                new TensorBinding("counts", TensorMode.Output, "int32", [-1]),
            ],
            [new OptimizationProfile([new ProfileShape("offset", [1], [2], [8])])]);
        var e = Assert.Throws<SignatureMismatchException>(() => TensorRtEngine.Load(FakeShim.Plan(), wrong));
        Assert.Equal(
        [
            "'images' has dtype float in the loaded model, but half in the bindings.",
            "'images' dimension 2 is dynamic in the loaded model, but 640 in the bindings ([-1, 3, -1, -1] vs [-1, 3, 640, 640]).",
            "'images' dimension 3 is dynamic in the loaded model, but 640 in the bindings ([-1, 3, -1, -1] vs [-1, 3, 640, 640]).",
            "'offset' has dtype int64 in the loaded model, but int32 in the bindings.",
            "output 'boxes' is missing from the loaded model.",
            "the loaded model has an extra output 'scores' [-1, 3, -1, -1] that the bindings do not know.",
            "the loaded model has 2 optimization profile(s), the bindings 1.",
            "profile 0: 'offset' allows min [1], opt [2], max [4] in the loaded model, but min [1], opt [2], max [8] in the bindings.",
        ], e.Differences);
        Assert.StartsWith("The TensorRT engine (64 bytes in memory) does not match the bindings it was generated from (8 difference(s)):", e.Message, StringComparison.Ordinal);
        Assert.EndsWith("engine_destroy;runtime_destroy", FakeShim.CallLog(), StringComparison.Ordinal);
    }

    [Fact]
    public void Signature_follows_the_expected_order_with_the_engines_layout()
    {
        using var engine = TensorRtEngine.Load(FakeShim.Plan(), Manifests.ExpectedReordered());
        Assert.Equal(["counts", "offset", "scores", "images"], engine.Signature.Tensors.Select(t => t.Name));
        Assert.All(engine.Signature.Tensors, t => Assert.NotNull(t.Layout));
        Assert.Equal(BufferPlacement.Device, engine.Placement);
        Assert.Equal(2, engine.ProfileCount);
        Assert.Equal(1048576, engine.GetDeviceMemorySize(0));
        Assert.Equal(4194304, engine.GetDeviceMemorySize(-1));

        using var context = engine.CreateContext();
        context.SetInputShape(1, [3]);            // index 1 = offset in this order
        context.SetInputShape(3, [3, 3, 8, 12]);  // index 3 = images
        var dims = new long[8];
        Assert.Equal(1, context.GetTensorShape(0, dims)); // counts
        Assert.Equal(3, dims[0]);
        Assert.Contains("context_set_input_shape(offset);context_set_input_shape(images);context_tensor_shape(counts)", FakeShim.CallLog(), StringComparison.Ordinal);
    }

    [Fact]
    public void SetInputShape_resolves_output_shapes_per_profile()
    {
        using var engine = TensorRtEngine.Load(FakeShim.Plan(), Manifests.Expected());
        using var context = engine.CreateContext();
        var dims = new long[8];
        Assert.Equal(4, context.GetTensorShape(2, dims));
        Assert.Equal([-1L, 3, -1, -1], dims[..4]); // not resolved yet

        context.SetOptimizationProfile(1, 0);
        context.SetInputShape(0, [12, 3, 48, 64]); // beyond profile 0, inside profile 1
        context.SetInputShape(1, [12]);
        Assert.Equal(4, context.GetTensorShape(2, dims));
        Assert.Equal([12L, 3, 48, 64], dims[..4]);
        Assert.Equal(1, context.GetTensorShape(3, dims));
        Assert.Equal(12, dims[0]);
        Assert.Equal(4, context.GetTensorShape(0, dims));
        Assert.Equal([12L, 3, 48, 64], dims[..4]);

        Assert.Throws<ArgumentException>(() => context.GetTensorShape(2, new long[2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => context.SetInputShape(7, [1]));
        var output = Assert.Throws<TensorRtException>(() => context.SetInputShape(2, [1, 3, 16, 16]));
        Assert.Equal(TensorRtStatus.InvalidArgument, output.Status);
        Assert.Contains("context_set_profile(1);context_set_input_shape(images);context_set_input_shape(offset);context_tensor_shape(scores)", FakeShim.CallLog(), StringComparison.Ordinal);
    }

    [Fact]
    public unsafe void Enqueue_computes_scores_and_counts_on_host_buffers()
    {
        using var engine = TensorRtEngine.Load(FakeShim.Plan(), Manifests.Expected(), HostOptions);
        Assert.Equal(BufferPlacement.Host, engine.Placement);
        using var context = engine.CreateContext();
        const int B = 2, C = 3, H = 8, W = 10, N = B * C * H * W;
        context.SetInputShape(0, [B, C, H, W]);
        context.SetInputShape(1, [B]);
        float* images = (float*)NativeMemory.AlignedAlloc(N * sizeof(float), 256);
        long* offset = (long*)NativeMemory.AlignedAlloc(B * sizeof(long), 256);
        float* scores = (float*)NativeMemory.AlignedAlloc(N * sizeof(float), 256);
        int* counts = (int*)NativeMemory.AlignedAlloc(B * sizeof(int), 256);
        try
        {
            for (int i = 0; i < N; i++)
                images[i] = (i % 7) - 3; // -3..3
            offset[0] = 10;
            offset[1] = -5;
            context.SetTensorAddress(0, (nint)images, N * sizeof(float));
            context.SetTensorAddress(1, (nint)offset, B * sizeof(long));
            context.SetTensorAddress(2, (nint)scores, N * sizeof(float));
            context.SetTensorAddress(3, (nint)counts, B * sizeof(int));
            context.Enqueue(0); // host placement: synchronous, stream 0 allowed

            for (int b = 0; b < B; b++)
            {
                int positive = 0;
                for (int k = 0; k < N / B; k++)
                {
                    int i = b * (N / B) + k;
                    Assert.Equal(2 * images[i] + offset[b], scores[i]);
                    positive += images[i] > 0 ? 1 : 0;
                }

                Assert.Equal(positive, counts[b]);
            }
        }
        finally
        {
            NativeMemory.AlignedFree(images);
            NativeMemory.AlignedFree(offset);
            NativeMemory.AlignedFree(scores);
            NativeMemory.AlignedFree(counts);
        }
    }

    [Fact]
    public async Task Runner_drives_the_engine_end_to_end_on_host_buffers()
    {
        using var engine = TensorRtEngine.Load(FakeShim.Plan(), Manifests.Expected(), HostOptions);
        InferenceRunner runner;
        try
        {
            runner = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 2 });
        }
        catch (NotImplementedException)
        {
            Assert.Skip("InferenceRunner is not implemented on this branch yet (runtime work, issue 3); un-skip after merging the runtime.");
            return;
        }

        await using (runner)
        {
            using var lease = await runner.AcquireAsync(TestContext.Current.CancellationToken);
            lease.SetInputShape(0, [2, 3, 8, 8]);
            lease.SetInputShape(1, [2]);
            var images = lease.GetInputSpan<float>(0);
            for (int i = 0; i < images.Length; i++)
                images[i] = i % 2 == 0 ? 1f : -1f;
            lease.GetInputSpan<long>(1)[0] = 3;
            lease.GetInputSpan<long>(1)[1] = 7;
            await lease.RunAsync(TestContext.Current.CancellationToken);
            Assert.Equal([2L, 3, 8, 8], lease.GetOutputShape(2).ToArray());
            var scores = lease.GetOutputSpan<float>(2);
            Assert.Equal(5f, scores[0]);            // 2*1 + 3
            Assert.Equal(-2f + 7, scores[192 + 1]); // batch 1, 2*(-1) + 7
            Assert.Equal([96, 96], lease.GetOutputSpan<int>(3).ToArray());
        }
    }

    [Fact]
    public async Task CreateFactory_DeserializesThePlanOncePerDevice_ForARunnerOnSeveralDevices()
    {
        string path = FakeShim.WriteTemp(FakeShim.Plan(), "multi.engine");
        var factory = TensorRtEngine.CreateFactory(path, Manifests.Expected(), HostOptions);
        var created = new List<TensorRtEngine>();
        await using (var runner = new InferenceRunner(d =>
        {
            var e = (TensorRtEngine)factory(d);
            created.Add(e);
            return e;
        }, new InferenceRunnerOptions { Devices = [0, 1, 2], Streams = 2 }))
        {
            Assert.Equal([0, 1, 2], created.Select(e => e.DeviceOrdinal));
            Assert.Equal(6, runner.SlotCount);
            await Parallel.ForAsync(0, 12, TestContext.Current.CancellationToken, async (i, ct) =>
            {
                using var lease = await runner.AcquireAsync(ct);
                lease.SetInputShape(0, [1, 3, 8, 8]);
                lease.SetInputShape(1, [1]);
                lease.GetInputSpan<float>(0).Fill(1f);
                lease.GetInputSpan<long>(1)[0] = i;
                await lease.RunAsync(ct);
                Assert.Equal(2f + i, lease.GetOutputSpan<float>(2)[0]);
            });
        }

        // The runner disposed its contexts, then the engines it created (the class's Dispose checks LiveHandles() == 0).
        Assert.Throws<FileNotFoundException>(() => TensorRtEngine.CreateFactory(path + ".missing", Manifests.Expected(), HostOptions));
    }
}
