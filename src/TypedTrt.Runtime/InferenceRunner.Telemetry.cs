using TypedTrt.Runtime.Cuda;
using TypedTrt.Runtime.Diagnostics;

namespace TypedTrt.Runtime;

// Telemetry: the runner's metrics and traces (Diagnostics/RunnerMetrics.cs) and the state hosts read for health and draining.
public sealed partial class InferenceRunner
{
    /// <summary>This runner's metrics and traces; the runner reports to it at acquire, run start, run end and slot return.</summary>
    internal RunnerMetrics Metrics { get; }

    /// <summary>
    /// The model's name in metrics and traces (the <see cref="TypedTrtTelemetry.ModelTag"/> tag):
    /// <see cref="InferenceRunnerOptions.Name"/>, or the model file's name without extension.
    /// </summary>
    public string Name => Metrics.Model;

    /// <summary>
    /// Requests waiting for a slot or holding one (leases not yet disposed); with <see cref="InferenceRunnerOptions.Batching"/>,
    /// requests waiting in the batch queue or in a running batch. A host drains by waiting for 0.
    /// </summary>
    public int ActiveRequests => Metrics.Active;

    /// <summary>
    /// The first sticky CUDA error (<see cref="CudaException.IsSticky"/>) a request of this runner failed with, or
    /// <see langword="null"/>. Once set, the device's CUDA context is lost: every later request fails and only a new
    /// process recovers.
    /// </summary>
    public CudaException? StickyError => Metrics.StickyError;

    /// <summary>
    /// Counts a request that was refused before it reached the runner — a shape check in generated code, a server's
    /// payload validation — in <see cref="TypedTrtTelemetry.Requests"/> and <see cref="TypedTrtTelemetry.Failures"/>,
    /// with the <see cref="TypedTrtTelemetry.ErrorTypeTag"/> of <paramref name="error"/> (an <see cref="ArgumentException"/>
    /// is <c>invalid_input</c>). Requests the runner itself refuses are counted already.
    /// </summary>
    public void RecordRejectedRequest(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        Metrics.RecordRejected(error);
    }

    /// <summary>Slots currently leased (for the utilisation gauge; read when the gauge is collected).</summary>
    internal int LeasedSlots
    {
        get
        {
            int n = 0;
            foreach (var slot in _slots)
                n += Volatile.Read(ref slot.State) != RunnerSlot.Free ? 1 : 0;
            return n;
        }
    }
}
