using Microsoft.Extensions.Logging;

namespace TypedTrt.Serving.KServe.Internal;

internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "{Message}")]
    public static partial void InferenceFailed(ILogger logger, Exception exception, string message);
}
