using TypedTrt.Runtime.Diagnostics;

namespace TypedTrt.Runtime;

// Telemetry: the slot's per-request timestamps and trace parent (see Diagnostics/RunnerMetrics.cs).
internal sealed partial class RunnerSlot
{
    /// <summary>The current request's telemetry state (written when the slot is taken and when a run starts and ends).</summary>
    internal RequestState Request;

    /// <summary>Rows of the current run: dimension 0 of the first input whose dimension 0 is dynamic, or -1.</summary>
    private long BatchRows()
    {
        int i = _runner.Metrics.BatchInputIndex;
        return i >= 0 ? _shapes[i][0] : -1;
    }
}
