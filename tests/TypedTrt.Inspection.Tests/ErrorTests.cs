using static TypedTrt.Inspection.Tests.OnnxWriter;

namespace TypedTrt.Inspection.Tests;

public class ErrorTests
{
    private static ModelInspectionException Fails(string path)
    {
        var e = Assert.Throws<ModelInspectionException>(() => ModelInspector.Inspect(path));
        Assert.Equal(path, e.FilePath);
        Assert.StartsWith(path + ": ", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        return e;
    }

    [Fact]
    public void Missing_file() => Assert.Contains("file not found", Fails(Path.Combine(Path.GetTempPath(), "no-such-model.onnx")).Reason, StringComparison.Ordinal);

    [Fact]
    public void Directory()
    {
        using var dir = new TempDir();
        Assert.Contains("is a directory", Fails(dir.Path).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_file()
    {
        using var dir = new TempDir();
        Assert.Contains("empty", Fails(dir.Write("e.onnx", [])).Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.9)]
    [InlineData(0.1)]
    public void Truncated_model(double keep)
    {
        using var dir = new TempDir();
        byte[] all = File.ReadAllBytes(TestPaths.Model("multi_io.onnx"));
        var e = Fails(dir.Write("t.onnx", all[..(int)(all.Length * keep)]));
        Assert.Contains("not a valid ONNX model", e.Reason, StringComparison.Ordinal);
        Assert.Contains("truncated", e.Reason, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Truncated_inside_skipped_weights_is_detected()
    {
        using var dir = new TempDir();
        byte[] all = ToBytes(Model(Input("x", 1, 2), Initializer("w", 100_000), Output("y", 1, 2)));
        var e = Fails(dir.Write("t.onnx", all[..50_000]));
        Assert.Contains("truncated", e.Reason, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Corrupt_protobuf()
    {
        using var dir = new TempDir();
        byte[] all = File.ReadAllBytes(TestPaths.Model("int64_io.onnx"));
        // An invalid wire type (7) where the graph's tag is expected.
        int graphTag = Array.IndexOf(all, (byte)0x3A);
        all[graphTag] = 0x3F;
        var e = Fails(dir.Write("c.onnx", all));
        Assert.Contains("not a valid ONNX model", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Random_bytes()
    {
        using var dir = new TempDir();
        var rng = new Random(42);
        for (int i = 0; i < 20; i++)
        {
            byte[] data = new byte[rng.Next(1, 5000)];
            rng.NextBytes(data);
            var e = Fails(dir.Write($"r{i}.bin", data));
            Assert.Contains("not a model", e.Reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Text_file_named_onnx()
    {
        using var dir = new TempDir();
        var e = Fails(dir.Write("readme.onnx", "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 12\n"u8.ToArray()));
        Assert.Contains("not a model: it is a text file", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Png_image()
    {
        using var dir = new TempDir();
        byte[] png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52];
        Assert.Contains("PNG image", Fails(dir.Write("cat.onnx", png)).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Zip_file_is_probably_a_pytorch_checkpoint()
    {
        using var dir = new TempDir();
        Assert.Contains("PyTorch", Fails(dir.Write("model.pt", "PK\x03\x04rest"u8.ToArray())).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Valid_protobuf_that_is_not_an_onnx_model()
    {
        using var dir = new TempDir();
        var e = Fails(dir.Write("other.onnx", ToBytes(new Varint(1, 8), new Str(2, "no graph here"))));
        Assert.Contains("no ONNX graph", e.Reason, StringComparison.Ordinal);
    }
}

public class FuzzTests
{
    public static TheoryData<string> Models() => new(Directory.GetFiles(TestPaths.Models, "*.onnx").Select(Path.GetFileName).Order(StringComparer.Ordinal)!);

    /// <summary>Corrupted models either still inspect or fail with a <see cref="ModelInspectionException"/>, never anything else.</summary>
    [Theory]
    [MemberData(nameof(Models))]
    public void Corrupted_models_fail_only_with_inspection_errors(string name)
    {
        using var dir = new TempDir();
        byte[] original = File.ReadAllBytes(TestPaths.Model(name));
        var rng = new Random(name.Length * 7919);
        int failures = 0;
        for (int i = 0; i < 150; i++)
        {
            byte[] bytes = (byte[])original.Clone();
            int edits = rng.Next(1, 4);
            for (int k = 0; k < edits; k++)
            {
                int at = rng.Next(bytes.Length);
                bytes[at] = rng.Next(3) switch { 0 => (byte)rng.Next(256), 1 => (byte)(bytes[at] ^ (1 << rng.Next(8))), _ => 0xFF };
            }

            if (rng.Next(4) == 0)
                bytes = bytes[..rng.Next(1, bytes.Length)];
            string path = dir.Write($"f{i}.onnx", bytes);
            try
            {
                ModelInspector.Inspect(path);
            }
            catch (ModelInspectionException e)
            {
                failures++;
                Assert.StartsWith(path + ": ", e.Message, StringComparison.Ordinal);
            }
        }

        Assert.True(failures > 0, "no corruption was detected at all");
    }
}
