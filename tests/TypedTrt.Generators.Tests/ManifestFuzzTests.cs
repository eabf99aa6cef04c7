using System.Text;
using Microsoft.CodeAnalysis;
using TypedTrt.Generators.Tests.Infrastructure;
using TypedTrt.Manifest;

namespace TypedTrt.Generators.Tests;

/// <summary>
/// Issue 10.7: random and mutated manifests through the generator driver and the runtime reader. No exception escapes
/// the generator (it would show as CS8785 and no types), every failure is a TTRT diagnostic, the two readers agree, and
/// accepted manifests compile cleanly. Deterministic seeds; a few seconds in CI.
/// </summary>
public sealed class ManifestFuzzTests
{
    private static readonly string[] Tokens =
    [
        "-1", "0", "-5", "1e9", "2.5", "2147483648", "9223372036854775807", "99999999999999999999", "\"\"", "null", "true", "false",
        "[", "]", "{", "}", ",", ":", "\"\\u2028\"", "\"\\ud800\"", "\"a\nb\"", "\"x\"", "[-1]", "[]", "{}", "\"input\"", "\"output\"",
        "\"float\"", "\"int4\"", "\"chw32\"", "\"signature\"", "\"tensors\"", "\"equals\"", "/*c*/", "\u2029",
    ];

    public static TheoryData<string> Manifests() => new(Directory.GetFiles(Path.Combine(GeneratorHarness.TestDirectory, "Manifests"), "*.bindings.json").Select(Path.GetFileName).Order(StringComparer.Ordinal)!);

    [Theory]
    [MemberData(nameof(Manifests))]
    public void MutatedManifestsGiveOnlyTtrtDiagnostics(string file)
    {
        string original = File.ReadAllText(Path.Combine(GeneratorHarness.TestDirectory, "Manifests", file));
        var rng = new Random(file.Length * 7919 + file[0]);
        int accepted = 0, compiled = 0;
        for (int i = 0; i < 60; i++)
        {
            string text = Mutate(original, rng);
            var (generatorAccepts, run) = RunGenerator(text);
            bool runtimeAccepts = RuntimeAccepts(text);
            Assert.True(generatorAccepts == runtimeAccepts, $"{file} mutation {i}: generator {(generatorAccepts ? "accepts" : "rejects")}, runtime {(runtimeAccepts ? "accepts" : "rejects")}:\n{text}");
            if (generatorAccepts)
            {
                accepted++;
                if (compiled++ < 4)
                    TestManifests.AssertCompilesCleanly(run);
            }
        }

        Assert.True(accepted > 0, "no mutation was accepted; the fuzzer explores too little");
    }

    [Fact]
    public void RandomDocumentsGiveOnlyTtrtDiagnostics()
    {
        var rng = new Random(20261201);
        for (int i = 0; i < 150; i++)
        {
            var sb = new StringBuilder();
            int n = rng.Next(1, 40);
            for (int k = 0; k < n; k++)
                sb.Append(Tokens[rng.Next(Tokens.Length)]).Append(rng.Next(3) == 0 ? " " : "");
            string text = rng.Next(2) == 0 ? sb.ToString() : "{\"schema\":\"typedtrt.bindings/v1\"," + sb;
            var (generatorAccepts, _) = RunGenerator(text);
            Assert.Equal(RuntimeAccepts(text), generatorAccepts);
        }
    }

    private static (bool Accepts, GeneratorRun Run) RunGenerator(string text)
    {
        GeneratorRun run = GeneratorHarness.Run([TestManifests.File(text)]);
        Assert.All(run.Result.Results, r => Assert.Null(r.Exception));
        Assert.All(run.GeneratorDiagnostics, d => Assert.StartsWith("TTRT", d.Id, StringComparison.Ordinal));
        Assert.DoesNotContain(run.GeneratorDiagnostics, d => d.Id == "TTRT0099");
        bool accepts = !run.GeneratorDiagnostics.Any(d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal(accepts, run.Sources.Count == 1);
        return (accepts, run);
    }

    private static bool RuntimeAccepts(string text)
    {
        try
        {
            ManifestSerializer.Deserialize(text, "m.bindings.json");
            return true;
        }
        catch (ManifestException)
        {
            return false;
        }
    }

    private static string Mutate(string s, Random rng)
    {
        int edits = rng.Next(1, 4);
        for (int k = 0; k < edits && s.Length > 0; k++)
        {
            int at = rng.Next(s.Length);
            switch (rng.Next(6))
            {
                case 0:
                    s = s.Remove(at, Math.Min(rng.Next(1, 12), s.Length - at));
                    break;
                case 1:
                    s = s.Insert(at, Tokens[rng.Next(Tokens.Length)]);
                    break;
                case 2:
                    // Replace a number-ish or string token near the position.
                    int end = at;
                    while (end < s.Length && !",]}\n".Contains(s[end], StringComparison.Ordinal))
                        end++;
                    int start = Math.Max(s.LastIndexOf(':', at), s.LastIndexOf('[', at)) + 1;
                    if (start > 0 && start <= at)
                        s = s[..start] + " " + Tokens[rng.Next(Tokens.Length)] + s[end..];
                    break;
                case 3:
                    if (char.IsDigit(s[at]))
                        s = s[..at] + (char)('0' + rng.Next(10)) + s[(at + 1)..];
                    break;
                case 4:
                    int len = Math.Min(rng.Next(1, 80), s.Length - at);
                    s = s.Insert(rng.Next(s.Length), s.Substring(at, len));
                    break;
                default:
                    s = s.Replace("\"dtype\": \"float\"", "\"dtype\": \"" + new[] { "half", "int4", "bf16", "bool", "int64", "double" }[rng.Next(6)] + "\"", StringComparison.Ordinal);
                    break;
            }
        }

        return s;
    }
}
