using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace TypedTrt.Hosting.Tests;

internal static class HostTestHelpers
{
    /// <summary>A bare host (no default config sources) with in-memory configuration and captured logs.</summary>
    public static IHost Build(Action<IServiceCollection> configure, IDictionary<string, string?>? config = null, TimeSpan? shutdownTimeout = null, LogCapture? logs = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(config ?? new Dictionary<string, string?>());
        if (shutdownTimeout is { } t)
            builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = t);
        builder.Services.AddLogging(l =>
        {
            if (logs is not null)
                l.AddProvider(logs);
        });
        configure(builder.Services);
        return builder.Build();
    }
}

/// <summary>Collects log lines (level and message) from every logger.</summary>
internal sealed class LogCapture : ILoggerProvider
{
    public ConcurrentQueue<(LogLevel Level, string Message)> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Lines.Enqueue((logLevel, formatter(state, exception)));
    }
}
