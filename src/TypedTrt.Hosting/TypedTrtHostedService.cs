using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TypedTrt.Runtime;

namespace TypedTrt.Hosting;

/// <summary>
/// Loads every hosted model before the host starts its other services (so a web server listens only once the models
/// are ready) and drains and disposes them after the other services stopped (so the server has stopped taking
/// requests first).
/// </summary>
/// <remarks>
/// Start: <see cref="StartingAsync"/> runs before any hosted service's <c>StartAsync</c>, including ASP.NET Core's
/// server. Stop: <see cref="StoppingAsync"/> (before any <c>StopAsync</c>) marks models draining, which health checks
/// report as degraded; <see cref="StoppedAsync"/> (after every <c>StopAsync</c>, the server's included) waits until no
/// request is in flight, disposes each runner and then its engine, all within the host's shutdown timeout
/// (<c>HostOptions.ShutdownTimeout</c>). Requests still holding a slot when it expires keep their engine alive
/// (it is not disposed under them) and a warning says how many there were.
/// </remarks>
internal sealed partial class TypedTrtHostedService : IHostedLifecycleService
{
    private readonly TypedTrtModelRegistry _registry;
    private readonly IReadOnlyList<TypedTrtBackend> _backends;
    private readonly IOptionsMonitor<TypedTrtModelOptions> _options;
    private readonly IServiceProvider _services;
    private readonly IHostEnvironment? _environment;
    private readonly ILogger _logger;

    public TypedTrtHostedService(
        TypedTrtModelRegistry registry,
        IEnumerable<TypedTrtBackend> backends,
        IOptionsMonitor<TypedTrtModelOptions> options,
        IServiceProvider services,
        IHostEnvironment? environment = null,
        ILogger<TypedTrtHostedService>? logger = null)
    {
        _registry = registry;
        _backends = [.. backends];
        _options = options;
        _services = services;
        _environment = environment;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    public Task StartingAsync(CancellationToken cancellationToken) => LoadAllAsync(cancellationToken);

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        foreach (var m in _registry.Models)
            m.MarkDraining();
        if (_registry.Models.Count > 0)
            LogDraining(_logger, _registry.Models.Count);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        // Newest first, like the host stops services; each model drains on its own.
        var stops = _registry.Models.Reverse().Select(m => StopModelAsync(m, cancellationToken)).ToArray();
        await Task.WhenAll(stops).ConfigureAwait(false);
    }

    private async Task LoadAllAsync(CancellationToken cancellationToken)
    {
        var loaded = new List<HostedModel>();
        try
        {
            foreach (var model in _registry.Models)
            {
                await LoadAsync(model, cancellationToken).ConfigureAwait(false);
                loaded.Add(model);
            }
        }
        catch
        {
            // Free what was loaded before the failing model; the host will not call the stop methods.
            foreach (var m in Enumerable.Reverse(loaded))
                await m.DisposeAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    private async Task LoadAsync(HostedModel model, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        TypedTrtModelOptions options;
        try
        {
            options = _options.Get(model.Name);
        }
        catch (OptionsValidationException e)
        {
            throw Fail(model, string.Join(" ", e.Failures), e);
        }

        var backend = ResolveBackend(model, options);
        string path = ResolvePath(model, options);
        model.MarkLoading(backend.Name, path, options);
        LogLoading(_logger, model.Name, backend.Name, path);
        try
        {
            Validate(model, options);
            var engine = backend.Loader(new EngineLoadContext(model.Name, path, model.Signature, options, _services))
                ?? throw new InvalidOperationException($"The '{backend.Name}' backend's loader returned no engine.");
            model.Attach(engine, options.ToRunnerOptions(model.Name));
            await WarmUp.RunAsync(model.Core, options.WarmUpRuns, cancellationToken).ConfigureAwait(false);
            if (options.StageProfiling)
                model.Core.StartProfiling();
        }
        catch (Exception e) when (e is not TypedTrtStartupException)
        {
            // Free what this model loaded (engine, runner); a start cancelled by the host (Ctrl+C while loading) stays a cancellation.
            await model.DisposeAsync(CancellationToken.None).ConfigureAwait(false);
            if (e is OperationCanceledException && cancellationToken.IsCancellationRequested)
                throw;
            throw Fail(model, e.Message, e);
        }

        model.MarkReady();
        var core = model.Core;
        LogReady(_logger, model.Name, core.Name, core.SlotCount, core.Placement.ToString(), clock.Elapsed.TotalMilliseconds);
    }

    private TypedTrtStartupException Fail(HostedModel model, string message, Exception? inner)
    {
        var e = new TypedTrtStartupException(model.Name, message, inner);
        model.MarkFailed(e);
        LogStartFailed(_logger, e, e.Message);
        return e;
    }

    private TypedTrtBackend ResolveBackend(HostedModel model, TypedTrtModelOptions options)
    {
        string section = TypedTrtServiceCollectionExtensions.DefaultConfigurationSection(model.Name);
        string known = _backends.Count == 0 ? "none is registered" : "registered: " + string.Join(", ", _backends.Select(b => b.Name));
        if (string.IsNullOrWhiteSpace(options.Backend))
        {
            if (_backends.Count == 1)
                return _backends[0];
            throw Fail(model, _backends.Count == 0
                ? "no backend is registered; call services.AddTypedTrtBackend(\"onnxruntime\", c => OnnxRuntimeEngine.Load(c.ModelPath, c.Signature)) (or tensorrt) at start-up."
                : $"no backend is configured; set {section}:Backend to one of {string.Join(", ", _backends.Select(b => b.Name))}.", null);
        }

        foreach (var b in _backends)
        {
            if (string.Equals(b.Name, options.Backend, StringComparison.OrdinalIgnoreCase))
                return b;
        }

        throw Fail(model, $"backend '{options.Backend}' ({section}:Backend) is not registered ({known}); register it with services.AddTypedTrtBackend.", null);
    }

    private string ResolvePath(HostedModel model, TypedTrtModelOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.ModelPath))
            throw Fail(model, $"no model file is configured; set {TypedTrtServiceCollectionExtensions.DefaultConfigurationSection(model.Name)}:ModelPath (e.g. in appsettings.json).", null);
        string p = options.ModelPath;
        if (Path.IsPathFullyQualified(p))
            return p;
        string? contentRoot = _environment?.ContentRootPath;
        string first = Path.GetFullPath(p, contentRoot ?? Directory.GetCurrentDirectory());
        if (File.Exists(first))
            return first;
        string second = Path.GetFullPath(p, AppContext.BaseDirectory);
        return File.Exists(second) ? second : first; // missing: the backend reports it in its own words
    }

    private static void Validate(HostedModel model, TypedTrtModelOptions options)
    {
        string section = TypedTrtServiceCollectionExtensions.DefaultConfigurationSection(model.Name);
        if (options.Streams < 1)
            throw new ArgumentException($"{section}:Streams is {options.Streams}; it must be at least 1.");
        if (options.WarmUpRuns < 0)
            throw new ArgumentException($"{section}:WarmUpRuns is {options.WarmUpRuns}; it must be 0 or more.");
        if (options.Device < 0)
            throw new ArgumentException($"{section}:Device is {options.Device}; it must be a CUDA device ordinal (0 or more).");
        if (options.Batching is { } batching)
        {
            if (batching.MaxBatchSize < 0)
                throw new ArgumentException($"{section}:Batching:MaxBatchSize is {batching.MaxBatchSize}; it must be 0 (batching off) or the most rows one batch may hold.");
            if (batching.IsEnabled && batching.MaxQueueDelay < TimeSpan.Zero)
                throw new ArgumentException($"{section}:Batching:MaxQueueDelay is {batching.MaxQueueDelay}; it must not be negative.");
        }
    }

    private async Task StopModelAsync(HostedModel model, CancellationToken cancellationToken)
    {
        if (model.State is HostedModelState.NotStarted or HostedModelState.Failed or HostedModelState.Stopped)
            return;
        var core = model.Core;
        var clock = Stopwatch.StartNew();
        // Wait until nothing is in flight (the server has already stopped taking requests), then dispose.
        while (core.ActiveRequests > 0 && !cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(5, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        int left = core.ActiveRequests;
        if (await model.DisposeAsync(cancellationToken).ConfigureAwait(false))
            LogStopped(_logger, model.Name, clock.Elapsed.TotalMilliseconds);
        else
            LogDrainTimeout(_logger, model.Name, left);
    }

    [LoggerMessage(1, LogLevel.Information, "TypedTrt: loading model '{Model}' with backend '{Backend}' from {Path}")]
    private static partial void LogLoading(ILogger logger, string model, string backend, string path);

    [LoggerMessage(2, LogLevel.Information, "TypedTrt: model '{Model}' ready (metrics name '{MetricsName}', {Slots} slot(s), {Placement} placement) in {Milliseconds:0} ms")]
    private static partial void LogReady(ILogger logger, string model, string metricsName, int slots, string placement, double milliseconds);

    [LoggerMessage(3, LogLevel.Critical, "{Message}")]
    private static partial void LogStartFailed(ILogger logger, Exception exception, string message);

    [LoggerMessage(4, LogLevel.Information, "TypedTrt: draining {Count} model(s)")]
    private static partial void LogDraining(ILogger logger, int count);

    [LoggerMessage(5, LogLevel.Information, "TypedTrt: model '{Model}' drained and disposed in {Milliseconds:0} ms")]
    private static partial void LogStopped(ILogger logger, string model, double milliseconds);

    [LoggerMessage(6, LogLevel.Warning, "TypedTrt: model '{Model}' still had {Count} request(s) in flight when the host's shutdown timeout expired; its engine was not disposed (it is still in use) and is freed when the process exits")]
    private static partial void LogDrainTimeout(ILogger logger, string model, int count);
}
