using System.Globalization;
using System.Text;
using Microsoft.CodeAnalysis;

namespace TypedTrt.Generators.Tests.Infrastructure;

/// <summary>Small manifests written in tests, and a helper that runs the generator and compiles its output strictly.</summary>
internal static class TestManifests
{
    public const string Sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    public static string Doc(string tensors, string? profiles = null, string kind = "onnx", string file = "m.onnx") =>
        "{\n  \"schema\": \"typedtrt.bindings/v1\",\n  \"source\": { \"kind\": \"" + kind + "\", \"file\": " + JsonString(file) + ", \"sha256\": \"" + Sha + "\", \"bytes\": 1 },\n" +
        "  \"tensors\": [\n" + tensors + "\n  ]" + (profiles is null ? "" : ",\n  \"profiles\": [ { \"inputs\": [\n" + profiles + "\n  ] } ]") + "\n}\n";

    public static string Tensor(string name, string mode = "input", string dtype = "float", string shape = "[2]", string? dimNames = null) =>
        "    { \"name\": " + JsonString(name) + ", \"mode\": \"" + mode + "\", \"dtype\": \"" + dtype + "\", \"shape\": " + shape + (dimNames is null ? "" : ", \"dimNames\": " + dimNames) + " }";

    public static string Range(string name, string min, string opt, string max) =>
        "      { \"name\": " + JsonString(name) + ", \"min\": " + min + ", \"opt\": " + opt + ", \"max\": " + max + " }";

    /// <summary>A JSON string literal; non-ASCII and control characters as <c>\u</c> escapes.</summary>
    public static string JsonString(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (char c in s)
        {
            if (c is '"' or '\\')
                sb.Append('\\').Append(c);
            else if (c is < ' ' or > '~')
                sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            else
                sb.Append(c);
        }

        return sb.Append('"').ToString();
    }

    public static ManifestFile File(string text, string path = "/proj/obj/typedtrt/m.bindings.json", params (string Key, string Value)[] metadata) =>
        new(path, text, ManifestFile.Meta([("TypedTrtNamespace", "App"), .. metadata]));

    /// <summary>Every compiler diagnostic of warning severity or above (the consumer builds with TreatWarningsAsErrors).</summary>
    public static List<Diagnostic> WarningsAndErrors(GeneratorRun run) =>
        [.. run.Output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning)];

    /// <summary>Asserts that the generator produced source that compiles with no warning or error at all.</summary>
    public static void AssertCompilesCleanly(GeneratorRun run)
    {
        Assert.NotEmpty(run.Sources);
        var bad = WarningsAndErrors(run);
        Assert.True(bad.Count == 0, "Generated code has diagnostics:\n" + string.Join("\n", bad.Take(20)));
    }

    public static IEnumerable<string> ErrorIds(GeneratorRun run) =>
        run.GeneratorDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.Id);
}
