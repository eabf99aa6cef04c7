using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TypedTrt.Inspection;
using TypedTrt.Manifest;
using TypedTrt.OnnxRuntime;
using TypedTrt.Runtime;

// The ONNX Runtime backend against raw ONNX Runtime on the same model, inputs and session settings (one intra-op
// thread, sequential, all graph optimizations), in one process. Rounds of each variant are interleaved (order rotated
// per round) so machine
// noise hits all of them alike; the table gives the median of the rounds' mean time per call and the bytes allocated
// per call (GC.GetTotalAllocatedBytes, precise, so work on other threads counts too).
//   raw RunWithBinding    ORT's fastest path: inputs and outputs pre-bound once (OrtIoBinding over native memory)
//   raw Run(NamedOnnxValue) ORT's classic API: new input/output tensors every call
//   lease (inline)        TypedTrt's lease: acquire, copy the input into the slot, RunAsync, read an output, dispose
//   lease (thread pool)   the same with HostExecution.ThreadPool (what every host request did before issue 11)
//   RunAsync(inputs)      TypedTrt's convenience path (copies in, returns owned arrays)
int rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 15;
int calls = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2000;
string dir = Path.Combine(AppContext.BaseDirectory, "models");
Console.WriteLine($"# ONNX Runtime backend vs raw ONNX Runtime: {rounds} rounds x {calls} calls, .NET {Environment.Version}, {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}");
Console.WriteLine($"# ORT {typeof(InferenceSession).Assembly.GetName().Version}");
Console.WriteLine();
Console.WriteLine("| model | variant | µs/call median | × RunWithBinding (median) | × Run(NamedOnnxValue) (median) | µs/call best round | × RunWithBinding (best) | × Run(NamedOnnxValue) (best) | B/call |");
Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
await Bench.RunModel(Path.Combine(dir, "uint8_bool.onnx"), "uint8_bool (static [1,3,16,16] u8)", [], rounds, calls);
await Bench.RunModel(Path.Combine(dir, "digits.onnx"), "digits (batch 1 of 1..32)", ["batch=1..32:8"], rounds, calls, batch: 1);

internal static class Bench
{
    public static async Task RunModel(string path, string label, string[] profile, int rounds, int calls, int batch = 0)
    {
        var signature = ModelInspector.Inspect(path, new InspectionOptions { Profiles = ProfileSpec.ParseAll(profile) });
        var input = signature.Inputs.Single();
        var outputs = signature.Outputs.ToArray();
        long[] inShape = input.Shape.Select(d => d < 0 ? batch : d).ToArray();
        int inIndex = signature.Tensors.ToList().IndexOf(input);
        int outIndex = signature.Tensors.ToList().IndexOf(outputs[^1]);
        long inBytes = input.GetByteCount(inShape);
        byte[] inputData = new byte[inBytes];
        new Random(1).NextBytes(inputData);
        if (input.DataType == TensorDataType.Float)
        {
            var f = MemoryMarshal.Cast<byte, float>(inputData);
            for (int i = 0; i < f.Length; i++)
                f[i] = (i % 17) / 16f;
        }

        // Raw ORT, same settings as the engine's defaults.
        using var so = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var session = new InferenceSession(path, so);
        var elem = ToOrt(input.DataType);
        nint inMem = Alloc(inBytes);
        Copy(inputData, inMem);
        var outMem = new List<nint>();
        using var binding = session.CreateIoBinding();
        using var runOptions = new RunOptions();
        using var inValue = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, elem, inShape, inMem, inBytes);
        binding.BindInput(input.Name, inValue);
        var outValues = new List<OrtValue>();
        foreach (var o in outputs)
        {
            long[] shape = o.Shape.Select(d => d < 0 ? batch : d).ToArray();
            long bytes = o.GetByteCount(shape);
            nint mem = Alloc(bytes);
            outMem.Add(mem);
            var v = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, ToOrt(o.DataType), shape, mem, bytes);
            outValues.Add(v);
            binding.BindOutput(o.Name, v);
        }

        void RawBinding()
        {
            for (int i = 0; i < calls; i++)
            {
                Copy(inputData, inMem); // the same copy the lease does
                session.RunWithBinding(runOptions, binding);
            }
        }

        int[] inDims = inShape.Select(static d => (int)d).ToArray();
        void RawClassic()
        {
            for (int i = 0; i < calls; i++)
            {
                NamedOnnxValue v = input.DataType switch
                {
                    TensorDataType.UInt8 => NamedOnnxValue.CreateFromTensor(input.Name, new DenseTensor<byte>(inputData.ToArray(), inDims)),
                    _ => NamedOnnxValue.CreateFromTensor(input.Name, new DenseTensor<float>(MemoryMarshal.Cast<byte, float>(inputData).ToArray(), inDims)),
                };
                using var r = session.Run([v]);
            }
        }

        using var engine = OnnxRuntimeEngine.Load(path, signature);
        await using var inline = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 1 });
        await using var pooled = new InferenceRunner(engine, new InferenceRunnerOptions { Streams = 1, HostExecution = HostExecution.ThreadPool });
        async Task Lease(InferenceRunner runner)
        {
            for (int i = 0; i < calls; i++)
            {
                using var lease = await runner.AcquireAsync().ConfigureAwait(false);
                if (batch > 0)
                    lease.SetInputShape(inIndex, inShape);
                inputData.CopyTo(lease.GetInputSpan<byte>(inIndex));
                await lease.RunAsync().ConfigureAwait(false);
                _ = lease.GetOutputSpan<byte>(outIndex)[0];
            }
        }

        var inputs = new[] { new InferenceInput(inIndex, inputData, batch > 0 ? inShape : default) };
        async Task Convenience()
        {
            for (int i = 0; i < calls; i++)
                _ = await inline.RunAsync(inputs).ConfigureAwait(false);
        }

        var variants = new (string Name, Func<Task> Run)[]
        {
            ("raw RunWithBinding", () => { RawBinding(); return Task.CompletedTask; }),
            ("raw Run(NamedOnnxValue)", () => { RawClassic(); return Task.CompletedTask; }),
            ("lease (inline)", () => Lease(inline)),
            ("lease (thread pool)", () => Lease(pooled)),
            ("RunAsync(inputs)", Convenience),
        };
        var times = variants.Select(_ => new List<double>()).ToArray();
        var allocs = variants.Select(_ => new List<double>()).ToArray();
        foreach (var v in variants)
            await v.Run(); // warm-up (JIT, ORT arenas, slot buffers)
        for (int r = 0; r < rounds; r++)
        {
            for (int j = 0; j < variants.Length; j++)
            {
                int k = (j + r) % variants.Length; // rotate the order so no variant always runs after the same one
                long a0 = GC.GetTotalAllocatedBytes(precise: true);
                long t0 = Stopwatch.GetTimestamp();
                await variants[k].Run();
                double us = Stopwatch.GetElapsedTime(t0).TotalMicroseconds / calls;
                long a1 = GC.GetTotalAllocatedBytes(precise: true);
                times[k].Add(us);
                allocs[k].Add((a1 - a0) / (double)calls);
            }
        }

        double Median(List<double> x)
        {
            var s = x.Order().ToArray();
            return s[s.Length / 2];
        }

        // The best round is the least disturbed by other processes (a shared machine); the median shows the spread.
        double bindingUs = Median(times[0]), classicUs = Median(times[1]);
        double bindingMin = times[0].Min(), classicMin = times[1].Min();
        for (int k = 0; k < variants.Length; k++)
        {
            double us = Median(times[k]), min = times[k].Min();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {label} | {variants[k].Name} | {us:F2} | {us / bindingUs:F3} | {us / classicUs:F3} | {min:F2} | {min / bindingMin:F3} | {min / classicMin:F3} | {Median(allocs[k]):F1} |"));
        }

        foreach (var v in outValues)
            v.Dispose();
        foreach (var m in outMem)
            Free(m);
        Free(inMem);
    }

    private static unsafe nint Alloc(long bytes) => (nint)NativeMemory.AlignedAlloc((nuint)Math.Max(bytes, 1), 256);

    private static unsafe void Free(nint p) => NativeMemory.AlignedFree((void*)p);

    private static unsafe void Copy(byte[] src, nint dst) => src.CopyTo(new Span<byte>((void*)dst, src.Length));

    private static TensorElementType ToOrt(TensorDataType t) => t switch
    {
        TensorDataType.Float => TensorElementType.Float,
        TensorDataType.UInt8 => TensorElementType.UInt8,
        TensorDataType.Bool => TensorElementType.Bool,
        TensorDataType.Int64 => TensorElementType.Int64,
        _ => throw new NotSupportedException(t.ToString()),
    };
}
