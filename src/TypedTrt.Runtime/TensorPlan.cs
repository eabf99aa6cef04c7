using TypedTrt.Manifest;

namespace TypedTrt.Runtime;

/// <summary>Per-tensor facts the runner computes once: profile range, max shape, buffer capacity.</summary>
internal sealed class TensorPlan
{
    public required int Index { get; init; }
    public required TensorBinding Binding { get; init; }
    public bool IsInput => Binding.Mode == TensorMode.Input;
    public long[] Min { get; set; } = [];
    public long[] Max { get; set; } = [];
    public long Capacity { get; set; }

    /// <summary>An output whose shape the engine knows only during or after the run: sized through <see cref="Engine.IOutputAllocator"/>, its buffers grow per slot.</summary>
    public bool SizedAtRun { get; set; }
}
