using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TypedTrt.Hosting;
using TypedTrt.Serving.KServe.Internal;

namespace TypedTrt.Serving.KServe;

/// <summary>Registers and maps the KServe v2 endpoints.</summary>
public static class KServeServiceCollectionExtensions
{
    /// <summary>
    /// Adds the KServe v2 services: options, gRPC, and the <see cref="IKServeModelRepository"/> unless one is
    /// registered already. That repository serves every model hosted by <c>TypedTrt.Hosting</c>
    /// (<c>AddTypedTrtRunner</c>, in any order relative to this call) through a <see cref="HostedKServeModelRepository"/>,
    /// ready while the hosted model is ready, then the models added with <see cref="AddKServeModel"/> (kept in a
    /// <see cref="KServeModelRepository"/>, filled when it is first resolved). Set
    /// <see cref="KServeServerOptions.ServeHostedModels"/> to <see langword="false"/> to serve only the latter.
    /// </summary>
    public static IServiceCollection AddKServe(this IServiceCollection services, Action<KServeServerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<KServeServerOptions>();
        if (configure is not null)
            options.Configure(configure);
        options.Validate(static o =>
        {
            o.Limits.Validate();
            return true;
        });
        services.AddGrpc();
        services.AddOptions<GrpcServiceOptions<KServeGrpcService>>()
            .Configure<IOptions<KServeServerOptions>>(static (grpc, kserve) =>
                grpc.MaxReceiveMessageSize = (int)Math.Min(int.MaxValue, kserve.Value.Limits.MaxMessageBytes));
        services.TryAddSingleton(static sp =>
        {
            var repository = new KServeModelRepository();
            foreach (var registration in sp.GetServices<KServeModelRegistration>())
                repository.Add(registration.Factory(sp));
            return repository;
        });
        services.TryAddSingleton<IKServeModelRepository>(static sp =>
        {
            var added = sp.GetRequiredService<KServeModelRepository>();
            // TypedTrtModelRegistry is registered by AddTypedTrtRunner / AddTypedTrtBackend: present exactly when the app hosts models.
            if (!sp.GetRequiredService<IOptions<KServeServerOptions>>().Value.ServeHostedModels || sp.GetService<TypedTrtModelRegistry>() is not { } registry)
                return added;
            return new HostedKServeModelRepository(
                registry,
                sp.GetRequiredService<IOptionsMonitor<TypedTrtModelOptions>>(),
                added,
                sp.GetService<ILogger<HostedKServeModelRepository>>());
        });
        return services;
    }

    /// <summary>Adds a model to the default repository, created from the container on first use (e.g. from a registered runner).</summary>
    public static IServiceCollection AddKServeModel(this IServiceCollection services, Func<IServiceProvider, KServeModel> factory)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(factory);
        services.AddSingleton(new KServeModelRegistration(factory));
        return services;
    }

    /// <summary>
    /// Maps the protocol's REST endpoints under <c>/v2</c> (health, server and model metadata, model readiness, inference
    /// with JSON and binary tensor data) and the gRPC service <c>inference.GRPCInferenceService</c>. gRPC needs an HTTP/2
    /// endpoint (for cleartext, a Kestrel endpoint with <c>Protocols = Http2</c>), REST an HTTP/1.1 one.
    /// </summary>
    public static IEndpointConventionBuilder MapKServe(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var group = endpoints.MapGroup("/v2");
        group.MapGet("/health/live", RestEndpoints.LiveAsync);
        group.MapGet("/health/ready", RestEndpoints.ReadyAsync);
        group.MapGet("", RestEndpoints.ServerMetadataAsync);
        group.MapGet("/models/{model}", RestEndpoints.ModelMetadataAsync);
        group.MapGet("/models/{model}/versions/{version}", RestEndpoints.ModelMetadataAsync);
        group.MapGet("/models/{model}/ready", RestEndpoints.ModelReadyAsync);
        group.MapGet("/models/{model}/versions/{version}/ready", RestEndpoints.ModelReadyAsync);
        group.MapPost("/models/{model}/infer", RestEndpoints.InferAsync);
        group.MapPost("/models/{model}/versions/{version}/infer", RestEndpoints.InferAsync);
        endpoints.MapGrpcService<KServeGrpcService>();
        return group;
    }
}

/// <summary>A model factory added by <see cref="KServeServiceCollectionExtensions.AddKServeModel"/>.</summary>
internal sealed record KServeModelRegistration(Func<IServiceProvider, KServeModel> Factory);
