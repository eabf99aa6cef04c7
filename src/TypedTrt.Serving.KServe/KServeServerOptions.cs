namespace TypedTrt.Serving.KServe;

/// <summary>Options of the KServe v2 endpoints.</summary>
public sealed class KServeServerOptions
{
    /// <summary>The server name in server metadata. Default <c>typedtrt</c>.</summary>
    public string ServerName { get; set; } = "typedtrt";

    /// <summary>The server version in server metadata. Default: the KServe package's version.</summary>
    public string ServerVersion { get; set; } = typeof(KServeServerOptions).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary>
    /// Whether the default repository serves the models hosted by <c>TypedTrt.Hosting</c> (<c>AddTypedTrtRunner</c>)
    /// besides those added with <see cref="KServeServiceCollectionExtensions.AddKServeModel"/>. Default <see langword="true"/>.
    /// </summary>
    public bool ServeHostedModels { get; set; } = true;

    /// <summary>What a request may make the server allocate; applies to REST bodies and gRPC messages.</summary>
    public KServePayloadLimits Limits { get; } = new();
}
