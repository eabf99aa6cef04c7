using TypedTrt.Generators.Tests.Infrastructure;
using TypedTrt.Manifest;
using static TypedTrt.Generators.Tests.Infrastructure.TestManifests;

namespace TypedTrt.Generators.Tests;

/// <summary>
/// Issue 10.4: sizes the runtime cannot allocate are TTRT0004 (and rejected by the runtime reader alike), negative
/// dims other than -1 are errors, rank above 8 warns for engines. The old generator crashed (OverflowException, only
/// CS8785), emitted int constants that did not compile, or silently made -5 dynamic.
/// </summary>
public sealed class SizeLimitTests
{
    public static TheoryData<string, string?> TooLarge() => new()
    {
        { Tensor("x", shape: "[3000000000]"), null },
        { Tensor("x", shape: "[9223372036854775807, 4]"), null },
        { Tensor("x", shape: "[65536, 65536]"), null },
        { Tensor("x", shape: "[99999999999999999999]"), null },
        { Tensor("x", shape: "[-5, 3]"), null },
        { Tensor("x", shape: "[-1, 3]"), Range("x", "[1, 3]", "[1, 3]", "[9223372036854775807, 3]") },
        { Tensor("x", shape: "[-1, 3]"), Range("x", "[1, 3]", "[1, 3]", "[3000000000, 3]") },
        { Tensor("x", shape: "[-1, 65536]"), Range("x", "[1, 65536]", "[1, 65536]", "[65536, 65536]") },
        { Tensor("x", shape: "[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]"), null },
    };

    [Theory]
    [MemberData(nameof(TooLarge))]
    public void UnallocatableSizesAreErrorsInBothReaders(string tensor, string? profile)
    {
        string manifest = Doc(tensor, profile);
        var run = GeneratorHarness.Run([File(manifest)]);
        Assert.Equal(["TTRT0004"], run.GeneratorDiagnostics.Select(d => d.Id));
        Assert.Empty(run.Sources);
        Assert.Throws<ManifestException>(() => ManifestSerializer.Deserialize(manifest));
    }

    [Fact]
    public void LargestAllocatableStaticTensorCompiles()
    {
        // 2^31 - 57 elements: what a .NET array can hold; its element count attribute is a long.
        var run = GeneratorHarness.Run([File(Doc(Tensor("x", dtype: "uint8", shape: "[2147483591]")))]);
        Assert.Empty(run.GeneratorDiagnostics);
        AssertCompilesCleanly(run);
    }

    [Fact]
    public void RankAboveEightWarnsForEngines()
    {
        string shape = "[1, 1, 1, 1, 1, 1, 1, 1, 1]";
        var engine = GeneratorHarness.Run([File(Doc(Tensor("x", shape: shape), kind: "tensorrt-engine", file: "m.engine"))]);
        Assert.Equal(["TTRT0009"], engine.GeneratorDiagnostics.Select(d => d.Id));
        AssertCompilesCleanly(engine);
        var onnx = GeneratorHarness.Run([File(Doc(Tensor("x", shape: shape)))]);
        Assert.Empty(onnx.GeneratorDiagnostics);
    }
}
