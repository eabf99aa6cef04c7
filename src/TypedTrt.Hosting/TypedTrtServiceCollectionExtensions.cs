using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using TypedTrt.Manifest;
using TypedTrt.Runtime;
using TypedTrt.Runtime.Engine;

namespace TypedTrt.Hosting;

/// <summary>Registers generated runners and backends with dependency injection.</summary>
public static class TypedTrtServiceCollectionExtensions
{
    /// <summary>The configuration section of a model's options: <c>TypedTrt:Models:&lt;name&gt;</c>.</summary>
    public static string DefaultConfigurationSection(string modelName) => $"TypedTrt:Models:{modelName}";

    /// <summary>
    /// Hosts a generated runner: at start-up the model's backend loads its engine (checking the signature), the runner
    /// is created with the configured options and warmed up, and only then does the host start (a failure stops it with
    /// the library's message); at shutdown the model drains its requests in flight within the host's shutdown timeout,
    /// then the runner and after it the engine are disposed.
    /// </summary>
    /// <typeparam name="TRunner">The generated runner (e.g. <c>DigitClassifierRunner</c>). Resolve it from DI after
    /// start-up: unkeyed (the first model registered with this type) or keyed by <paramref name="name"/>.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="name">The model's name: its key in <see cref="TypedTrtModelRegistry"/> and DI, its configuration section, its metrics' <c>model</c> tag.</param>
    /// <param name="signature">The signature the runner was generated from (e.g. <c>DigitClassifier.Signature</c>).</param>
    /// <param name="createRunner">Creates the runner, e.g. <c>(engine, options) =&gt; new DigitClassifierRunner(engine, options)</c>.</param>
    /// <param name="getCore">The runner's <see cref="InferenceRunner"/> core, e.g. <c>runner =&gt; runner.Runner</c>.</param>
    /// <param name="configurationSection">The section bound to <see cref="TypedTrtModelOptions"/>; default <see cref="DefaultConfigurationSection"/>.</param>
    /// <returns>A builder to configure the model's options further.</returns>
    /// <exception cref="ArgumentException">A model with this name is already registered.</exception>
    public static TypedTrtModelBuilder<TRunner> AddTypedTrtRunner<TRunner>(
        this IServiceCollection services,
        string name,
        BindingManifest signature,
        Func<IInferenceEngine, InferenceRunnerOptions, TRunner> createRunner,
        Func<TRunner, InferenceRunner> getCore,
        string? configurationSection = null)
        where TRunner : class, IAsyncDisposable
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(signature);
        ArgumentNullException.ThrowIfNull(createRunner);
        ArgumentNullException.ThrowIfNull(getCore);
        foreach (var d in services)
        {
            if (d.ServiceType == typeof(HostedModel) && d.ImplementationInstance is HostedModel existing && existing.Name == name)
                throw new ArgumentException($"A TypedTrt model named '{name}' is already registered (runner {existing.RunnerType.Name}).", nameof(name));
        }

        AddCore(services);
        var model = new HostedModel<TRunner>(name, signature, createRunner, getCore);
        services.AddSingleton<HostedModel>(model);
        services.AddKeyedSingleton<HostedModel>(name, model);
        services.AddKeyedSingleton(name, model);
        services.TryAddSingleton(model);
        services.AddKeyedSingleton<TRunner>(name, (_, _) => model.Runner);
        services.TryAddSingleton<TRunner>(_ => model.Runner);
        var options = services.AddOptions<TypedTrtModelOptions>(name).BindConfiguration(configurationSection ?? DefaultConfigurationSection(name));
        return new TypedTrtModelBuilder<TRunner>(name, services, options);
    }

    /// <summary>
    /// Registers a backend that hosted models name in their <see cref="TypedTrtModelOptions.Backend"/> setting, e.g.
    /// <c>services.AddTypedTrtBackend("onnxruntime", c =&gt; OnnxRuntimeEngine.Load(c.ModelPath, c.Signature))</c>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="name">The backend's name (case-insensitive).</param>
    /// <param name="loader">Loads a model file into an engine.</param>
    /// <returns>The service collection.</returns>
    /// <exception cref="ArgumentException">A backend with this name is already registered.</exception>
    public static IServiceCollection AddTypedTrtBackend(this IServiceCollection services, string name, TypedTrtEngineLoader loader)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(loader);
        foreach (var d in services)
        {
            if (d.ImplementationInstance is TypedTrtBackend b && string.Equals(b.Name, name, StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"A TypedTrt backend named '{name}' is already registered.", nameof(name));
        }

        AddCore(services);
        services.AddSingleton(new TypedTrtBackend(name, loader));
        return services;
    }

    private static void AddCore(IServiceCollection services)
    {
        services.TryAddSingleton<TypedTrtModelRegistry>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, TypedTrtHostedService>());
    }
}

/// <summary>A registered backend: a name and its engine loader.</summary>
internal sealed record TypedTrtBackend(string Name, TypedTrtEngineLoader Loader);

/// <summary>Configures one hosted model after <see cref="TypedTrtServiceCollectionExtensions.AddTypedTrtRunner"/>.</summary>
/// <typeparam name="TRunner">The model's runner type.</typeparam>
public sealed class TypedTrtModelBuilder<TRunner>
    where TRunner : class, IAsyncDisposable
{
    internal TypedTrtModelBuilder(string name, IServiceCollection services, OptionsBuilder<TypedTrtModelOptions> options)
    {
        Name = name;
        Services = services;
        Options = options;
    }

    /// <summary>The model's name.</summary>
    public string Name { get; }

    /// <summary>The service collection.</summary>
    public IServiceCollection Services { get; }

    /// <summary>The model's named options (already bound to its configuration section).</summary>
    public OptionsBuilder<TypedTrtModelOptions> Options { get; }

    /// <summary>Changes the model's options in code, after configuration was bound.</summary>
    /// <param name="configure">Changes the options.</param>
    /// <returns>This builder.</returns>
    public TypedTrtModelBuilder<TRunner> Configure(Action<TypedTrtModelOptions> configure)
    {
        Options.Configure(configure);
        return this;
    }

    /// <summary>
    /// Also resolves the runner as <typeparamref name="TService"/> — typically the generated interface
    /// (<c>IDigitClassifierRunner</c>), so application code can be given a fake or a remote client instead — keyed by
    /// the model's name, and unkeyed unless another registration of <typeparamref name="TService"/> came first.
    /// </summary>
    /// <typeparam name="TService">A type the runner is assignable to.</typeparam>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentException"><typeparamref name="TRunner"/> is not a <typeparamref name="TService"/>.</exception>
    public TypedTrtModelBuilder<TRunner> As<TService>()
        where TService : class
    {
        if (!typeof(TService).IsAssignableFrom(typeof(TRunner)))
            throw new ArgumentException($"{typeof(TRunner).Name} is not a {typeof(TService).Name}, so model '{Name}' cannot be resolved as one.", nameof(TService));
        string name = Name;
        Services.AddKeyedSingleton<TService>(name, (sp, _) => (TService)(object)sp.GetRequiredKeyedService<TRunner>(name));
        Services.TryAddSingleton<TService>(sp => (TService)(object)sp.GetRequiredKeyedService<TRunner>(name));
        return this;
    }
}
