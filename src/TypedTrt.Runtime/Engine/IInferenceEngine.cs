using TypedTrt.Manifest;

namespace TypedTrt.Runtime.Engine;

/// <summary>Where an engine's execution contexts expect tensor addresses to point.</summary>
public enum BufferPlacement
{
    /// <summary>Device (GPU) memory: the runner copies inputs host→device and outputs device→host around each enqueue.</summary>
    Device,

    /// <summary>Host memory: the runner binds the slot's host buffers directly (CPU backends such as ONNX Runtime).</summary>
    Host,
}

/// <summary>
/// An inference engine shaped like TensorRT's execution model: one immutable engine with a binding signature that
/// creates any number of execution contexts (one per stream). Implementations: TensorRT, the NVRTC test engine,
/// ONNX Runtime, test fakes. Thread-safety: <see cref="CreateContext"/> may be called from any thread; the engine must
/// outlive its contexts.
/// </summary>
public interface IInferenceEngine : IDisposable
{
    /// <summary>The engine's inputs, outputs and optimization profiles. Tensor indices used by contexts index <see cref="BindingManifest.Tensors"/>.</summary>
    BindingManifest Signature { get; }

    /// <summary>Where contexts expect tensor memory.</summary>
    BufferPlacement Placement { get; }

    /// <summary>Creates an execution context (TensorRT's <c>IExecutionContext</c>), initially on optimization profile 0.</summary>
    IEngineContext CreateContext();
}

/// <summary>
/// One execution context: per-stream state (resolved shapes, tensor addresses, activation memory). Never used by two
/// threads at once; the runner gives each slot its own context.
/// </summary>
public interface IEngineContext : IDisposable
{
    /// <summary>Selects the optimization profile (before input shapes are set). <paramref name="stream"/> is a CUDA stream handle, or 0 for host engines.</summary>
    void SetOptimizationProfile(int profileIndex, nint stream);

    /// <summary>Sets the concrete shape of an input with dynamic dimensions.</summary>
    /// <param name="tensorIndex">Index into <see cref="IInferenceEngine.Signature"/>'s tensors.</param>
    /// <param name="dims">The concrete dimensions (rank must match).</param>
    void SetInputShape(int tensorIndex, ReadOnlySpan<long> dims);

    /// <summary>Writes the resolved shape of a tensor (outputs resolve once all input shapes are set).</summary>
    /// <returns>The rank written into <paramref name="dims"/>.</returns>
    int GetTensorShape(int tensorIndex, Span<long> dims);

    /// <summary>Binds a tensor to memory: a device address for <see cref="BufferPlacement.Device"/>, a host address for <see cref="BufferPlacement.Host"/>. Addresses are 256-byte aligned.</summary>
    /// <param name="tensorIndex">Index into the signature's tensors.</param>
    /// <param name="address">The buffer's address.</param>
    /// <param name="capacityBytes">The buffer's size, so host engines can wrap it safely.</param>
    void SetTensorAddress(int tensorIndex, nint address, long capacityBytes);

    /// <summary>
    /// Lets the engine size an output at run time: for an output whose resolved shape still has unresolved (-1) dims
    /// once every input shape is set, the engine calls <paramref name="allocator"/> during <see cref="Enqueue"/> for
    /// memory of the size it needs and for the shape (TensorRT's <c>setOutputAllocator</c>). <see langword="null"/>
    /// removes it. Engines that cannot do this keep the default, which throws.
    /// </summary>
    /// <param name="tensorIndex">An output's index in the signature.</param>
    /// <param name="allocator">The allocator, or <see langword="null"/>.</param>
    /// <exception cref="NotSupportedException">The engine cannot size outputs at run time.</exception>
    void SetOutputAllocator(int tensorIndex, IOutputAllocator? allocator) =>
        throw new NotSupportedException(
            $"This engine ({GetType().Name}) cannot size output {tensorIndex} at run time; its shape must follow from the input shapes.");

    /// <summary>
    /// Runs inference. Device engines enqueue asynchronous work on <paramref name="stream"/> (a non-default CUDA stream)
    /// and return; host engines compute synchronously (stream is 0). Throws on failure with the backend's error text.
    /// </summary>
    void Enqueue(nint stream);
}
