namespace TypedTrt.Serving.KServe;

/// <summary>A thread-safe, in-memory <see cref="IKServeModelRepository"/>: add models at startup (or later).</summary>
public sealed class KServeModelRepository : IKServeModelRepository
{
    private readonly object _gate = new();
    private KServeModel[] _models = [];

    /// <inheritdoc/>
    public IReadOnlyList<KServeModel> Models => Volatile.Read(ref _models);

    /// <summary>Adds a model.</summary>
    /// <exception cref="ArgumentException">A model with that name is already served.</exception>
    public void Add(KServeModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        lock (_gate)
        {
            if (Array.Exists(_models, m => m.Name == model.Name))
                throw new ArgumentException($"A model named '{model.Name}' is already served.", nameof(model));
            Volatile.Write(ref _models, [.. _models, model]);
        }
    }

    /// <summary>Removes the model with this name; returns whether one was removed.</summary>
    public bool Remove(string name)
    {
        lock (_gate)
        {
            var kept = Array.FindAll(_models, m => m.Name != name);
            bool removed = kept.Length != _models.Length;
            Volatile.Write(ref _models, kept);
            return removed;
        }
    }

    /// <inheritdoc/>
    public KServeModel? Find(string name)
    {
        foreach (var m in Volatile.Read(ref _models))
        {
            if (m.Name == name)
                return m;
        }

        return null;
    }
}
