namespace TypedTrt.Serving.KServe;

/// <summary>The models a KServe server exposes. Register your own implementation to serve models from elsewhere (for example a hosting registry).</summary>
public interface IKServeModelRepository
{
    /// <summary>Every model, in a stable order.</summary>
    IReadOnlyList<KServeModel> Models { get; }

    /// <summary>The model with this name, or <see langword="null"/>.</summary>
    KServeModel? Find(string name);
}
