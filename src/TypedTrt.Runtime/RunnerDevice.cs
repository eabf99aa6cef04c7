using TypedTrt.Runtime.Cuda;
using TypedTrt.Runtime.Engine;

namespace TypedTrt.Runtime;

/// <summary>
/// One device of a runner: its ordinal, engine, primary context (device engines), completion poller and slots. The
/// one-device runner has one; every code path is the same for one and for N.
/// </summary>
internal sealed class RunnerDevice(int index, int ordinal, IInferenceEngine engine, bool ownsEngine)
{
    /// <summary>Position in the runner's device list (the slot pool's queue index).</summary>
    public int Index { get; } = index;

    /// <summary>The CUDA device ordinal (for host engines: the listed ordinal, never used for CUDA).</summary>
    public int Ordinal { get; } = ordinal;

    public IInferenceEngine Engine { get; } = engine;

    /// <summary>Whether the runner created the engine (with the factory) and disposes it.</summary>
    public bool OwnsEngine { get; } = ownsEngine;

    /// <summary>The device's retained primary context; <see langword="null"/> for host engines.</summary>
    public CudaContext? Cuda { get; set; }

    /// <summary>The device's completion poller (<see cref="CompletionMode.Polling"/> device engines).</summary>
    public CompletionPoller? Poller { get; set; }

    /// <summary>The host NUMA node closest to the device as the driver reports it, or -1 (unknown, host engines).</summary>
    public int HostNumaNode { get; set; } = -1;

    public RunnerSlot[] Slots { get; set; } = [];
}
