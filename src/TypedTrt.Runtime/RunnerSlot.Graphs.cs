using TypedTrt.Runtime.Cuda;

namespace TypedTrt.Runtime;

// CUDA graph capture and replay (UseCudaGraphs, static shapes).
internal sealed unsafe partial class RunnerSlot
{
    // CUDA graph replay (UseCudaGraphs, static shapes): captured once, replayed per request; disabled after a failed capture.
    private CudaGraph? _graph;
    internal bool GraphDisabled;

    /// <summary>
    /// Captures H2D + enqueue + D2H into a graph (static shapes only). A capture or instantiation failure, e.g. an
    /// engine that cannot be captured, disables graphs for this slot and the request runs the normal path, as trtexec does.
    /// </summary>
    private void TryCapture(nint stream)
    {
        if (!_runner.GraphsPossible)
        {
            GraphDisabled = true;
            return;
        }

        bool capturing = false;
        try
        {
            Stream!.BeginCapture();
            capturing = true;
            EnqueueWork(stream, false);
            if (_runner.FailGraphCaptureForTesting)
                throw new CudaException(900, "injected capture failure");
            capturing = false;
            _graph = Stream.EndCapture();
        }
        catch (Exception ex) when (ex is CudaException or InvalidOperationException or NotSupportedException)
        {
            if (capturing)
            {
                nint g;
                if (CudaNative.cuStreamEndCapture(stream, &g) == 0 && g != 0)
                    _ = CudaNative.cuGraphDestroy(g);
            }

            _graph = null;
            GraphDisabled = true;
            Interlocked.Increment(ref _runner.GraphFallbacks);
        }
    }
}
