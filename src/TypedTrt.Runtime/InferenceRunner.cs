using TypedTrt.Manifest;
using TypedTrt.Runtime.Engine;

namespace TypedTrt.Runtime;

/// <summary>Options of an <see cref="InferenceRunner"/>.</summary>
public sealed class InferenceRunnerOptions
{
    /// <summary>Number of slots (streams), each with its own execution context and buffers. Default 2.</summary>
    public int Streams { get; init; } = 2;

    /// <summary>The optimization profile every slot uses. Default 0.</summary>
    public int ProfileIndex { get; init; }

    /// <summary>CUDA device ordinal for device engines. Default 0.</summary>
    public int DeviceOrdinal { get; init; }
}

/// <summary>
/// The multi-stream runner core that generated runners build on: N slots, each with an execution context, a
/// non-blocking stream, pinned host buffers and device buffers sized from the signature (max profile shape for
/// dynamic dims). Safe for any number of concurrent callers.
/// </summary>
public sealed partial class InferenceRunner : IAsyncDisposable
{
    /// <summary>Creates a runner over an engine (takes no ownership of the engine).</summary>
    public InferenceRunner(IInferenceEngine engine, InferenceRunnerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(engine);
        throw new NotImplementedException("Implemented by the runtime work (issue 3).");
    }

    /// <summary>The engine's signature.</summary>
    public BindingManifest Signature => throw new NotImplementedException();

    /// <summary>Number of slots.</summary>
    public int SlotCount => throw new NotImplementedException();

    /// <summary>Waits for a free slot and leases it. Cancellation applies while waiting.</summary>
    public ValueTask<InferenceLease> AcquireAsync(CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary>Waits for work in flight, then frees every slot.</summary>
    public ValueTask DisposeAsync() => throw new NotImplementedException();
}

/// <summary>
/// Exclusive use of one slot: fill inputs in place in pinned memory, run, read outputs in place. Dispose to return
/// the slot. Not thread-safe; one request at a time per lease.
/// </summary>
public sealed partial class InferenceLease : IDisposable
{
    /// <summary>Sets a dynamic input's concrete shape; checked against rank and the profile's min..max.</summary>
    public void SetInputShape(int tensorIndex, ReadOnlySpan<long> dims) => throw new NotImplementedException();

    /// <summary>The slot's pinned host buffer for an input, sized to its current shape. <typeparamref name="T"/> is the dtype's element type, or <see cref="byte"/> for raw bytes.</summary>
    public Span<T> GetInputSpan<T>(int tensorIndex) where T : unmanaged => throw new NotImplementedException();

    /// <summary>Copies inputs to the device, runs the engine, copies outputs back; completes when this slot's work is done.</summary>
    public ValueTask RunAsync(CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary>The resolved shape of an output after <see cref="RunAsync"/>.</summary>
    public ReadOnlySpan<long> GetOutputShape(int tensorIndex) => throw new NotImplementedException();

    /// <summary>The slot's pinned host buffer for an output, sized to its resolved shape.</summary>
    public ReadOnlySpan<T> GetOutputSpan<T>(int tensorIndex) where T : unmanaged => throw new NotImplementedException();

    /// <summary>Returns the slot to the runner.</summary>
    public void Dispose() => throw new NotImplementedException();
}
