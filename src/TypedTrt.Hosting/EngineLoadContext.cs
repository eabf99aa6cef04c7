using TypedTrt.Manifest;
using TypedTrt.Runtime.Engine;

namespace TypedTrt.Hosting;

/// <summary>Loads a model file into an engine for a hosted model; registered per backend with <see cref="TypedTrtServiceCollectionExtensions.AddTypedTrtBackend"/>.</summary>
/// <param name="context">The model's name, resolved file path, expected signature, options and the service provider.</param>
/// <returns>The engine; the host disposes it after the model's runner.</returns>
public delegate IInferenceEngine TypedTrtEngineLoader(EngineLoadContext context);

/// <summary>What a backend's <see cref="TypedTrtEngineLoader"/> gets to load one model.</summary>
public sealed class EngineLoadContext
{
    internal EngineLoadContext(string modelName, string modelPath, BindingManifest signature, TypedTrtModelOptions options, IServiceProvider services)
    {
        ModelName = modelName;
        ModelPath = modelPath;
        Signature = signature;
        Options = options;
        Services = services;
    }

    /// <summary>The hosted model's name.</summary>
    public string ModelName { get; }

    /// <summary>The model file, resolved to a full path (it may not exist: the backend reports that in its own words).</summary>
    public string ModelPath { get; }

    /// <summary>The signature the runner was generated from; pass it to the backend's <c>Load</c> so a model that drifted fails here.</summary>
    public BindingManifest Signature { get; }

    /// <summary>The model's options.</summary>
    public TypedTrtModelOptions Options { get; }

    /// <summary>The application's services (for backend options registered there).</summary>
    public IServiceProvider Services { get; }
}
