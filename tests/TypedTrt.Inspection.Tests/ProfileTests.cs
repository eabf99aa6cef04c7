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
    public void Ranging_an_input_by_its_name_points_to_the_indexed_syntax()
    {
        var e = Assert.Throws<ModelInspectionException>(() => ModelInspector.Inspect(TestPaths.Model("multi_io.onnx"), Profiles("extra/feat.v1:0=1..4:2")));
        Assert.Contains("is an input", e.Message, StringComparison.Ordinal);
        Assert.Contains("by tensor and index, e.g. extra/feat.v1:0[1]=1..8:1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unnamed_dynamic_dim_takes_a_range_by_tensor_and_index()
    {
        // extra/feat.v1:0 is [batch, -1, 6]: batch by name, dim 1 (unnamed) by index; images needs height and width.
        var m = ModelInspector.Inspect(TestPaths.Model("multi_io.onnx"), Profiles("batch=1..4:2,extra/feat.v1:0[1]=2..16:8,height=8..64:32,width=8..64:32"));
        var extra = m.Profiles[0].Find("extra/feat.v1:0")!;
        Assert.Equal([1L, 2, 6], extra.Min);
        Assert.Equal([2L, 8, 6], extra.Opt);
        Assert.Equal([4L, 16, 6], extra.Max);
        Assert.Equal([4L, 3, 64, 64], m.Profiles[0].Find("images/rgb:0")!.Max);
    }

    [Fact]
    public void An_indexed_range_wins_over_the_dims_name()
    {
        var m = ModelInspector.Inspect(TestPaths.Model("multi_io.onnx"), Profiles("batch=1..4:2,extra/feat.v1:0[0]=1..2:1,extra/feat.v1:0[1]=2..16:8,height=8..8,width=8..8"));
        Assert.Equal([2L, 16, 6], m.Profiles[0].Find("extra/feat.v1:0")!.Max);
        Assert.Equal(4, m.Profiles[0].Find("images/rgb:0")!.Max[0]);
    }

    [Theory]
    [InlineData("nope[0]=1..4", "has no input 'nope'")]
    [InlineData("extra/feat.v1:0[3]=1..4", "has rank 3 (dims 0..2)")]
    [InlineData("extra/feat.v1:0[2]=1..4", "dimension 2 of 'extra/feat.v1:0' is static (= 6)")]
    public void A_wrong_indexed_range_says_what_is_wrong(string spec, string expected)
    {
        var e = Assert.Throws<ModelInspectionException>(() => ModelInspector.Inspect(TestPaths.Model("multi_io.onnx"), Profiles("batch=1..4:2," + spec)));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("state[1]", true, "state", 1)]
    [InlineData("a[b][12]", true, "a[b]", 12)]
    [InlineData("batch", false, "", -1)]
    [InlineData("[1]", false, "", -1)]
    [InlineData("x[-1]", false, "", -1)]
    public void Indexed_keys_parse(string key, bool ok, string tensor, int index)
    {
        Assert.Equal(ok, ProfileSpec.TryParseIndexedKey(key, out string t, out int i));
        Assert.Equal(tensor, t);
        Assert.Equal(ok ? index : -1, ok ? i : -1);
    }

    [Fact]
    public void A_malformed_index_is_a_format_error()
    {
        var e = Assert.Throws<FormatException>(() => ProfileSpec.Parse("state[x]=1..4"));
        Assert.Contains("TENSOR[INDEX]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Silero_vad_v5_gets_a_profile_for_its_unnamed_dims()
    {
        string path = Path.Combine(TestPaths.ThirdParty, "silero_vad_v5.onnx");
        if (!File.Exists(path))
            Assert.Skip("silero_vad_v5.onnx is not fetched: run tests/fetch-test-models.sh (downloads @ricky0123/vad-web from npm).");
        var m = ModelInspector.Inspect(path, Profiles("input[0]=1..4:1,input[1]=64..1536:512,state[1]=1..4:1"));
        Assert.Equal([4L, 1536], m.Profiles[0].Find("input")!.Max);
        Assert.Equal([2L, 1, 128], m.Profiles[0].Find("state")!.Min);
        Assert.Equal([2L, 4, 128], m.Profiles[0].Find("state")!.Max);
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
