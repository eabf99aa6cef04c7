namespace TypedTrt.Inspection.Tests;

public class ProfileTests
{
    private static InspectionOptions Profiles(params string[] values) => new() { Profiles = ProfileSpec.ParseAll(values) };

    [Fact]
    public void Parses_min_max_opt_and_shorthands()
    {
        var p = ProfileSpec.Parse("batch=1..32:8, seq=1..512 ,c=3");
        Assert.Equal(new DimRange(1, 8, 32), p.Ranges["batch"]);
        Assert.Equal(new DimRange(1, 512, 512), p.Ranges["seq"]);
        Assert.Equal(new DimRange(3, 3, 3), p.Ranges["c"]);
        Assert.Equal("batch=1..32:8,c=3..3:3,seq=1..512:512", p.ToString());
    }

    [Fact]
    public void Repeated_flags_merge_until_a_dim_repeats()
    {
        var ps = ProfileSpec.ParseAll(["batch=1..8:4", "seq=1..64:32", "batch=16..32:32", "seq=64..128:128"]);
        Assert.Equal(2, ps.Count);
        Assert.Equal(["batch", "seq"], ps[0].Ranges.Keys);
        Assert.Equal(new DimRange(16, 32, 32), ps[1].Ranges["batch"]);
    }

    [Theory]
    [InlineData("batch", "expected NAME=MIN..MAX:OPT")]
    [InlineData("batch=8..1:4", "min <= opt <= max")]
    [InlineData("batch=1..8:9", "min <= opt <= max")]
    [InlineData("batch=a..8", "'a' is not a whole number")]
    [InlineData("batch=-1..8", "not a whole number")]
    [InlineData("=1..2", "expected NAME=MIN..MAX:OPT")]
    [InlineData("batch=1..2,batch=3..4", "twice")]
    public void Malformed_profiles_say_what_is_wrong(string value, string expected)
    {
        var e = Assert.ThrowsAny<Exception>(() => ProfileSpec.ParseAll([value]));
        Assert.True(e is FormatException or ArgumentException);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Profile_covers_inputs_whose_dynamic_dims_all_have_ranges()
    {
        var m = ModelInspector.Inspect(TestPaths.Model("multi_io.onnx"), Profiles("batch=1..8:4,height=32..64:48,width=16..64:64"));
        var p = Assert.Single(m.Profiles);
        var images = Assert.Single(p.Inputs); // 'extra/feat.v1:0' has an unnamed dynamic dim, so it cannot be in a profile
        Assert.Equal("images/rgb:0", images.Name);
        Assert.Equal([1L, 3, 32, 16], images.Min);
        Assert.Equal([4L, 3, 48, 64], images.Opt);
        Assert.Equal([8L, 3, 64, 64], images.Max);
    }

    [Fact]
    public void Several_profiles_and_several_inputs()
    {
        var m = ModelInspector.Inspect(TestPaths.Model("int64_io.onnx"), Profiles("batch=1..4:2", "sequence=1..128:64", "batch=8..16:16", "sequence=1..32:32"));
        Assert.Equal(2, m.Profiles.Count);
        Assert.Equal([8L, 1], m.Profiles[1].Find("input_ids")!.Min);
        Assert.Equal([16L, 32], m.Profiles[1].Find("input_ids")!.Max);
    }

    [Fact]
    public void Unknown_dim_name_lists_the_named_dims()
    {
        var e = Assert.Throws<ModelInspectionException>(() => ModelInspector.Inspect(TestPaths.Model("int64_io.onnx"), Profiles("bacth=1..4:2")));
        Assert.Contains("'bacth'", e.Message, StringComparison.Ordinal);
        Assert.Contains("batch, sequence", e.Message, StringComparison.Ordinal);
        Assert.StartsWith(TestPaths.Model("int64_io.onnx"), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Trying_to_range_an_unnamed_dynamic_dim_says_it_cannot_be_done()
    {
        var e = Assert.Throws<ModelInspectionException>(() => ModelInspector.Inspect(TestPaths.Model("multi_io.onnx"), Profiles("extra/feat.v1:0=1..4:2")));
        Assert.Contains("is an input", e.Message, StringComparison.Ordinal);
        Assert.Contains("without a name cannot be given a range: 'extra/feat.v1:0' dim 1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_profile_that_covers_no_input_is_an_error()
    {
        // 'batch' alone: images also needs height and width, extra has an unnamed dim.
        var e = Assert.Throws<ModelInspectionException>(() => ModelInspector.Inspect(TestPaths.Model("multi_io.onnx"), Profiles("batch=1..4:2")));
        Assert.Contains("covers no input", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Profiles_survive_the_manifest_round_trip()
    {
        var m = ModelInspector.Inspect(TestPaths.Model("fp16_io.onnx"), Profiles("batch=1..64:16"));
        var back = TypedTrt.Manifest.ManifestSerializer.Deserialize(TypedTrt.Manifest.ManifestSerializer.Serialize(m));
        Assert.Equal([64L, 16], back.Profiles[0].Find("input")!.Max);
    }
}
