using System.Buffers.Binary;
using System.Text;
using TypedTrt.Manifest;

namespace TypedTrt.Inspection.Tests;

public class PlanTests
{
    /// <summary>A fake plan: the magic, filler, the version in bytes 24..27, then a body.</summary>
    internal static byte[] Plan(byte major = 10, byte minor = 3, byte patch = 0, byte build = 26, int body = 200)
    {
        byte[] plan = new byte[28 + body];
        BinaryPrimitives.WriteUInt32LittleEndian(plan, PlanHeader.Magic);
        plan[24] = major;
        plan[25] = minor;
        plan[26] = patch;
        plan[27] = build;
        for (int i = 28; i < plan.Length; i++)
            plan[i] = (byte)(i * 7);
        return plan;
    }

    internal static byte[] Ultralytics(string json, byte[] plan)
    {
        byte[] j = Encoding.UTF8.GetBytes(json);
        byte[] all = new byte[4 + j.Length + plan.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(all, (uint)j.Length);
        j.CopyTo(all, 4);
        plan.CopyTo(all, 4 + j.Length);
        return all;
    }

    internal static BindingManifest SidecarFor(string enginePath, string? sha = null) => new(
        new ModelSource(ModelKind.TensorRTEngine, Path.GetFileName(enginePath), sha ?? ManifestSerializer.ComputeSha256(enginePath),
            new FileInfo(enginePath).Length, tensorRTVersion: "10.3.0.26"),
        [
            new TensorBinding("images", TensorMode.Input, "half", [-1, 3, 640, 640], ["batch", "", "", ""], new EngineTensorLayout()),
            new TensorBinding("output0", TensorMode.Output, "half", [-1, 84, 8400], ["batch", "", ""], new EngineTensorLayout()),
        ],
        [new OptimizationProfile([new ProfileShape("images", [1, 3, 640, 640], [4, 3, 640, 640], [8, 3, 640, 640])])]);

    [Fact]
    public void Header_at_offset_zero_gives_the_version()
    {
        using var ms = new MemoryStream(Plan(10, 16, 1, 11));
        var h = PlanHeader.Read(ms);
        Assert.Equal(0, h.PlanOffset);
        Assert.Equal("10.16.1.11", h.TensorRTVersion);
        Assert.False(h.HasUltralyticsHeader);
        Assert.Empty(h.Metadata);
        Assert.True(h.IsSupportedVersion);
    }

    [Fact]
    public void Header_after_an_ultralytics_prefix_gives_version_and_metadata()
    {
        const string json = """{"description":"Ultralytics YOLO11n model","author":"Ultralytics","stride":32,"task":"detect","batch":1,"imgsz":[640,640],"names":{"0":"person","1":"bicycle"},"half":true}""";
        byte[] file = Ultralytics(json, Plan(8, 6, 1, 6));
        using var ms = new MemoryStream(file);
        var h = PlanHeader.Read(ms);
        Assert.Equal(4 + Encoding.UTF8.GetByteCount(json), h.PlanOffset);
        Assert.Equal("8.6.1.6", h.TensorRTVersion);
        var md = h.Metadata.ToDictionary(k => k.Key, k => k.Value);
        Assert.Equal("detect", md["task"]);
        Assert.Equal("32", md["stride"]);
        Assert.Equal("[640,640]", md["imgsz"]);
        Assert.Equal("""{"0":"person","1":"bicycle"}""", md["names"]);
        Assert.Equal("true", md["half"]);
        Assert.Equal(md.Keys.Order(StringComparer.Ordinal), h.Metadata.Select(k => k.Key));
    }

    [Theory]
    [InlineData(7, 1, false)]
    [InlineData(8, 5, false)]
    [InlineData(8, 6, true)]
    [InlineData(10, 0, true)]
    [InlineData(11, 1, true)]
    [InlineData(12, 0, false)]
    public void Supported_versions(byte major, byte minor, bool supported)
    {
        using var ms = new MemoryStream(Plan(major, minor));
        Assert.Equal(supported, PlanHeader.Read(ms).IsSupportedVersion);
    }

    [Fact]
    public void Engine_with_a_matching_sidecar_gives_the_sidecar_manifest()
    {
        using var dir = new TempDir();
        string engine = dir.Write("yolo.engine", Ultralytics("""{"task":"detect"}""", Plan()));
        var sidecar = SidecarFor(engine);
        ManifestSerializer.WriteFileIfChanged(sidecar, ModelInspector.SidecarPath(engine));
        var m = ModelInspector.Inspect(engine);
        Assert.Equal(ModelKind.TensorRTEngine, m.Source.Kind);
        Assert.Equal(ManifestSerializer.Serialize(sidecar), ManifestSerializer.Serialize(m));
    }

    [Fact]
    public void Engine_is_recognised_by_content_whatever_its_extension()
    {
        using var dir = new TempDir();
        string engine = dir.Write("model.bin", Plan());
        ManifestSerializer.WriteFileIfChanged(SidecarFor(engine), ModelInspector.SidecarPath(engine));
        Assert.Equal(ModelKind.TensorRTEngine, ModelInspector.Inspect(engine).Source.Kind);
    }

    [Fact]
    public void Stale_sidecar_is_an_error_that_says_how_to_fix_it()
    {
        using var dir = new TempDir();
        string engine = dir.Write("det.engine", Plan());
        ManifestSerializer.WriteFileIfChanged(SidecarFor(engine, new string('0', 64)), ModelInspector.SidecarPath(engine));
        var e = Assert.Throws<ModelInspectionException>(() => ModelInspector.Inspect(engine));
        Assert.Equal(engine, e.FilePath);
        Assert.Contains("is stale", e.Reason, StringComparison.Ordinal);
        Assert.Contains("--write-sidecar", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Rebuilt_engine_makes_the_sidecar_stale()
    {
        using var dir = new TempDir();
        string engine = dir.Write("det.engine", Plan());
        ManifestSerializer.WriteFileIfChanged(SidecarFor(engine), ModelInspector.SidecarPath(engine));
        File.WriteAllBytes(engine, Plan(body: 300));
        Assert.Contains("stale", Assert.Throws<ModelInspectionException>(() => ModelInspector.Inspect(engine)).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_sidecar_names_the_ways_forward()
    {
        using var dir = new TempDir();
        string engine = dir.Write("det.engine", Plan(10, 8, 0, 43));
        var e = Assert.Throws<ModelInspectionException>(() => ModelInspector.Inspect(engine));
        Assert.StartsWith(engine + ": ", e.Message, StringComparison.Ordinal);
        Assert.Contains("TensorRT 10.8.0.43", e.Reason, StringComparison.Ordinal);
        Assert.Contains("det.engine.bindings.json", e.Reason, StringComparison.Ordinal);
        Assert.Contains("--write-sidecar", e.Reason, StringComparison.Ordinal);
        Assert.Contains("ONNX model", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Sidecar_with_a_newer_schema_is_an_unsupported_manifest_version()
    {
        using var dir = new TempDir();
        string engine = dir.Write("det.engine", Plan());
        string json = ManifestSerializer.SerializeToString(SidecarFor(engine)).Replace("bindings/v1", "bindings/v7", StringComparison.Ordinal);
        File.WriteAllText(ModelInspector.SidecarPath(engine), json);
        var e = Assert.Throws<ModelInspectionException>(() => ModelInspector.Inspect(engine));
        Assert.Equal(ModelInspector.SidecarPath(engine), e.FilePath);
        Assert.Contains("unsupported sidecar manifest version", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Corrupt_sidecar_is_reported_with_its_position()
    {
        using var dir = new TempDir();
        string engine = dir.Write("det.engine", Plan());
        File.WriteAllText(ModelInspector.SidecarPath(engine), "{\n  \"schema\": \"typedtrt.bindings/v1\",\n  oops\n}");
        var e = Assert.Throws<ModelInspectionException>(() => ModelInspector.Inspect(engine));
        Assert.Contains("(3,", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Unsupported_plan_version_is_an_error()
    {
        using var dir = new TempDir();
        string engine = dir.Write("old.engine", Plan(7, 1));
        var e = Assert.Throws<ModelInspectionException>(() => ModelInspector.Inspect(engine));
        Assert.Contains("TensorRT 7.1.0.26", e.Reason, StringComparison.Ordinal);
        Assert.Contains("does not read", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_too_small_to_hold_its_header()
    {
        using var dir = new TempDir();
        string engine = dir.Write("tiny.engine", Plan()[..20]);
        Assert.Contains("too small to be a TensorRT plan", Assert.Throws<ModelInspectionException>(() => ModelInspector.Inspect(engine)).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Engine_file_without_the_magic_is_not_a_plan()
    {
        using var dir = new TempDir();
        byte[] bad = Plan();
        bad[0] ^= 0xFF;
        string engine = dir.Write("bad.engine", bad);
        var e = Assert.Throws<ModelInspectionException>(() => ModelInspector.Inspect(engine));
        Assert.Contains("not a TensorRT plan", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Ultralytics_prefix_with_wrong_magic_is_not_a_plan()
    {
        using var dir = new TempDir();
        byte[] plan = Plan();
        plan[1] = 0;
        string engine = dir.Write("y.engine", Ultralytics("""{"task":"detect"}""", plan));
        Assert.Contains("not a TensorRT plan", Assert.Throws<ModelInspectionException>(() => ModelInspector.Inspect(engine)).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Profiles_are_refused_for_engines()
    {
        using var dir = new TempDir();
        string engine = dir.Write("det.engine", Plan());
        var e = Assert.Throws<ModelInspectionException>(() => ModelInspector.Inspect(engine, new InspectionOptions { Profiles = [ProfileSpec.Parse("batch=1..2")] }));
        Assert.Contains("applies to ONNX models", e.Reason, StringComparison.Ordinal);
    }
}
