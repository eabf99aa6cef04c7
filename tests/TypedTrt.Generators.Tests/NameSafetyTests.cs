using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using TypedTrt.Generators.Tests.Infrastructure;
using static TypedTrt.Generators.Tests.Infrastructure.TestManifests;

namespace TypedTrt.Generators.Tests;

/// <summary>
/// Issue 10.3: every name a manifest or item can carry yields C# that compiles with no warning, or a TTRT diagnostic.
/// Each case broke the previous generator (CS0542, CS0108, broken comments, invalid ClassName accepted).
/// </summary>
public sealed class NameSafetyTests
{
    /// <summary>Tensor names that collided with the per-tensor class's members, object's members or the generated types.</summary>
    [Theory]
    [InlineData("shape")]
    [InlineData("name")]
    [InlineData("index")]
    [InlineData("rank")]
    [InlineData("is_input")]
    [InlineData("dtype")]
    [InlineData("equals")]
    [InlineData("get_type")]
    [InlineData("to_string")]
    [InlineData("get_hash_code")]
    [InlineData("memberwise_clone")]
    [InlineData("finalize")]
    [InlineData("signature")]
    [InlineData("bindings")]
    [InlineData("tensors")]
    [InlineData("input_buffers")]
    [InlineData("output_buffers")]
    [InlineData("m_input")]
    [InlineData("m_output")]
    [InlineData("lease")]
    [InlineData("runner")]
    [InlineData("run_async")]
    [InlineData("dispose")]
    [InlineData("model_file_name")]
    public void TensorNamesNeverCollideWithGeneratedNames(string name)
    {
        string tensors = string.Join(",\n", Tensor(name, shape: "[-1, 2]", dimNames: "[\"n\", \"\"]"), Tensor(name + "_out", "output", shape: "[-1, 2]", dimNames: "[\"n\", \"\"]"), Tensor("plain", shape: "[3]"));
        var run = GeneratorHarness.Run([File(Doc(tensors, Range(name, "[1, 2]", "[1, 2]", "[4, 2]")))]);
        Assert.Empty(ErrorIds(run));
        AssertCompilesCleanly(run);
    }

    public static TheoryData<string> LineTerminators() => new() { "\n", "\r", "\r\n", "\u0085", "\u2028", "\u2029", "\u0000", "\u001b", "\u202e", "*/", "<!--", "&amp;", "\"", "\\" };

    /// <summary>Line terminators and other hostile characters in tensor, dim and file names do not break comments or literals.</summary>
    [Theory]
    [MemberData(nameof(LineTerminators))]
    public void HostileCharactersInNamesAreEscaped(string c)
    {
        string tensors = string.Join(",\n",
            Tensor($"in{c}put", shape: "[-1, 2]", dimNames: "[" + JsonString($"ba{c}tch") + ", \"\"]"),
            Tensor($"out{c}", "output", shape: "[-1, 2]", dimNames: "[" + JsonString($"ba{c}tch") + ", \"\"]"));
        var run = GeneratorHarness.Run([File(Doc(tensors, Range($"in{c}put", "[1, 2]", "[1, 2]", "[4, 2]"), file: $"mo{c}del.onnx"))]);
        Assert.Empty(ErrorIds(run));
        AssertCompilesCleanly(run);
        string text = run.Sources.Single().Text;
        foreach (string lineBreak in new[] { "\r", "\u0085", "\u2028", "\u2029" })
            Assert.DoesNotContain(lineBreak, text, StringComparison.Ordinal);
    }

    /// <summary>Every C# keyword and contextual keyword as ClassName: rejected (TTRT0007) or compiles cleanly; never a compiler error.</summary>
    [Fact]
    public void EveryKeywordAsClassNameIsRejectedOrCompiles()
    {
        var words = SyntaxFacts.GetKeywordKinds().Concat(SyntaxFacts.GetContextualKeywordKinds()).Select(SyntaxFacts.GetText)
            .Concat(["Signature", "Bindings", "Tensors", "ModelFileName", "ModelSha256", "DefaultStreams", "ModelKind", "InputBuffers", "OutputBuffers", "Lease", "Inputs", "Outputs", "RunAsync", "Dispose", "AcquireAsync", "Runner", "DisposeAsync", "_", "file", "required", "scoped", "record", "field", "extension", "allows", "Object", "System", "TypedTrt"])
            .Distinct(StringComparer.Ordinal).ToList();
        var failures = new List<string>();
        foreach (string word in words)
        {
            var run = GeneratorHarness.Run([File(Doc(Tensor("x")), metadata: ("TypedTrtClassName", word))]);
            if (run.GeneratorDiagnostics.Any(d => d.Id == "TTRT0007"))
                continue;
            var bad = WarningsAndErrors(run);
            if (run.Sources.Count == 0 || bad.Count > 0)
                failures.Add($"{word}: {string.Join("; ", bad.Take(3))}");
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Theory]
    [InlineData("file")]
    [InlineData("required")]
    [InlineData("scoped")]
    [InlineData("record")]
    [InlineData("Signature")]
    [InlineData("Tensors")]
    [InlineData("class")]
    [InlineData("1Bad")]
    public void ClassNamesThatCannotCompileAreTTRT0007(string name)
    {
        var run = GeneratorHarness.Run([File(Doc(Tensor("x")), metadata: ("TypedTrtClassName", name))]);
        Assert.Equal(["TTRT0007"], run.GeneratorDiagnostics.Select(d => d.Id));
        Assert.Empty(run.Sources);
    }

    /// <summary>Every keyword as a namespace part: rejected or compiles cleanly.</summary>
    [Fact]
    public void EveryKeywordAsNamespacePartIsRejectedOrCompiles()
    {
        var words = SyntaxFacts.GetKeywordKinds().Concat(SyntaxFacts.GetContextualKeywordKinds()).Select(SyntaxFacts.GetText)
            .Concat(["global", "System", "TypedTrt", "M"]).Distinct(StringComparer.Ordinal).ToList();
        var failures = new List<string>();
        foreach (string word in words)
        {
            foreach (string ns in new[] { word, "App." + word })
            {
                var run = GeneratorHarness.Run([new ManifestFile("/proj/obj/typedtrt/m.bindings.json", Doc(Tensor("x")), ManifestFile.Meta(("TypedTrtNamespace", ns)))]);
                if (run.GeneratorDiagnostics.Any(d => d.Id == "TTRT0007"))
                    continue;
                var bad = WarningsAndErrors(run);
                if (run.Sources.Count == 0 || bad.Count > 0)
                    failures.Add($"{ns}: {string.Join("; ", bad.Take(3))}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Theory]
    [InlineData("signature.bindings.json", "SignatureModel")]
    [InlineData("tensors.bindings.json", "TensorsModel")]
    [InlineData("123.bindings.json", "T123")]
    [InlineData("-.bindings.json", "Model")]
    public void ClassNamesFromFileNamesAreAlwaysUsable(string file, string expected)
    {
        var run = GeneratorHarness.Run([File(Doc(Tensor("x")), path: "/proj/obj/typedtrt/" + file)]);
        AssertCompilesCleanly(run);
        Assert.NotNull(run.Output.GetTypeByMetadataName("App." + expected));
    }

    [Fact]
    public void AccessInternalMakesEveryTypeInternal()
    {
        var run = GeneratorHarness.Run([File(Doc(Tensor("x")), metadata: ("TypedTrtAccess", "Internal"))]);
        AssertCompilesCleanly(run);
        foreach (string type in new[] { "M", "MInput", "MOutput", "MLease", "MRunner", "IMRunner" })
            Assert.Equal(Accessibility.Internal, run.Output.GetTypeByMetadataName("App." + type)!.DeclaredAccessibility);
        var bad = GeneratorHarness.Run([File(Doc(Tensor("x")), metadata: ("TypedTrtAccess", "Private"))]);
        Assert.Equal(["TTRT0007"], bad.GeneratorDiagnostics.Select(d => d.Id));
    }
}
