using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedTrt.OnnxRuntime;
using TypedTrt.Runtime.Cuda;
using TypedTrt.Runtime.Engine;
using TypedTrt.Runtime.Tests;
using Xunit;
using static TypedTrt.Hosting.Tests.HostTestHelpers;

namespace TypedTrt.Hosting.Tests;

public sealed class HostingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static void AddFake(IServiceCollection s, FakeEngine engine, string name = "fake") =>
        s.AddTypedTrtBackend("fake", _ => engine)
         .AddTypedTrtRunner(name, engine.Signature, static (e, o) => new TestRunner(e, o), static r => r.Runner);

    private static Dictionary<string, string?> Config(string model, params (string Key, string Value)[] settings)
    {
        var d = new Dictionary<string, string?> { [$"TypedTrt:Models:{model}:ModelPath"] = "fake.engine" };
        foreach (var (k, v) in settings)
            d[$"TypedTrt:Models:{model}:{k}"] = v;
        return d;
    }

    private static async Task<HealthReportEntry> HealthAsync(IHost host)
    {
        var check = new TypedTrtHealthCheck(host.Services.GetRequiredService<TypedTrtModelRegistry>());
        var r = await check.CheckHealthAsync(new HealthCheckContext());
        return new HealthReportEntry(r.Status, r.Description, TimeSpan.Zero, r.Exception, r.Data);
    }

    [Fact]
    public async Task Start_LoadsAndWarmsUpEveryModelWithConfiguredOptions_StopDisposesRunnerThenEngine()
    {
        using var engine = new FakeEngine();
        using var host = Build(s => AddFake(s, engine), Config("fake", ("Streams", "3"), ("WarmUpRuns", "2")));
        var registry = host.Services.GetRequiredService<TypedTrtModelRegistry>();
        var model = registry.Get("fake");
        Assert.Equal(HostedModelState.NotStarted, model.State);
        Assert.Contains("not loaded", Assert.Throws<InvalidOperationException>(() => host.Services.GetRequiredService<TestRunner>()).Message);

        await host.StartAsync(Ct);
        Assert.Equal(HostedModelState.Ready, model.State);
        Assert.True(registry.AllReady);
        var runner = host.Services.GetRequiredService<TestRunner>();
        Assert.Same(runner, host.Services.GetRequiredKeyedService<TestRunner>("fake"));
        Assert.Same(runner, registry.Get<TestRunner>("fake").Runner);
        Assert.Equal(3, runner.Runner.SlotCount);
        Assert.Equal("fake", runner.Runner.Name);
        Assert.Equal(3 * 2, engine.Enqueues); // warm-up: every slot, twice
        Assert.Equal(7f, await runner.RunFakeAsync(ct: Ct)); // a0 * k + b = 2 * 3 + 1
        Assert.Equal(HealthStatus.Healthy, (await HealthAsync(host)).Status);

        await host.StopAsync(Ct);
        Assert.True(runner.Disposed);
        Assert.True(engine.Disposed);
        Assert.Equal(engine.ContextsCreated, engine.ContextsDisposed);
        Assert.Equal(HostedModelState.Stopped, model.State);
        Assert.Equal(HealthStatus.Unhealthy, (await HealthAsync(host)).Status);
    }

    [Fact]
    public async Task SeveralModels_InOneHost_EachWithItsOwnBackendOptionsAndKey()
    {
        using var fake = new FakeEngine();
        using var host = Build(
            s =>
            {
                s.AddTypedTrtBackend("fake", _ => fake);
                s.AddTypedTrtBackend("onnxruntime", c => OnnxRuntimeEngine.Load(c.ModelPath, c.Signature));
                s.AddTypedTrtRunner("small", fake.Signature, static (e, o) => new TestRunner(e, o), static r => r.Runner);
                s.AddTypedTrtRunner("digits", TestModels.DigitsSignature(), static (e, o) => new TestRunner(e, o), static r => r.Runner);
            },
            new Dictionary<string, string?>
            {
                ["TypedTrt:Models:small:ModelPath"] = "fake.engine",
                ["TypedTrt:Models:small:Backend"] = "fake",
                ["TypedTrt:Models:small:Streams"] = "1",
                ["TypedTrt:Models:digits:ModelPath"] = "models/digits.onnx",
                ["TypedTrt:Models:digits:Backend"] = "OnnxRuntime", // case-insensitive
                ["TypedTrt:Models:digits:Streams"] = "4",
            });
        await host.StartAsync(Ct);
        var registry = host.Services.GetRequiredService<TypedTrtModelRegistry>();
        Assert.Equal(["small", "digits"], registry.Models.Select(m => m.Name).ToArray());
        Assert.True(registry.AllReady);
        var small = host.Services.GetRequiredKeyedService<TestRunner>("small");
        var digits = host.Services.GetRequiredKeyedService<TestRunner>("digits");
        Assert.NotSame(small, digits);
        Assert.Same(small, host.Services.GetRequiredService<TestRunner>()); // unkeyed: the first registered
        Assert.Equal(1, small.Runner.SlotCount);
        Assert.Equal(4, digits.Runner.SlotCount);
        Assert.Equal("onnxruntime", registry.Get("digits").Backend, ignoreCase: true);
        Assert.Equal(TestModels.DigitsPath, registry.Get("digits").ModelPath);
        Assert.Equal("pixels", registry.Get("digits").Signature.Tensors[0].Name);

        // The Digits model really runs: a blank image gives a probability distribution.
        using (var lease = await digits.Runner.AcquireAsync(Ct))
        {
            lease.SetInputShape(0, [1, 1, 8, 8]);
            lease.GetInputSpan<float>(0).Clear();
            await lease.RunAsync(Ct);
            Assert.Equal(1.0, lease.GetOutputSpan<float>(2).ToArray().Sum(), 3);
        }

        await host.StopAsync(Ct);
        Assert.All(registry.Models, m => Assert.Equal(HostedModelState.Stopped, m.State));
        Assert.True(fake.Disposed);
    }

    [Fact]
    public async Task MissingModel_FailsTheHostWithTheBackendsMessage()
    {
        var logs = new LogCapture();
        using var host = Build(
            s => s.AddTypedTrtBackend("onnxruntime", c => OnnxRuntimeEngine.Load(c.ModelPath, c.Signature))
                  .AddTypedTrtRunner("digits", TestModels.DigitsSignature(), static (e, o) => new TestRunner(e, o), static r => r.Runner),
            new Dictionary<string, string?> { ["TypedTrt:Models:digits:ModelPath"] = "models/nope.onnx" },
            logs: logs);
        var e = await Assert.ThrowsAsync<TypedTrtStartupException>(() => host.StartAsync(Ct));
        string expectedPath = Path.Combine(AppContext.BaseDirectory, "models", "nope.onnx");
        Assert.Equal($"TypedTrt model 'digits' could not start: The ONNX model '{expectedPath}' does not exist.", e.Message);
        Assert.IsType<FileNotFoundException>(e.InnerException);
        Assert.Equal("digits", e.ModelName);
        var model = host.Services.GetRequiredService<TypedTrtModelRegistry>().Get("digits");
        Assert.Equal(HostedModelState.Failed, model.State);
        Assert.Contains(logs.Lines, l => l.Level == LogLevel.Critical && l.Message == e.Message);
        Assert.Equal(HealthStatus.Unhealthy, (await HealthAsync(host)).Status);
    }

    [Fact]
    public async Task SignatureMismatch_FailsTheHostListingTheDifferences()
    {
        using var fake = new FakeEngine();
        using var host = Build(
            s => s.AddTypedTrtBackend("onnxruntime", c => OnnxRuntimeEngine.Load(c.ModelPath, c.Signature))
                  .AddTypedTrtRunner("digits", fake.Signature, static (e, o) => new TestRunner(e, o), static r => r.Runner),
            new Dictionary<string, string?> { ["TypedTrt:Models:digits:ModelPath"] = "models/digits.onnx" });
        var e = await Assert.ThrowsAsync<TypedTrtStartupException>(() => host.StartAsync(Ct));
        Assert.StartsWith("TypedTrt model 'digits' could not start: ", e.Message);
        Assert.Contains("does not match the bindings", e.Message);
        Assert.Contains("'a' is missing from the loaded model", e.Message);
        Assert.IsType<SignatureMismatchException>(e.InnerException);
    }

    [Fact]
    public async Task NoDriver_FailsTheHostWithTheDriverMessage()
    {
        if (CudaDriver.IsAvailable)
            Assert.Skip("An NVIDIA driver is installed here; this test covers machines without one.");
        using var deviceEngine = new FakeEngine(BufferPlacement.Device);
        using var host = Build(s => AddFake(s, deviceEngine), Config("fake"));
        var e = await Assert.ThrowsAsync<TypedTrtStartupException>(() => host.StartAsync(Ct));
        Assert.IsType<CudaUnavailableException>(e.InnerException);
        Assert.Contains("No NVIDIA driver was found", e.Message);
        Assert.True(deviceEngine.Disposed); // the loaded engine is freed when its runner cannot be created
    }

    [Theory]
    [InlineData(null, "fake.engine", "no backend is configured; set TypedTrt:Models:m:Backend to one of fake, other.")]
    [InlineData("tensorrt", "fake.engine", "backend 'tensorrt' (TypedTrt:Models:m:Backend) is not registered (registered: fake, other); register it with services.AddTypedTrtBackend.")]
    [InlineData("fake", null, "no model file is configured; set TypedTrt:Models:m:ModelPath (e.g. in appsettings.json).")]
    public async Task ConfigurationErrors_SayWhatToSet(string? backend, string? path, string expected)
    {
        using var fake = new FakeEngine();
        using var host = Build(
            s => s.AddTypedTrtBackend("fake", _ => fake).AddTypedTrtBackend("other", _ => fake)
                  .AddTypedTrtRunner("m", fake.Signature, static (e, o) => new TestRunner(e, o), static r => r.Runner),
            new Dictionary<string, string?> { ["TypedTrt:Models:m:ModelPath"] = path, ["TypedTrt:Models:m:Backend"] = backend });
        var e = await Assert.ThrowsAsync<TypedTrtStartupException>(() => host.StartAsync(Ct));
        Assert.Equal("TypedTrt model 'm' could not start: " + expected, e.Message);
    }

    [Fact]
    public async Task InvalidStreams_FailsWithTheSettingsName()
    {
        using var fake = new FakeEngine();
        using var host = Build(s => AddFake(s, fake), Config("fake", ("Streams", "0")));
        var e = await Assert.ThrowsAsync<TypedTrtStartupException>(() => host.StartAsync(Ct));
        Assert.Equal("TypedTrt model 'fake' could not start: TypedTrt:Models:fake:Streams is 0; it must be at least 1.", e.Message);
    }

    [Fact]
    public async Task ALaterModelFailing_DisposesTheModelsLoadedBeforeIt()
    {
        using var good = new FakeEngine();
        using var host = Build(
            s =>
            {
                s.AddTypedTrtBackend("fake", _ => good);
                s.AddTypedTrtBackend("broken", _ => throw new InvalidDataException("The engine file is truncated."));
                s.AddTypedTrtRunner("first", good.Signature, static (e, o) => new TestRunner(e, o), static r => r.Runner);
                s.AddTypedTrtRunner("second", good.Signature, static (e, o) => new TestRunner(e, o), static r => r.Runner);
            },
            new Dictionary<string, string?>
            {
                ["TypedTrt:Models:first:ModelPath"] = "a",
                ["TypedTrt:Models:first:Backend"] = "fake",
                ["TypedTrt:Models:second:ModelPath"] = "b",
                ["TypedTrt:Models:second:Backend"] = "broken",
            });
        var e = await Assert.ThrowsAsync<TypedTrtStartupException>(() => host.StartAsync(Ct));
        Assert.Equal("TypedTrt model 'second' could not start: The engine file is truncated.", e.Message);
        Assert.True(good.Disposed);
        Assert.Equal(good.ContextsCreated, good.ContextsDisposed);
    }

    [Fact]
    public async Task As_ResolvesTheRunnerThroughItsInterface_KeyedAndUnkeyed()
    {
        using var engine = new FakeEngine();
        using var host = Build(
            s => s.AddTypedTrtBackend("fake", _ => engine)
                  .AddTypedTrtRunner("fake", engine.Signature, static (e, o) => new TestRunner(e, o), static r => r.Runner)
                  .As<ITestRunner>(),
            Config("fake"));
        await host.StartAsync(Ct);
        var runner = host.Services.GetRequiredService<TestRunner>();
        Assert.Same(runner, host.Services.GetRequiredService<ITestRunner>());
        Assert.Same(runner, host.Services.GetRequiredKeyedService<ITestRunner>("fake"));
        await host.StopAsync(Ct);
        var services = new ServiceCollection();
        var builder = services.AddTypedTrtRunner("x", engine.Signature, static (e, o) => new TestRunner(e, o), static r => r.Runner);
        Assert.StartsWith("TestRunner is not a IDisposable", Assert.Throws<ArgumentException>(() => builder.As<IDisposable>()).Message);
    }

    [Fact]
    public async Task StartCancelledWhileWarmingUp_FreesTheModel()
    {
        using var engine = new FakeEngine { Delay = TimeSpan.FromMilliseconds(300) };
        using var host = Build(s => AddFake(s, engine), Config("fake", ("WarmUpRuns", "3")));
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => host.StartAsync(cts.Token));
        Assert.True(engine.Disposed);
        Assert.Equal(engine.ContextsCreated, engine.ContextsDisposed);
    }

    [Fact]
    public void DuplicateNames_AreRejectedAtRegistration()
    {
        using var fake = new FakeEngine();
        var services = new ServiceCollection();
        services.AddTypedTrtRunner("m", fake.Signature, static (e, o) => new TestRunner(e, o), static r => r.Runner);
        var e = Assert.Throws<ArgumentException>(() => services.AddTypedTrtRunner("m", fake.Signature, static (e, o) => new TestRunner(e, o), static r => r.Runner));
        Assert.StartsWith("A TypedTrt model named 'm' is already registered", e.Message);
        services.AddTypedTrtBackend("x", _ => fake);
        Assert.Throws<ArgumentException>(() => services.AddTypedTrtBackend("X", _ => fake));
    }

    [Fact]
    public async Task Shutdown_DrainsRequestsInFlightAndQueued_DegradedWhileDraining()
    {
        using var engine = new FakeEngine();
        using var host = Build(s => AddFake(s, engine), Config("fake", ("Streams", "1"), ("WarmUpRuns", "0")), shutdownTimeout: TimeSpan.FromSeconds(20));
        await host.StartAsync(Ct);
        var runner = host.Services.GetRequiredService<TestRunner>();
        // One slot: one request runs (held at the gate until the drain is seen), two wait for the slot. A gate rather
        // than a delay: on a loaded machine the callers may start further apart than any fixed run time.
        using var gate = new ManualResetEventSlim(false);
        engine.Gate = gate;
        // Host engines run inline on the caller's thread (HostExecution.Inline): start each caller on its own thread.
        var requests = Enumerable.Range(0, 3).Select(_ => Task.Run(async () => await runner.RunFakeAsync(ct: Ct), Ct)).ToArray();
        var waitedFor = System.Diagnostics.Stopwatch.StartNew();
        while (runner.Runner.ActiveRequests < 3)
        {
            Assert.True(waitedFor.Elapsed < TimeSpan.FromSeconds(60), $"only {runner.Runner.ActiveRequests} of 3 requests became active");
            await Task.Delay(1, Ct);
        }

        HealthStatus? duringDrain = null;
        var stopping = host.StopAsync(Ct);
        var drainSeenWithin = System.Diagnostics.Stopwatch.StartNew();
        while (!stopping.IsCompleted && duringDrain is null && drainSeenWithin.Elapsed < TimeSpan.FromSeconds(30))
        {
            var h = await HealthAsync(host);
            if (h.Status == HealthStatus.Degraded)
            {
                duringDrain = h.Status;
                Assert.Contains("draining", h.Description);
            }

            await Task.Delay(5, Ct);
        }

        gate.Set(); // let the held request and the two queued ones finish: the drain must wait for all three
        await stopping;
        Assert.Equal(HealthStatus.Degraded, duringDrain);
        foreach (var r in requests)
            Assert.Equal(7f, await r); // a0 * k + b = 2 * 3 + 1: every request completed, none was refused
        Assert.True(engine.Disposed);
        Assert.Equal(engine.ContextsCreated, engine.ContextsDisposed);
    }

    [Fact]
    public async Task Shutdown_Timeout_DoesNotHangAndLeavesAnEngineInUseAlone()
    {
        var logs = new LogCapture();
        using var engine = new FakeEngine();
        using var host = Build(s => AddFake(s, engine), Config("fake", ("WarmUpRuns", "0")), shutdownTimeout: TimeSpan.FromMilliseconds(300), logs: logs);
        await host.StartAsync(Ct);
        var runner = host.Services.GetRequiredService<TestRunner>();
        var stuck = await runner.Runner.AcquireAsync(Ct); // a caller that never returns its lease
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await host.StopAsync(CancellationToken.None);
        Assert.InRange(clock.Elapsed.TotalSeconds, 0.2, 10);
        Assert.False(engine.Disposed);
        Assert.Contains(logs.Lines, l => l.Level == LogLevel.Warning && l.Message.Contains("still had 1 request(s) in flight", StringComparison.Ordinal));
        stuck.Dispose();
        await runner.Runner.DisposeAsync();
    }

    [Fact]
    public async Task StickyCudaError_MakesTheModelUnhealthyForGood_SayingToRestart()
    {
        using var engine = new FakeEngine();
        using var host = Build(s => AddFake(s, engine), Config("fake"));
        await host.StartAsync(Ct);
        var runner = host.Services.GetRequiredService<TestRunner>();
        Assert.Equal(HealthStatus.Healthy, (await HealthAsync(host)).Status);

        // An ordinary failure does not change health.
        await Assert.ThrowsAsync<InvalidOperationException>(() => runner.RunFakeAsync(a0: FakeEngine.FailValue, ct: Ct));
        Assert.Equal(HealthStatus.Healthy, (await HealthAsync(host)).Status);

        engine.EnqueueFailure = () => new CudaException(700, "cuLaunchKernel");
        await Assert.ThrowsAsync<CudaException>(() => runner.RunFakeAsync(ct: Ct));
        engine.EnqueueFailure = null;
        var health = await HealthAsync(host);
        Assert.Equal(HealthStatus.Unhealthy, health.Status);
        Assert.Contains("sticky CUDA error", health.Description);
        Assert.Contains("CUDA_ERROR_ILLEGAL_ADDRESS", health.Description);
        Assert.Contains("restart the process", health.Description);
        Assert.IsType<CudaException>(health.Exception);
        Assert.Equal(nameof(HostedModelState.Faulted), health.Data["fake"]);
        var model = host.Services.GetRequiredService<TypedTrtModelRegistry>().Get("fake");
        Assert.Equal(HostedModelState.Faulted, model.State);
        Assert.False(model.IsReady);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task StageProfiling_Option_StartsProfilingAfterWarmUp()
    {
        using var engine = new FakeEngine();
        using var host = Build(s => AddFake(s, engine), Config("fake", ("StageProfiling", "true"), ("WarmUpRuns", "0")));
        await host.StartAsync(Ct);
        var runner = host.Services.GetRequiredService<TestRunner>();
        await runner.RunFakeAsync(ct: Ct);
        await runner.RunFakeAsync(ct: Ct);
        var stages = runner.Runner.StopProfiling();
        Assert.Equal(2, stages.Requests);
        await host.StopAsync(Ct);
    }
}

public sealed class HostedBatchingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static IHost BuildDigits(params (string Key, string Value)[] settings)
    {
        var config = new Dictionary<string, string?> { ["TypedTrt:Models:digits:ModelPath"] = "models/digits.onnx" };
        foreach (var (k, v) in settings)
            config[$"TypedTrt:Models:digits:{k}"] = v;
        return Build(
            s => s.AddTypedTrtBackend("onnxruntime", c => OnnxRuntimeEngine.Load(c.ModelPath, c.Signature))
                  .AddTypedTrtRunner("digits", TestModels.DigitsSignature(), static (e, o) => new TestRunner(e, o), static r => r.Runner),
            config);
    }

    [Fact]
    public async Task Batching_section_binds_and_turns_on_dynamic_batching_of_the_hosted_runner()
    {
        using var host = BuildDigits(
            ("Batching:MaxBatchSize", "16"), ("Batching:MaxQueueDelay", "00:00:00.0002"), ("Batching:PreferredBatchSizes:0", "4"),
            ("Batching:PreferredBatchSizes:1", "8"), ("Batching:MaxQueueLength", "100"));
        await host.StartAsync(Ct);
        var model = host.Services.GetRequiredService<TypedTrtModelRegistry>().Get("digits");
        var options = model.Options!.ToRunnerOptions("digits").Batching;
        Assert.NotNull(options);
        Assert.Equal(16, options.MaxBatchSize);
        Assert.Equal(TimeSpan.FromTicks(2000), options.MaxQueueDelay);
        Assert.Equal([4, 8], options.PreferredBatchSizes);
        Assert.Equal(100, options.MaxQueueLength);
        var stats = model.Core.GetBatchingStatistics();
        Assert.NotNull(stats);
        Assert.Equal(16, stats.MaxBatchSize);
        await host.StopAsync(Ct);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("0")]
    public async Task Without_a_Batching_section_or_with_MaxBatchSize_0_every_request_is_its_own_enqueue(string? maxBatchSize)
    {
        using var host = maxBatchSize is null ? BuildDigits() : BuildDigits(("Batching:MaxBatchSize", maxBatchSize));
        await host.StartAsync(Ct);
        var model = host.Services.GetRequiredService<TypedTrtModelRegistry>().Get("digits");
        Assert.Null(model.Options!.ToRunnerOptions("digits").Batching);
        Assert.Null(model.Core.GetBatchingStatistics());
        await host.StopAsync(Ct);
    }

    [Theory]
    [InlineData("-1", "TypedTrt:Models:digits:Batching:MaxBatchSize is -1; it must be 0 (batching off)")]
    [InlineData("64", "DynamicBatchingOptions.MaxBatchSize is 64, above optimization profile 0's range 1..32")]
    public async Task Invalid_batching_settings_fail_the_host_naming_the_setting(string maxBatchSize, string expected)
    {
        using var host = BuildDigits(("Batching:MaxBatchSize", maxBatchSize));
        var e = await Assert.ThrowsAsync<TypedTrtStartupException>(() => host.StartAsync(Ct));
        Assert.StartsWith("TypedTrt model 'digits' could not start: ", e.Message);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }
}
