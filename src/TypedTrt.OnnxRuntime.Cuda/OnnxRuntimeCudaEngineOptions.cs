using Microsoft.ML.OnnxRuntime;

namespace TypedTrt.OnnxRuntime.Cuda;

/// <summary>Options of an <see cref="OnnxRuntimeCudaEngine"/>.</summary>
public sealed class OnnxRuntimeCudaEngineOptions
{
    /// <summary>
    /// The CUDA device ONNX Runtime runs on. Default 0. It must be the runner's device
    /// (<c>InferenceRunnerOptions.DeviceOrdinal</c>): the runner's streams and buffers live there.
    /// </summary>
    public int DeviceId { get; init; }

    /// <summary>Graph optimization level of each session. Default: all optimizations.</summary>
    public GraphOptimizationLevel OptimizationLevel { get; init; } = GraphOptimizationLevel.ORT_ENABLE_ALL;

    /// <summary>
    /// Let ONNX Runtime capture each session's kernels into a CUDA graph and replay it (the CUDA provider's
    /// <c>enable_cuda_graph</c>): its second run on a slot captures, later runs replay. Needs static input shapes and
    /// every node on the CUDA provider (session creation fails with ONNX Runtime's reason otherwise). The runner's copies
    /// stay outside the graph. ONNX Runtime keeps graph state per calling thread, so each session then runs on its own
    /// thread, and a slot's first request does the regular and the capture run back to back, one slot at a time. Run
    /// <c>InferenceRunner.WarmUpAsync</c> before traffic, so that no capture meets other slots' work in flight (a
    /// capture in ONNX Runtime's global capture mode fails if another thread queries or allocates meanwhile). Default off.
    /// </summary>
    public bool CudaGraph { get; init; }

    /// <summary>
    /// Make every run wait for its GPU work before returning (ONNX Runtime's default for a plain <c>Run</c>). Default
    /// <see langword="false"/>: runs only enqueue their kernels on the slot's stream (run option
    /// <c>disable_synchronize_execution_providers</c>), and the runner's completion event after the output copies
    /// tells when the request is done, so the calling thread is free while the GPU works.
    /// </summary>
    public bool SynchronizeRuns { get; init; }

    /// <summary>
    /// Extra CUDA provider options, passed to ONNX Runtime as they are (e.g. <c>cudnn_conv_algo_search</c> =
    /// <c>HEURISTIC</c>, <c>gpu_mem_limit</c>, <c>prefer_nhwc</c>, <c>use_tf32</c>). <c>device_id</c>,
    /// <c>has_user_compute_stream</c>, <c>user_compute_stream</c> and <c>enable_cuda_graph</c> are set by the backend
    /// and cannot be given here. Default: <c>arena_extend_strategy</c> = <c>kSameAsRequested</c> (each slot's arena
    /// grows by what it needs, not to the next power of two).
    /// </summary>
    public IReadOnlyDictionary<string, string> CudaProviderOptions { get; init; } =
        new Dictionary<string, string> { ["arena_extend_strategy"] = "kSameAsRequested" };

    /// <summary>
    /// Called for every session (one per runner slot) before the backend appends the CUDA provider, with the slot's
    /// stream: the hook for session settings the backend does not expose (profiling, logging, config entries) and for
    /// execution providers that must come before CUDA, such as ONNX Runtime's TensorRT provider
    /// (<c>AppendExecutionProvider_Tensorrt</c> with <c>user_compute_stream</c> = <see cref="OnnxRuntimeCudaSession.Stream"/>).
    /// </summary>
    public Action<SessionOptions, OnnxRuntimeCudaSession>? ConfigureSession { get; init; }

    /// <summary>Skip <see cref="OnnxRuntimeCudaAvailability"/>'s check of the CUDA libraries before loading (for unusual layouts that the check cannot see). Default <see langword="false"/>.</summary>
    public bool SkipAvailabilityCheck { get; init; }
}

/// <summary>What <see cref="OnnxRuntimeCudaEngineOptions.ConfigureSession"/> is told about the session being created.</summary>
/// <param name="Stream">The runner slot's CUDA stream (a <c>cudaStream_t</c>/<c>CUstream</c>), which the session computes on.</param>
/// <param name="DeviceId">The CUDA device.</param>
/// <param name="SessionIndex">0 for the engine's first session, then 1, 2, ... (one per runner slot).</param>
public readonly record struct OnnxRuntimeCudaSession(nint Stream, int DeviceId, int SessionIndex);
