namespace TypedTrt.Runtime.Engine;

/// <summary>
/// Memory for an output whose shape is known only during or after the run (data-dependent shapes such as NonZero,
/// NMS or TopK with a tensor k, and ONNX outputs whose dims no input dim names): the engine asks for a buffer of the
/// size it needs and reports the shape, as TensorRT's <c>IOutputAllocator</c> does. The runner implements it per slot
/// and grows the slot's buffer only when a run needs more than it has seen before, so steady state allocates nothing.
/// </summary>
/// <remarks>Both methods are called on the thread that runs <see cref="IEngineContext.Enqueue"/>, before it returns.</remarks>
public interface IOutputAllocator
{
    /// <summary>
    /// Returns memory of at least <paramref name="bytes"/> bytes for the output, in the engine's
    /// <see cref="BufferPlacement"/>: <paramref name="currentAddress"/> when it is large enough, otherwise a larger
    /// buffer (the old one is not used by the engine afterwards). The engine writes the output there.
    /// </summary>
    /// <param name="tensorIndex">The output's index in the signature.</param>
    /// <param name="currentAddress">The address bound now (by <see cref="IEngineContext.SetTensorAddress"/> or an earlier call).</param>
    /// <param name="bytes">The bytes the output needs in this run.</param>
    /// <param name="alignment">The alignment the engine needs (the runner's buffers are 256-byte aligned).</param>
    /// <param name="stream">The CUDA stream of the run (0 for host engines).</param>
    /// <returns>The address to write to, or 0 when no memory could be provided (the run then fails).</returns>
    nint ReallocateOutput(int tensorIndex, nint currentAddress, long bytes, long alignment, nint stream);

    /// <summary>Reports the output's shape in this run, once the engine knows it.</summary>
    /// <param name="tensorIndex">The output's index in the signature.</param>
    /// <param name="dims">The concrete shape (rank as in the signature).</param>
    void NotifyShape(int tensorIndex, ReadOnlySpan<long> dims);
}
