namespace TypedTrt.TensorRT.Tests;

public class PlanHeaderTests
{
    [Fact]
    public void Reads_version_bytes_24_to_27_after_the_magic()
    {
        Assert.True(TensorRtPlanHeader.TryRead(FakeShim.Plan(10, 3, 0, 26), out var h));
        Assert.Equal(new Version(10, 3, 0, 26), h.Version);
        Assert.Equal(0, h.PlanOffset);
        Assert.Null(h.MetadataJson);
    }

    [Fact]
    public void Reads_the_plan_after_an_Ultralytics_prefix()
    {
        const string json = """{"description":"Ultralytics YOLO11n","imgsz":[640,640]}""";
        Assert.True(TensorRtPlanHeader.TryRead(FakeShim.UltralyticsFile(json, FakeShim.Plan(10, 7, 0, 23)), out var h));
        Assert.Equal(new Version(10, 7, 0, 23), h.Version);
        Assert.Equal(4 + json.Length, h.PlanOffset);
        Assert.Equal(json, h.MetadataJson);
    }

    [Fact]
    public void Not_a_plan_is_explained()
    {
        Assert.False(TensorRtPlanHeader.TryRead("hello world, not an engine at all"u8, out _));
        var e = Assert.Throws<InvalidDataException>(() => TensorRtPlanHeader.Read(new byte[100], "The file 'x.engine'"));
        Assert.Contains("The file 'x.engine' is not a TensorRT engine plan", e.Message, StringComparison.Ordinal);
        Assert.Contains("ftrt", e.Message, StringComparison.Ordinal);
        // Too short to hold the version bytes.
        Assert.False(TensorRtPlanHeader.TryRead("ftrt"u8, out _));
    }
}
