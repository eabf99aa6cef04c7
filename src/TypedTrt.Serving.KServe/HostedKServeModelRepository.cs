using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TypedTrt.Hosting;

namespace TypedTrt.Serving.KServe;

/// <summary>
/// Serves the models hosted by <c>TypedTrt.Hosting</c> (<see cref="TypedTrtModelRegistry"/>, registered with
/// <c>AddTypedTrtRunner</c>) without registering them again, followed by the models of a
/// <see cref="KServeModelRepository"/> (those added with <see cref="KServeServiceCollectionExtensions.AddKServeModel"/>).
/// <see cref="KServeServiceCollectionExtensions.AddKServe"/> registers it when the application hosts models, unless an
/// <see cref="IKServeModelRepository"/> is registered already.
/// </summary>
/// <remarks>
/// A hosted model is ready over the protocol exactly when <see cref="HostedModel.IsReady"/> (loaded and warmed up, not
/// draining, not faulted): while the host loads it, drains it or after it stopped, model and server readiness say
/// not ready and inference answers 503 / <c>UNAVAILABLE</c>. Requests run through the hosted runner's
/// <see cref="TypedTrt.Runtime.InferenceRunner.RunAsync(IReadOnlyList{TypedTrt.Runtime.InferenceInput}, CancellationToken)"/>,
/// so the model's options (streams, profile, dynamic batching in <see cref="TypedTrtModelOptions.Batching"/>) apply to
/// protocol requests as to in-process callers. Inputs are checked against the optimization profile the model is
/// configured with (<see cref="TypedTrtModelOptions.Profile"/>). A hosted model with a tensor that has no protocol
/// datatype (fp8, int4, ...) is not served (a warning says why); the host still runs it for in-process callers.
/// </remarks>
public sealed partial class HostedKServeModelRepository : IKServeModelRepository
{
    private readonly KServeModel[] _hosted;
    private readonly KServeModelRepository? _additional;

    /// <summary>Creates the repository over the host's models.</summary>
    /// <param name="registry">The hosted models.</param>
    /// <param name="options">The hosted models' options (for the optimization profile requests are checked against).</param>
    /// <param name="additional">Models served besides the hosted ones (a hosted model's name takes precedence).</param>
    /// <param name="logger">Where a model that cannot be served is reported.</param>
    /// <exception cref="InvalidOperationException">A model of <paramref name="additional"/> has a hosted model's name.</exception>
    public HostedKServeModelRepository(
        TypedTrtModelRegistry registry,
        IOptionsMonitor<TypedTrtModelOptions> options,
        KServeModelRepository? additional = null,
        ILogger<HostedKServeModelRepository>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(options);
        var log = (ILogger?)logger ?? NullLogger.Instance;
        var hosted = new List<KServeModel>(registry.Models.Count);
        foreach (var model in registry.Models)
        {
            try
            {
                hosted.Add(Serve(model, ProfileOf(model, options)));
            }
            catch (NotSupportedException e)
            {
                LogNotServed(log, model.Name, e.Message);
            }
        }

        _hosted = [.. hosted];
        _additional = additional;
        if (additional is not null)
        {
            foreach (var m in additional.Models)
            {
                if (Array.Exists(_hosted, h => h.Name == m.Name))
                {
                    throw new InvalidOperationException(
                        $"KServe model '{m.Name}' is added with AddKServeModel, but a TypedTrt.Hosting model has that name and is served already; remove the AddKServeModel call (hosted models are served automatically) or give it another name.");
                }
            }
        }
    }

    /// <inheritdoc/>
    public IReadOnlyList<KServeModel> Models
    {
        get
        {
            var extra = _additional?.Models;
            if (extra is null || extra.Count == 0)
                return _hosted;
            return [.. _hosted, .. extra.Where(m => Array.TrueForAll(_hosted, h => h.Name != m.Name))];
        }
    }

    /// <inheritdoc/>
    public KServeModel? Find(string name)
    {
        foreach (var m in _hosted)
        {
            if (m.Name == name)
                return m;
        }

        return _additional?.Find(name);
    }

    /// <summary>The protocol's view of one hosted model: its signature, readiness from its state, requests through its runner.</summary>
    /// <param name="model">The hosted model.</param>
    /// <param name="profileIndex">The optimization profile requests are checked against (the one the model's runner uses).</param>
    /// <exception cref="NotSupportedException">A tensor's dtype has no protocol datatype.</exception>
    public static KServeModel Serve(HostedModel model, int profileIndex = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new KServeModel(model.Name, model.Signature, profileIndex, (inputs, ct) => model.Core.RunAsync(inputs, ct))
        {
            ReadinessProbe = () => model.IsReady,
        };
    }

    private static int ProfileOf(HostedModel model, IOptionsMonitor<TypedTrtModelOptions> options)
    {
        int profile;
        try
        {
            profile = options.Get(model.Name).Profile;
        }
        catch (OptionsValidationException)
        {
            return 0; // the host reports the invalid options when it starts
        }

        // An index the manifest lacks fails the model's start-up with the runner's message; check against profile 0 meanwhile.
        int count = model.Signature.Profiles.Count;
        return count > 0 && (uint)profile < (uint)count ? profile : 0;
    }

    [LoggerMessage(1, LogLevel.Warning, "KServe: hosted model '{Model}' is not served over the protocol: {Reason}")]
    private static partial void LogNotServed(ILogger logger, string model, string reason);
}
