using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace TypedTrt.Hosting;

/// <summary>
/// Reports the hosted models' health: <b>healthy</b> when every model is loaded and warmed up; <b>degraded</b> while the
/// host drains them at shutdown (point readiness probes elsewhere); <b>unhealthy</b> while loading, after stopping,
/// and — for good — after a sticky CUDA error, with a description that says the process must be restarted (CUDA
/// cannot recover a context in-process). The worst model decides; each model's state is in the result's data.
/// </summary>
/// <remarks>Register it with <see cref="TypedTrtHealthChecksBuilderExtensions.AddTypedTrt"/>.</remarks>
public sealed class TypedTrtHealthCheck : IHealthCheck
{
    private readonly TypedTrtModelRegistry _registry;

    /// <summary>Creates the check over the host's models.</summary>
    public TypedTrtHealthCheck(TypedTrtModelRegistry registry) => _registry = registry ?? throw new ArgumentNullException(nameof(registry));

    /// <inheritdoc/>
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var models = _registry.Models;
        if (models.Count == 0)
            return Task.FromResult(HealthCheckResult.Unhealthy("No TypedTrt model is registered."));
        var status = HealthStatus.Healthy;
        var lines = new List<string>();
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        Exception? error = null;
        foreach (var m in models)
        {
            var state = m.State;
            var (s, text) = state switch
            {
                HostedModelState.Ready => (HealthStatus.Healthy, $"'{m.Name}' is ready ({m.Core.SlotCount} slot(s), {m.Core.ActiveRequests} request(s) in flight)"),
                HostedModelState.Draining => (HealthStatus.Degraded, $"'{m.Name}' is draining: {m.Core.ActiveRequests} request(s) in flight"),
                HostedModelState.Faulted => (HealthStatus.Unhealthy,
                    $"'{m.Name}' hit a sticky CUDA error ({m.Error?.Message}); the CUDA context cannot recover in-process: restart the process"),
                HostedModelState.Failed => (HealthStatus.Unhealthy, $"'{m.Name}' failed to start: {m.Error?.Message}"),
                HostedModelState.Stopped => (HealthStatus.Unhealthy, $"'{m.Name}' is stopped"),
                _ => (HealthStatus.Unhealthy, $"'{m.Name}' is loading"),
            };
            if (s < status)
                status = s;
            if (state is HostedModelState.Faulted or HostedModelState.Failed)
                error ??= m.Error;
            lines.Add(text);
            data[m.Name] = state.ToString();
        }

        string description = string.Join("; ", lines) + ".";
        return Task.FromResult(new HealthCheckResult(status, description, error, data));
    }
}

/// <summary>Adds <see cref="TypedTrtHealthCheck"/> to health checks.</summary>
public static class TypedTrtHealthChecksBuilderExtensions
{
    /// <summary>The tag the TypedTrt check carries by default, for readiness endpoints (<c>MapHealthChecks("/health/ready", new() { Predicate = c =&gt; c.Tags.Contains("ready") })</c>).</summary>
    public const string ReadyTag = "ready";

    /// <summary>
    /// Adds the TypedTrt health check (models loaded and warmed up; degraded while draining; unhealthy after a sticky
    /// CUDA error). Tagged <see cref="ReadyTag"/> unless <paramref name="tags"/> are given.
    /// </summary>
    public static IHealthChecksBuilder AddTypedTrt(this IHealthChecksBuilder builder, string name = "typedtrt", IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new HealthCheckRegistration(
            name,
            sp => new TypedTrtHealthCheck((TypedTrtModelRegistry)sp.GetService(typeof(TypedTrtModelRegistry))!
                ?? throw new InvalidOperationException("TypedTrt health check: no models are registered; call services.AddTypedTrtRunner first.")),
            failureStatus: HealthStatus.Unhealthy,
            tags: tags ?? [ReadyTag]));
    }
}
