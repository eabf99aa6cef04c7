using TypedTrt.Manifest;
using TypedTrt.Runtime.Cuda;
using TypedTrt.Runtime.Engine;

namespace TypedTrt.Runtime.Testing;

/// <summary>
/// A device engine made of CUDA C kernels compiled at run time with NVRTC, with exactly known results: for testing
/// and benchmarking the runner on a GPU without TensorRT. Two models:
/// <list type="bullet">
/// <item><see cref="CreateElementwise"/>: inputs <c>a</c>, <c>b</c> (float [batch, width]) and <c>bias</c> (int32 [batch]);
/// outputs <c>sum</c> = a + b, <c>prod</c> = a · b (float [batch, width]), <c>rowdot</c> = Σⱼ a·b + bias (float [batch]) and
/// <c>greater</c> = #{j : a &gt; b} (int64 [batch]). Integer-valued inputs give exact float results.</item>
/// <item><see cref="CreatePipeline"/>: the <c>engine</c> kernel of <c>shared/bench/native-pipeline.cu</c> with the same
/// code and grid (256 threads, configurable blocks): input <c>in</c> float [n_in], output <c>out</c> float [n_out].</item>
/// <item><see cref="CreateBatchedPipeline"/>: the same kernel with a dynamic batch dimension, <c>in</c> float [batch, n_in] →
/// <c>out</c> float [batch, n_out], launched over batch·n_in inputs and batch·n_out outputs: exactly what
/// native-pipeline.cu does when run pre-batched with in and out bytes × batch (for dynamic batching benchmarks).</item>
/// </list>
/// A per-request, recoverable failure: <see cref="FailingBatch"/> makes <see cref="IEngineContext.Enqueue"/> throw for that
/// batch size (host-side, before any launch). Device-side faults (illegal address, trap) are deliberately not offered:
/// they are sticky and corrupt the whole CUDA context.
/// </summary>
public sealed class NvrtcTestEngine : IInferenceEngine
{
    /// <summary>The pipeline kernel, character for character the one in <c>native-pipeline.cu</c>.</summary>
    public const string PipelineKernelSource = """
        extern "C" __global__ void engine(const float* in, float* out, int n_in, int n_out, int iters) {
            int tid = blockIdx.x * blockDim.x + threadIdx.x;
            int stride = gridDim.x * blockDim.x;
            for (int o = tid; o < n_out; o += stride) {
                float acc = 0.f;
                for (int i = o; i < n_in; i += n_out) {
                    float v = in[i];
                    for (int k = 0; k < iters; ++k) v = fmaf(v, 0.999f, 0.001f);
                    acc += v;
                }
                out[o] = acc;
            }
        }
        """;

    private const string ElementwiseSource = """
        extern "C" __global__ void ew(const float* a, const float* b, float* sum, float* prod, int n) {
            for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
                float x = a[i], y = b[i];
                sum[i] = x + y;
                prod[i] = x * y;
            }
        }
        extern "C" __global__ void rows(const float* a, const float* b, const int* bias, float* dot, long long* greater, int width) {
            __shared__ float sdot[256];
            __shared__ int sgt[256];
            int row = blockIdx.x;
            float d = 0.f; int g = 0;
            for (int j = threadIdx.x; j < width; j += blockDim.x) {
                float x = a[row * width + j], y = b[row * width + j];
                d += x * y;
                g += x > y ? 1 : 0;
            }
            sdot[threadIdx.x] = d; sgt[threadIdx.x] = g;
            __syncthreads();
            for (int s = blockDim.x / 2; s > 0; s >>= 1) {
                if (threadIdx.x < s) { sdot[threadIdx.x] += sdot[threadIdx.x + s]; sgt[threadIdx.x] += sgt[threadIdx.x + s]; }
                __syncthreads();
            }
            if (threadIdx.x == 0) { dot[row] = sdot[0] + (float)bias[row]; greater[row] = sgt[0]; }
        }
        """;

    private readonly CudaContext _cuda;
    private readonly CudaModule _module;
    private readonly CudaFunction _ew, _rows, _pipeline;
    private readonly bool _isPipeline;
    private bool _isBatchedPipeline;
    private readonly int _width, _nIn, _nOut, _iters, _blocks;
    private int _disposed;

    private NvrtcTestEngine(int deviceOrdinal, BindingManifest signature, bool isPipeline, int width, int nIn, int nOut, int iters, int blocks, byte[]? ptxImage = null)
    {
        _cuda = CudaContext.RetainPrimary(deviceOrdinal);
        try
        {
            var (major, minor) = CudaDriver.GetComputeCapability(deviceOrdinal);
            string source = isPipeline ? PipelineKernelSource : ElementwiseSource;
            byte[] ptx = ptxImage ?? Nvrtc.CompileToPtx(source, isPipeline ? "pipeline.cu" : "elementwise.cu", $"--gpu-architecture=compute_{major}{minor}");
            _module = _cuda.LoadModule(ptx);
            if (isPipeline)
            {
                _pipeline = _module.GetFunction("engine");
            }
            else
            {
                _ew = _module.GetFunction("ew");
                _rows = _module.GetFunction("rows");
            }
        }
        catch
        {
            _module?.Dispose();
            _cuda.Dispose();
            throw;
        }

        Signature = signature;
        _isPipeline = isPipeline;
        _width = width;
        _nIn = nIn;
        _nOut = nOut;
        _iters = iters;
        _blocks = blocks;
    }

    /// <summary>Creates the element-wise/reduction model with a dynamic batch dimension (profile 0: 1..<paramref name="maxBatch"/>).</summary>
    /// <param name="width">Elements per row (static).</param>
    /// <param name="maxBatch">The profile's largest batch.</param>
    /// <param name="deviceOrdinal">The CUDA device.</param>
    /// <exception cref="CudaUnavailableException">No driver, no device or no NVRTC.</exception>
    public static NvrtcTestEngine CreateElementwise(int width = 64, int maxBatch = 32, int deviceOrdinal = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        var sig = new BindingManifest(
            new ModelSource(ModelKind.TensorRTEngine, "nvrtc-elementwise.engine", new string('0', 64), 1),
            [
                new TensorBinding("a", TensorMode.Input, "float", [-1, width], ["batch", ""]),
                new TensorBinding("b", TensorMode.Input, "float", [-1, width], ["batch", ""]),
                new TensorBinding("bias", TensorMode.Input, "int32", [-1], ["batch"]),
                new TensorBinding("sum", TensorMode.Output, "float", [-1, width], ["batch", ""]),
                new TensorBinding("prod", TensorMode.Output, "float", [-1, width], ["batch", ""]),
                new TensorBinding("rowdot", TensorMode.Output, "float", [-1], ["batch"]),
                new TensorBinding("greater", TensorMode.Output, "int64", [-1], ["batch"]),
            ],
            [new OptimizationProfile([
                new ProfileShape("a", [1, width], [Math.Max(1, maxBatch / 2), width], [maxBatch, width]),
                new ProfileShape("b", [1, width], [Math.Max(1, maxBatch / 2), width], [maxBatch, width]),
                new ProfileShape("bias", [1], [Math.Max(1, maxBatch / 2)], [maxBatch]),
            ])]);
        return new NvrtcTestEngine(deviceOrdinal, sig, isPipeline: false, width, 0, 0, 0, 0);
    }

    /// <summary>Creates the benchmark model: native-pipeline.cu's <c>engine</c> kernel, launched with <paramref name="blocks"/> × 256 threads.</summary>
    /// <param name="inBytes">Input bytes (a multiple of 4).</param>
    /// <param name="outBytes">Output bytes (a multiple of 4).</param>
    /// <param name="iters">FMA iterations per input element.</param>
    /// <param name="blocks">Grid size.</param>
    /// <param name="deviceOrdinal">The CUDA device.</param>
    public static NvrtcTestEngine CreatePipeline(long inBytes = 8 << 20, long outBytes = 64 << 10, int iters = 64, int blocks = 66, int deviceOrdinal = 0) =>
        CreatePipelineCore(inBytes, outBytes, iters, blocks, deviceOrdinal, null);

    /// <summary>
    /// Like <see cref="CreatePipeline"/>, but loads the kernel from a PTX (or cubin) image, e.g. <c>nvcc -ptx</c> of
    /// native-pipeline.cu, so the runner launches exactly the code the native reference runs. The image must contain
    /// an <c>extern "C"</c> kernel named <c>engine</c> with the pipeline's parameters.
    /// </summary>
    public static NvrtcTestEngine CreatePipelineFromImage(byte[] image, long inBytes = 8 << 20, long outBytes = 64 << 10, int iters = 64, int blocks = 66, int deviceOrdinal = 0)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Length == 0 || image[^1] != 0)
            image = [.. image, 0]; // cuModuleLoadData needs NUL-terminated PTX text
        return CreatePipelineCore(inBytes, outBytes, iters, blocks, deviceOrdinal, image);
    }

    private static NvrtcTestEngine CreatePipelineCore(long inBytes, long outBytes, int iters, int blocks, int deviceOrdinal, byte[]? image)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inBytes, 4);
        ArgumentOutOfRangeException.ThrowIfLessThan(outBytes, 4);
        ArgumentOutOfRangeException.ThrowIfLessThan(blocks, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(iters);
        int nIn = checked((int)(inBytes / 4)), nOut = checked((int)(outBytes / 4));
        var sig = new BindingManifest(
            new ModelSource(ModelKind.TensorRTEngine, "nvrtc-pipeline.engine", new string('0', 64), 1),
            [
                new TensorBinding("in", TensorMode.Input, "float", [nIn]),
                new TensorBinding("out", TensorMode.Output, "float", [nOut]),
            ]);
        return new NvrtcTestEngine(deviceOrdinal, sig, isPipeline: true, 0, nIn, nOut, iters, blocks, image);
    }

    /// <summary>
    /// Creates the pipeline kernel with a dynamic batch dimension (profile 0: 1..<paramref name="maxBatch"/>): input
    /// <c>in</c> float [batch, inBytesPerRow/4], output <c>out</c> float [batch, outBytesPerRow/4]. A batch of k rows
    /// launches the kernel over k·n_in inputs and k·n_out outputs with the same grid, like <c>native-pipeline</c> run
    /// with in and out bytes × k. When n_in equals n_out and iters is 0, every output is its own input (row-exact).
    /// </summary>
    /// <param name="inBytesPerRow">Input bytes per row (a multiple of 4).</param>
    /// <param name="outBytesPerRow">Output bytes per row (a multiple of 4).</param>
    /// <param name="iters">FMA iterations per input element.</param>
    /// <param name="blocks">Grid size.</param>
    /// <param name="maxBatch">The profile's largest batch.</param>
    /// <param name="image">Optional PTX or cubin image with the <c>engine</c> kernel (e.g. nvcc -ptx of native-pipeline.cu); null: NVRTC.</param>
    /// <param name="deviceOrdinal">The CUDA device.</param>
    public static NvrtcTestEngine CreateBatchedPipeline(long inBytesPerRow, long outBytesPerRow, int iters, int blocks, int maxBatch, byte[]? image = null, int deviceOrdinal = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inBytesPerRow, 4);
        ArgumentOutOfRangeException.ThrowIfLessThan(outBytesPerRow, 4);
        ArgumentOutOfRangeException.ThrowIfLessThan(blocks, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(iters);
        if (image is not null && (image.Length == 0 || image[^1] != 0))
            image = [.. image, 0];
        int nIn = checked((int)(inBytesPerRow / 4)), nOut = checked((int)(outBytesPerRow / 4));
        var sig = new BindingManifest(
            new ModelSource(ModelKind.TensorRTEngine, "nvrtc-batched-pipeline.engine", new string('0', 64), 1),
            [
                new TensorBinding("in", TensorMode.Input, "float", [-1, nIn], ["batch", ""]),
                new TensorBinding("out", TensorMode.Output, "float", [-1, nOut], ["batch", ""]),
            ],
            [new OptimizationProfile([new ProfileShape("in", [1, nIn], [maxBatch, nIn], [maxBatch, nIn])])]);
        var engine = new NvrtcTestEngine(deviceOrdinal, sig, isPipeline: true, 0, nIn, nOut, iters, blocks, image);
        engine._isBatchedPipeline = true;
        return engine;
    }

    /// <inheritdoc/>
    public BindingManifest Signature { get; }

    /// <inheritdoc/>
    public BufferPlacement Placement => BufferPlacement.Device;

    /// <summary>A batch size for which <see cref="IEngineContext.Enqueue"/> throws <see cref="InvalidOperationException"/> (a per-request failure); <see langword="null"/> for none.</summary>
    public int? FailingBatch { get; set; }

    /// <summary>
    /// A batch size for which the element-wise kernel is launched with an invalid block size, so <c>cuLaunchKernel</c>
    /// fails with the non-sticky <c>CUDA_ERROR_INVALID_VALUE</c> (a real driver error that leaves the context usable);
    /// <see langword="null"/> for none.
    /// </summary>
    public int? InvalidLaunchBatch { get; set; }

    /// <summary>Number of enqueues so far (all contexts).</summary>
    public long Enqueues => Interlocked.Read(ref _enqueues);

    private long _enqueues;

    /// <inheritdoc/>
    public IEngineContext CreateContext()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return new Context(this);
    }

    /// <summary>Unloads the module and releases the primary context reference.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _module.Dispose();
        _cuda.Dispose();
    }

    /// <summary>CPU reference of the pipeline kernel (same operation order, so results are bit-identical).</summary>
    public static void PipelineReference(ReadOnlySpan<float> input, Span<float> output, int iters)
    {
        int nOut = output.Length;
        for (int o = 0; o < nOut; o++)
        {
            float acc = 0f;
            for (int i = o; i < input.Length; i += nOut)
            {
                float v = input[i];
                for (int k = 0; k < iters; k++)
                    v = MathF.FusedMultiplyAdd(v, 0.999f, 0.001f);
                acc += v;
            }

            output[o] = acc;
        }
    }

    private sealed unsafe class Context(NvrtcTestEngine engine) : IEngineContext
    {
        private readonly nint[] _addr = new nint[7];
        private readonly long[] _cap = new long[7];
        private readonly long[] _batch = [-1, -1, -1];
        private bool _disposed;

        public void SetOptimizationProfile(int profileIndex, nint stream) =>
            ArgumentOutOfRangeException.ThrowIfNotEqual(profileIndex, 0);

        public void SetInputShape(int tensorIndex, ReadOnlySpan<long> dims)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if ((engine._isPipeline && !(engine._isBatchedPipeline && tensorIndex == 0)) || tensorIndex > 2)
                throw new ArgumentException($"Tensor {tensorIndex} has no dynamic dimensions.", nameof(tensorIndex));
            _batch[tensorIndex] = dims[0];
        }

        public int GetTensorShape(int tensorIndex, Span<long> dims)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (engine._isBatchedPipeline)
            {
                dims[0] = _batch[0];
                dims[1] = tensorIndex == 0 ? engine._nIn : engine._nOut;
                return 2;
            }

            if (engine._isPipeline)
            {
                dims[0] = tensorIndex == 0 ? engine._nIn : engine._nOut;
                return 1;
            }

            long batch = _batch[0];
            switch (tensorIndex)
            {
                case 0 or 1 or 3 or 4:
                    dims[0] = tensorIndex < 3 ? _batch[tensorIndex] : batch;
                    dims[1] = engine._width;
                    return 2;
                case 2 or 5 or 6:
                    dims[0] = tensorIndex == 2 ? _batch[2] : batch;
                    return 1;
                default:
                    throw new ArgumentOutOfRangeException(nameof(tensorIndex));
            }
        }

        public void SetTensorAddress(int tensorIndex, nint address, long capacityBytes)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (address % 256 != 0)
                throw new ArgumentException("Tensor addresses must be 256-byte aligned.", nameof(address));
            _addr[tensorIndex] = address;
            _cap[tensorIndex] = capacityBytes;
        }

        public void Enqueue(nint stream)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (stream == 0)
                throw new ArgumentException("Device engines need a non-default stream.", nameof(stream));
            Interlocked.Increment(ref engine._enqueues);
            if (engine._isPipeline)
            {
                ulong pin = (ulong)_addr[0], pout = (ulong)_addr[1];
                long k = engine._isBatchedPipeline ? _batch[0] : 1;
                if (k < 1)
                    throw new InvalidOperationException("The batched pipeline's input has no shape; set it first.");
                int nIn = checked((int)(engine._nIn * k)), nOut = checked((int)(engine._nOut * k)), iters = engine._iters;
                nint* args = stackalloc nint[] { (nint)(&pin), (nint)(&pout), (nint)(&nIn), (nint)(&nOut), (nint)(&iters) };
                engine._pipeline.Launch((uint)engine._blocks, 256, stream, new ReadOnlySpan<nint>(args, 5));
                return;
            }

            long batch = _batch[0];
            if (batch < 1 || _batch[1] != batch || _batch[2] != batch)
                throw new InvalidOperationException($"Inputs disagree on the batch size: a={_batch[0]}, b={_batch[1]}, bias={_batch[2]}.");
            if (engine.FailingBatch == batch)
                throw new InvalidOperationException($"Injected failure: batch size {batch} is the engine's FailingBatch.");
            int n = checked((int)batch * engine._width);
            int width = engine._width;
            if (n * 4L > _cap[0] || n * 4L > _cap[3] || batch * 8 > _cap[6])
                throw new InvalidOperationException("A buffer is smaller than the batch needs.");
            ulong a = (ulong)_addr[0], b = (ulong)_addr[1], bias = (ulong)_addr[2], sum = (ulong)_addr[3], prod = (ulong)_addr[4], dot = (ulong)_addr[5], gt = (ulong)_addr[6];
            nint* ew = stackalloc nint[] { (nint)(&a), (nint)(&b), (nint)(&sum), (nint)(&prod), (nint)(&n) };
            uint block = engine.InvalidLaunchBatch == batch ? 4096u : 256u; // > 1024 threads per block: CUDA_ERROR_INVALID_VALUE
            engine._ew.Launch((uint)Math.Min((n + 255) / 256, 1024), block, stream, new ReadOnlySpan<nint>(ew, 5));
            nint* rows = stackalloc nint[] { (nint)(&a), (nint)(&b), (nint)(&bias), (nint)(&dot), (nint)(&gt), (nint)(&width) };
            engine._rows.Launch((uint)batch, 256, stream, new ReadOnlySpan<nint>(rows, 6));
        }

        public void Dispose() => _disposed = true;
    }
}
