using System.Diagnostics;
using System.Globalization;
using Google.Protobuf;
using TypedTrt.Inspection;
using TypedTrt.Inspection.Tests;
using static TypedTrt.Inspection.Tests.OnnxWriter;

// Inspects an ONNX model with ~1 GB of embedded initializers and one with external data, and prints how long it
// took, how much memory it used and how many bytes it read from the file.
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
long gib = args.Length > 0 ? long.Parse(args[0], CultureInfo.InvariantCulture) : 1024;
string dir = Path.Combine(Path.GetTempPath(), "typedtrt-bench-" + Environment.ProcessId);
Directory.CreateDirectory(dir);
try
{
    const int initializers = 16;
    long each = (gib << 20) / initializers;
    var graph = new List<Part> { Input("images", 1, "batch", 3, 224, 224) };
    var external = new List<Part> { Input("images", 1, "batch", 3, 224, 224) };
    for (int i = 0; i < initializers; i++)
    {
        graph.Add(Initializer($"layer{i}.weight", each));
        graph.Add(Node("MatMul", [i == 0 ? "images" : $"h{i - 1}", $"layer{i}.weight"], [$"h{i}"]));
        external.Add(ExternalInitializer($"layer{i}.weight", "big.onnx.data", i * each, each));
        external.Add(Node("MatMul", [i == 0 ? "images" : $"h{i - 1}", $"layer{i}.weight"], [$"h{i}"]));
    }

    graph.Add(Output("logits", 1, "batch", 1000));
    external.Add(Output("logits", 1, "batch", 1000));

    string big = Path.Combine(dir, "big.onnx");
    var sw = Stopwatch.StartNew();
    using (var fs = new FileStream(big, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        Write(fs, Model([.. graph]));
    Console.WriteLine($"wrote {big}: {new FileInfo(big).Length:N0} bytes in {sw.Elapsed.TotalSeconds:F1} s");

    string ext = Path.Combine(dir, "external.onnx");
    File.WriteAllBytes(ext, ToBytes(Model([.. external])));
    using (var data = new FileStream(Path.Combine(dir, "big.onnx.data"), FileMode.Create))
        data.SetLength(initializers * each);
    Console.WriteLine($"wrote {ext}: {new FileInfo(ext).Length:N0} bytes (+ {initializers * each:N0}-byte external data file)");

    Console.WriteLine();
    foreach (string path in new[] { big, ext })
        Measure(path, ext);
    using (var self = Process.GetCurrentProcess())
        Console.WriteLine($"peak working set so far (writing the 1 GiB model included): {self.PeakWorkingSet64 / (1 << 20):N0} MiB");
    Console.WriteLine();

    // Many small nodes (a large transformer has tens of thousands) and small initializers.
    string nodes = Path.Combine(dir, "many_nodes.onnx");
    var manyNodes = new List<Part> { Input("x", 1, "batch", 64) };
    for (int i = 0; i < 100_000; i++)
    {
        manyNodes.Add(Node("Add", [i == 0 ? "x" : $"t{i - 1}", $"b{i % 1000}"], [$"t{i}"]));
        if (i < 1000)
            manyNodes.Add(Initializer($"b{i}", 256));
    }

    manyNodes.Add(Output("y", 1, "batch", 64));
    File.WriteAllBytes(nodes, ToBytes(Model([.. manyNodes])));
    Console.WriteLine($"wrote {nodes}: {new FileInfo(nodes).Length:N0} bytes (100,000 nodes, 1,000 small initializers)");

    Measure(nodes, ext);

    static void Measure(string path, string warmup)
    {
        // Warm-up (JIT, page cache), then measure.
        Parse(warmup);
        Parse(path);
        var r = Parse(path);
        Console.WriteLine($"{Path.GetFileName(path)}: OnnxReader.Read (the signature, weights skipped)");
        Console.WriteLine($"  time {r.Ms:F2} ms, read {r.BytesRead:N0} of {new FileInfo(path).Length:N0} bytes in {r.Calls} reads, GC allocated {r.Allocated:N0} bytes, inputs {r.Inputs}, initializers {r.Initializers}");

        long before = GC.GetAllocatedBytesForCurrentThread();
        var sw = Stopwatch.StartNew();
        var manifest = ModelInspector.Inspect(path);
        double ms = sw.Elapsed.TotalMilliseconds;
        Console.WriteLine($"  ModelInspector.Inspect (also SHA-256 of the whole file for the manifest): {ms:F1} ms, GC allocated {GC.GetAllocatedBytesForCurrentThread() - before:N0} bytes, {manifest.Tensors.Count} tensors");
    }

    // For comparison: the same walk with CodedInputStream.SkipLastField, which reads what it skips.
    using (var counting = new CountingStream(new FileStream(big, FileMode.Open, FileAccess.Read, FileShare.Read, 0)))
    {
        sw.Restart();
        var cis = new CodedInputStream(counting, leaveOpen: true);
        while (cis.ReadTag() != 0)
            cis.SkipLastField();
        Console.WriteLine();
        Console.WriteLine($"for comparison, CodedInputStream.SkipLastField over big.onnx: {sw.Elapsed.TotalMilliseconds:F0} ms, read {counting.BytesRead:N0} bytes");
    }
}
finally
{
    Directory.Delete(dir, true);
}

static (double Ms, long BytesRead, int Calls, long Allocated, int Inputs, int Initializers) Parse(string path)
{
    long before = GC.GetAllocatedBytesForCurrentThread();
    var sw = Stopwatch.StartNew();
    using var counting = new CountingStream(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 0));
    var model = OnnxReader.Read(counting);
    double ms = sw.Elapsed.TotalMilliseconds;
    return (ms, counting.BytesRead, counting.ReadCalls, GC.GetAllocatedBytesForCurrentThread() - before, model.Inputs.Count, model.InitializerNames.Count);
}
