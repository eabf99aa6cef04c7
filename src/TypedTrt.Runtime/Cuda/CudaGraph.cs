namespace TypedTrt.Runtime.Cuda;

/// <summary>A captured graph and its executable instance (<c>cuGraphInstantiateWithFlags</c>).</summary>
public sealed class CudaGraph : IDisposable
{
    private readonly CudaContext _context;
    private nint _graph;
    private nint _exec;

    internal unsafe CudaGraph(CudaContext context, nint graph)
    {
        _context = context;
        _graph = graph;
        nint exec;
        int rc = CudaNative.cuGraphInstantiateWithFlags(&exec, graph, 0);
        if (rc != 0)
        {
            _ = CudaNative.cuGraphDestroy(graph);
            CudaException.Check(rc, "cuGraphInstantiateWithFlags");
        }

        _exec = exec;
    }

    /// <summary>The raw <c>CUgraphExec</c>.</summary>
    internal nint ExecHandle => _exec;

    /// <summary>Launches the graph on a stream (<c>cuGraphLaunch</c>).</summary>
    public void Launch(CudaStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ObjectDisposedException.ThrowIf(_exec == 0, this);
        CudaException.Check(CudaNative.cuGraphLaunch(_exec, stream.Handle), "cuGraphLaunch");
    }

    /// <summary>Destroys the executable graph and the graph.</summary>
    public void Dispose()
    {
        nint exec = Interlocked.Exchange(ref _exec, 0);
        nint graph = Interlocked.Exchange(ref _graph, 0);
        if (exec == 0 && graph == 0)
            return;
        _context.MakeCurrent();
        if (exec != 0)
            CudaException.Check(CudaNative.cuGraphExecDestroy(exec), "cuGraphExecDestroy");
        if (graph != 0)
            CudaException.Check(CudaNative.cuGraphDestroy(graph), "cuGraphDestroy");
    }
}
