using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using TypedTrt.Serving.KServe.Internal;

namespace TypedTrt.Serving.KServe;

/// <summary>Registers and maps the KServe v2 endpoints.</summary>
public static class KServeServiceCollectionExtensions
{
    /// <summary>
    /// Adds the KServe v2 services: options, gRPC, and a <see cref="KServeModelRepository"/> as the
    /// <see cref="IKServeModelRepository"/> unless one is registered already (models from <see cref="AddKServeModel"/>
    /// are added to it when it is first resolved).
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
        services.TryAddSingleton<IKServeModelRepository>(static sp => sp.GetRequiredService<KServeModelRepository>());
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
