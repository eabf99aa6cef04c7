using TypedTrt.Manifest;
using TypedTrt.Runtime.Engine;

namespace TypedTrt.Serving.KServe.Tests.Engines;

/// <summary>
/// A host engine with one input and one output per dtype the protocol carries: input <c>in_&lt;dtype&gt;</c> [n, 3] is
/// copied byte for byte to output <c>out_&lt;dtype&gt;</c>, so every dtype's round trip through the server is exact.
/// Profile 0: n in 1..8 for each input independently.
/// </summary>
internal sealed class EchoEngine : IInferenceEngine
{
    public static readonly string[] DTypes = ["float", "half", "bf16", "int8", "int32", "int64", "uint8", "bool"];
    public const int Width = 3;
    public const int MaxRows = 8;

    public BindingManifest Signature { get; } = CreateSignature();

    public BufferPlacement Placement => BufferPlacement.Host;

    public static BindingManifest CreateSignature()
    {
        var tensors = new List<TensorBinding>();
        foreach (var d in DTypes)
            tensors.Add(new TensorBinding("in_" + d, TensorMode.Input, d, [-1, Width], ["n_" + d, ""]));
        foreach (var d in DTypes)
            tensors.Add(new TensorBinding("out_" + d, TensorMode.Output, d, [-1, Width], ["n_" + d, ""]));
        var profile = new OptimizationProfile(DTypes.Select(d => new ProfileShape("in_" + d, [1, Width], [2, Width], [MaxRows, Width])));
        return new BindingManifest(new ModelSource(ModelKind.TensorRTEngine, "echo.engine", new string('1', 64), 1), tensors, [profile]);
    }

    public IEngineContext CreateContext() => new Context(this);

    public void Dispose()
    {
    }

    private sealed unsafe class Context(EchoEngine engine) : IEngineContext
    {
        private readonly long[] _rows = Enumerable.Repeat(1L, DTypes.Length).ToArray();
        private readonly nint[] _addr = new nint[DTypes.Length * 2];

        public void SetOptimizationProfile(int profileIndex, nint stream)
        {
        }

        public void SetInputShape(int tensorIndex, ReadOnlySpan<long> dims) => _rows[tensorIndex] = dims[0];

        public int GetTensorShape(int tensorIndex, Span<long> dims)
        {
            dims[0] = _rows[tensorIndex % DTypes.Length];
            dims[1] = Width;
            return 2;
        }

        public void SetTensorAddress(int tensorIndex, nint address, long capacityBytes) => _addr[tensorIndex] = address;

        public void Enqueue(nint stream)
        {
            for (int i = 0; i < DTypes.Length; i++)
            {
                var b = engine.Signature.Tensors[i];
                long bytes = b.GetByteCount([_rows[i], Width]);
                new ReadOnlySpan<byte>((void*)_addr[i], (int)bytes).CopyTo(new Span<byte>((void*)_addr[i + DTypes.Length], (int)bytes));
            }
        }

        public void Dispose()
        {
        }
    }
}
