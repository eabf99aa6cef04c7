using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;

namespace TypedTrt.Generators.Tests.Infrastructure;

/// <summary>
/// In-house snapshot testing: generated files are compared with <c>Snapshots/&lt;Test&gt;/&lt;hint&gt;.verified.cs</c>, plus
/// <c>_run.verified.txt</c> listing the generated files and the diagnostics. Output is scrubbed (generator version,
/// machine paths). On a mismatch <c>.received</c> files are written next to the verified ones and the test fails
/// with a unified diff. <c>TYPEDTRT_UPDATE_SNAPSHOTS=1</c> accepts the new output, except when <c>CI=true</c>.
/// </summary>
internal static partial class Snapshot
{
    public const string UpdateVariable = "TYPEDTRT_UPDATE_SNAPSHOTS";

    public static void Verify(GeneratorRun run, [CallerMemberName] string test = "")
    {
        var files = new List<(string Name, string Text)>();
        var summary = new StringBuilder();
        summary.Append("Generated files:\n");
        foreach (var (hint, text) in run.Sources)
        {
            summary.Append("  ").Append(hint).Append('\n');
            files.Add((hint.EndsWith(".cs", StringComparison.Ordinal) ? hint[..^3] + ".verified.cs" : hint + ".verified.cs", text));
        }

        summary.Append("Diagnostics:\n");
        foreach (Diagnostic d in run.GeneratorDiagnostics.OrderBy(d => d.Location.SourceSpan.Start).ThenBy(d => d.Id, StringComparer.Ordinal))
            summary.Append("  ").Append(Format(d)).Append('\n');
        files.Add(("_run.verified.txt", summary.ToString()));
        VerifyFiles(test, files);
    }

    public static string Format(Diagnostic d)
    {
        var span = d.Location.GetLineSpan();
        return $"{d.Id} {d.Severity} {Path.GetFileName(span.Path)}({span.StartLinePosition.Line + 1},{span.StartLinePosition.Character + 1}-{span.EndLinePosition.Line + 1},{span.EndLinePosition.Character + 1}): {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}";
    }

    public static string Scrub(string text) =>
        VersionRegex().Replace(text, "GeneratedCode(\"TypedTrt.Generators\", \"{version}\")")
            .Replace(GeneratorHarness.TestDirectory, "{tests}", StringComparison.Ordinal)
            .Replace("\r\n", "\n", StringComparison.Ordinal);

    private static void VerifyFiles(string test, List<(string Name, string Text)> files)
    {
        string dir = Path.Combine(GeneratorHarness.TestDirectory, "Snapshots", test);
        bool update = Environment.GetEnvironmentVariable(UpdateVariable) == "1";
        if (update && string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"{UpdateVariable}=1 is refused when CI=true: snapshots must be accepted on a developer machine and committed.");
        Directory.CreateDirectory(dir);
        var failures = new StringBuilder();
        var expectedNames = new HashSet<string>(files.Select(f => f.Name), StringComparer.Ordinal);
        foreach (string stale in Directory.GetFiles(dir, "*.verified.*").Select(Path.GetFileName).Where(n => !expectedNames.Contains(n!))!)
        {
            if (update)
                File.Delete(Path.Combine(dir, stale));
            else
                failures.Append($"{stale}: verified file is no longer generated.\n");
        }

        foreach (var (name, raw) in files)
        {
            string text = Scrub(raw);
            string verified = Path.Combine(dir, name);
            string received = verified.Replace(".verified.", ".received.", StringComparison.Ordinal);
            string? expected = File.Exists(verified) ? File.ReadAllText(verified).Replace("\r\n", "\n", StringComparison.Ordinal) : null;
            if (expected == text)
            {
                File.Delete(received);
                continue;
            }

            if (update)
            {
                File.WriteAllText(verified, text);
                File.Delete(received);
                continue;
            }

            File.WriteAllText(received, text);
            failures.Append(expected is null
                ? $"{name}: no verified snapshot; received output written to {received}. Set {UpdateVariable}=1 to accept.\n"
                : $"{name}: differs from the verified snapshot (received written to {received}; set {UpdateVariable}=1 to accept):\n{UnifiedDiff.Create(expected, text, name)}\n");
        }

        if (failures.Length > 0)
            Assert.Fail(failures.ToString());
    }

    [GeneratedRegex("GeneratedCode\\(\"TypedTrt\\.Generators\", \"[0-9.]+\"\\)")]
    private static partial Regex VersionRegex();
}

/// <summary>A small line-based unified diff (LCS), enough for snapshot failures.</summary>
internal static class UnifiedDiff
{
    public static string Create(string expected, string actual, string name, int context = 3)
    {
        string[] a = expected.Split('\n'), b = actual.Split('\n');
        int n = a.Length, m = b.Length;
        var lcs = new int[n + 1, m + 1];
        for (int i = n - 1; i >= 0; i--)
        {
            for (int j = m - 1; j >= 0; j--)
                lcs[i, j] = a[i] == b[j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
        }

        var ops = new List<(char Op, string Line, int A, int B)>();
        int x = 0, y = 0;
        while (x < n || y < m)
        {
            if (x < n && y < m && a[x] == b[y])
                ops.Add((' ', a[x], x++, y++));
            else if (x < n && (y == m || lcs[x + 1, y] >= lcs[x, y + 1]))
                ops.Add(('-', a[x], x++, y));
            else
                ops.Add(('+', b[y], x, y++));
        }

        var sb = new StringBuilder($"--- {name} (verified)\n+++ {name} (received)\n");
        for (int k = 0; k < ops.Count;)
        {
            if (ops[k].Op == ' ')
            {
                k++;
                continue;
            }

            int start = Math.Max(0, k - context), end = k;
            while (end < ops.Count)
            {
                int next = end;
                while (next < ops.Count && ops[next].Op == ' ')
                    next++;
                if (next == ops.Count || next - end > 2 * context)
                {
                    end = Math.Min(ops.Count, end + context);
                    break;
                }

                end = next;
                while (end < ops.Count && ops[end].Op != ' ')
                    end++;
            }

            int aCount = ops.Skip(start).Take(end - start).Count(o => o.Op != '+');
            int bCount = ops.Skip(start).Take(end - start).Count(o => o.Op != '-');
            sb.Append($"@@ -{ops[start].A + 1},{aCount} +{ops[start].B + 1},{bCount} @@\n");
            for (int i = start; i < end; i++)
                sb.Append(ops[i].Op).Append(ops[i].Line).Append('\n');
            k = end;
        }

        return sb.ToString();
    }
}
