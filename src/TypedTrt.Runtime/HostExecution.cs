namespace TypedTrt.Runtime;

/// <summary>Where a host engine's run executes.</summary>
public enum HostExecution
{
    /// <summary>
    /// On the thread that calls <see cref="InferenceLease.RunAsync"/>: the run is done when <c>RunAsync</c> returns (a
    /// completed <see cref="ValueTask"/>), as with ONNX Runtime's own <c>Run</c>. Fastest: no thread hop per request.
    /// </summary>
    Inline,

    /// <summary>On a thread-pool thread: <c>RunAsync</c> returns at once and completes when the run is done (use it when the caller's thread must not compute, e.g. a UI thread).</summary>
    ThreadPool,
}
