using TypedTrt.Manifest;
using TypedTrt.Runtime;
using TypedTrt.Runtime.Engine;

namespace TypedTrt.Hosting;

/// <summary>
/// One model served by the host: its name, signature (the binding manifest the runner was generated from), state,
/// and — once loaded — its engine and runner. Listed by <see cref="TypedTrtModelRegistry"/>; servers (REST, gRPC,
/// KServe) find models here by name.
/// </summary>
public abstract class HostedModel
{
    private volatile HostedModelState _state = HostedModelState.NotStarted;
    private Exception? _error;
    private IInferenceEngine? _engine;
    private object? _runner;
    private InferenceRunner? _core;

    private protected HostedModel(string name, BindingManifest signature, Type runnerType)
    {
        Name = name;
        Signature = signature;
        RunnerType = runnerType;
    }

    /// <summary>The model's name (its key in the registry, in DI and in configuration; the <c>model</c> tag of its metrics).</summary>
    public string Name { get; }

    /// <summary>The signature the runner was generated from: tensor names, dtypes, shapes, optimization profiles.</summary>
    public BindingManifest Signature { get; }

    /// <summary>The generated runner's type.</summary>
    public Type RunnerType { get; }

    /// <summary>
    /// The model's state. A loaded model whose runner saw a sticky CUDA error (<see cref="InferenceRunner.StickyError"/>)
    /// is <see cref="HostedModelState.Faulted"/>.
    /// </summary>
    public HostedModelState State
    {
        get
        {
            var s = _state;
            return s is HostedModelState.Ready or HostedModelState.Draining && _core?.StickyError is not null ? HostedModelState.Faulted : s;
        }
    }

    /// <summary>Whether the model serves requests: loaded, warmed up, not draining and not faulted.</summary>
    public bool IsReady => State == HostedModelState.Ready;

    /// <summary>Why the model failed to load, or the sticky CUDA error that faulted it; otherwise <see langword="null"/>.</summary>
    public Exception? Error => _error ?? _core?.StickyError;

    /// <summary>The backend that loaded the engine (as configured), once loading started.</summary>
    public string? Backend { get; private set; }

    /// <summary>The resolved model file, once loading started.</summary>
    public string? ModelPath { get; private set; }

    /// <summary>The options the model was loaded with, once loading started.</summary>
    public TypedTrtModelOptions? Options { get; private set; }

    /// <summary>The loaded engine.</summary>
    /// <exception cref="InvalidOperationException">The model is not loaded.</exception>
    public IInferenceEngine Engine => _engine ?? throw NotLoaded();

    /// <summary>The untyped runner core under the generated runner (slots, leases, telemetry).</summary>
    /// <exception cref="InvalidOperationException">The model is not loaded.</exception>
    public InferenceRunner Core => _core ?? throw NotLoaded();

    /// <summary>The generated runner, as an object (see <see cref="HostedModel{TRunner}.Runner"/> for the typed one).</summary>
    /// <exception cref="InvalidOperationException">The model is not loaded.</exception>
    public object RunnerObject => _runner ?? throw NotLoaded();

    private protected abstract object CreateRunner(IInferenceEngine engine, InferenceRunnerOptions options);

    private protected abstract InferenceRunner GetCore(object runner);

    private protected abstract ValueTask DisposeRunnerAsync(object runner);

    internal void MarkLoading(string backend, string modelPath, TypedTrtModelOptions options)
    {
        Backend = backend;
        ModelPath = modelPath;
        Options = options;
        _state = HostedModelState.Loading;
    }

    /// <summary>Creates the runner over a loaded engine; on failure the engine is disposed and the exception propagates.</summary>
    internal void Attach(IInferenceEngine engine, InferenceRunnerOptions options)
    {
        object runner;
        try
        {
            runner = CreateRunner(engine, options);
        }
        catch
        {
            engine.Dispose();
            throw;
        }

        _engine = engine;
        _runner = runner;
        _core = GetCore(runner);
    }

    internal void MarkReady() => _state = HostedModelState.Ready;

    internal void MarkFailed(Exception error)
    {
        _error = error;
        _state = HostedModelState.Failed;
    }

    internal void MarkDraining()
    {
        if (_state == HostedModelState.Ready)
            _state = HostedModelState.Draining;
    }

    /// <summary>Disposes the runner (which waits for runs in flight and returned leases), then the engine.</summary>
    /// <returns><see langword="false"/> when <paramref name="cancellationToken"/> fired first: the engine is then left alone (still in use).</returns>
    internal async Task<bool> DisposeAsync(CancellationToken cancellationToken)
    {
        var runner = _runner;
        var engine = _engine;
        if (runner is not null)
        {
            var disposing = DisposeRunnerAsync(runner).AsTask();
            try
            {
                await disposing.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return false;
            }
        }

        engine?.Dispose();
        if (_state != HostedModelState.Failed)
            _state = HostedModelState.Stopped;
        return true;
    }

    private InvalidOperationException NotLoaded() => new(
        $"TypedTrt model '{Name}' is not loaded (state {State}). Runners are available once the host has started; resolve them from request handlers or hosted services that run after start-up.");
}

/// <summary>A hosted model whose generated runner is <typeparamref name="TRunner"/>.</summary>
/// <typeparam name="TRunner">The generated runner type (e.g. <c>DigitClassifierRunner</c>).</typeparam>
public sealed class HostedModel<TRunner> : HostedModel
    where TRunner : class, IAsyncDisposable
{
    private readonly Func<IInferenceEngine, InferenceRunnerOptions, TRunner> _create;
    private readonly Func<TRunner, InferenceRunner> _core;

    internal HostedModel(string name, BindingManifest signature, Func<IInferenceEngine, InferenceRunnerOptions, TRunner> create, Func<TRunner, InferenceRunner> core)
        : base(name, signature, typeof(TRunner))
    {
        _create = create;
        _core = core;
    }

    /// <summary>The generated runner.</summary>
    /// <exception cref="InvalidOperationException">The model is not loaded.</exception>
    public TRunner Runner => (TRunner)RunnerObject;

    private protected override object CreateRunner(IInferenceEngine engine, InferenceRunnerOptions options) =>
        _create(engine, options) ?? throw new InvalidOperationException($"The runner factory of model '{Name}' returned null.");

    private protected override InferenceRunner GetCore(object runner) =>
        _core((TRunner)runner) ?? throw new InvalidOperationException($"The runner-core accessor of model '{Name}' returned null.");

    private protected override ValueTask DisposeRunnerAsync(object runner) => ((TRunner)runner).DisposeAsync();
}
