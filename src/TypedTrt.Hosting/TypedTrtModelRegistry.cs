using System.Diagnostics.CodeAnalysis;

namespace TypedTrt.Hosting;

/// <summary>
/// The models this host serves, in registration order: name → <see cref="HostedModel"/> (runner, signature, state).
/// A singleton in DI; servers and health checks query it.
/// </summary>
public sealed class TypedTrtModelRegistry
{
    private readonly HostedModel[] _models;
    private readonly Dictionary<string, HostedModel> _byName;

    /// <summary>Creates the registry from the registered models (DI does this).</summary>
    public TypedTrtModelRegistry(IEnumerable<HostedModel> models)
    {
        ArgumentNullException.ThrowIfNull(models);
        _models = [.. models];
        _byName = new Dictionary<string, HostedModel>(StringComparer.Ordinal);
        foreach (var m in _models)
        {
            if (!_byName.TryAdd(m.Name, m))
                throw new InvalidOperationException($"Two TypedTrt models are named '{m.Name}'; model names must be unique.");
        }
    }

    /// <summary>Every hosted model, in registration order.</summary>
    public IReadOnlyList<HostedModel> Models => _models;

    /// <summary>Whether every model is ready (loaded, warmed up, not draining, not faulted).</summary>
    public bool AllReady => Array.TrueForAll(_models, static m => m.IsReady);

    /// <summary>Finds a model by name (ordinal, case-sensitive).</summary>
    public bool TryGet(string name, [NotNullWhen(true)] out HostedModel? model) => _byName.TryGetValue(name, out model);

    /// <summary>The model with this name.</summary>
    /// <exception cref="KeyNotFoundException">No model has that name (the message lists those that exist).</exception>
    public HostedModel Get(string name) =>
        TryGet(name, out var m)
            ? m
            : throw new KeyNotFoundException($"No TypedTrt model is named '{name}'. Hosted models: {(_models.Length == 0 ? "none" : string.Join(", ", _models.Select(x => $"'{x.Name}'")))}.");

    /// <summary>The model with this name and runner type.</summary>
    /// <exception cref="KeyNotFoundException">No model has that name.</exception>
    /// <exception cref="InvalidCastException">The model's runner is of another type.</exception>
    public HostedModel<TRunner> Get<TRunner>(string name)
        where TRunner : class, IAsyncDisposable =>
        Get(name) as HostedModel<TRunner>
            ?? throw new InvalidCastException($"TypedTrt model '{name}' runs a {Get(name).RunnerType.Name}, not a {typeof(TRunner).Name}.");
}
