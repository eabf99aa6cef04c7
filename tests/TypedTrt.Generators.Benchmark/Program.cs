using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using TypedTrt.Generators;

// Budget (issue 13.2): 500 tensors -> <= 400 KB of C# in < 50 ms warm; one input/one output -> <= 15 KB.
// Compiler limits and linearity (issue 10.4): generated code for 500..10,000 tensors compiles without errors, in time
// linear in the tensor count.
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
int[] compileSizes = args.Length > 0 ? [.. args.Select(int.Parse)] : [500, 1000, 2000, 4000, 8000, 10000];

var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
    .Append(typeof(TypedTrt.Runtime.InferenceRunner).Assembly.Location)
    .Append(typeof(TypedTrt.Manifest.BindingManifest).Assembly.Location)
    .Distinct(StringComparer.Ordinal)
    .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
    .ToList();
var parseOptions = new CSharpParseOptions(LanguageVersion.CSharp12, DocumentationMode.Diagnose);
CSharpCompilation Compilation() => CSharpCompilation.Create(
    "Consumer",
    [CSharpSyntaxTree.ParseText("class A {}", parseOptions)],
    references,
    new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, generalDiagnosticOption: ReportDiagnostic.Error));

(GeneratorDriver Driver, Compilation Output) Run(string json, string name = "big")
{
    var driver = CSharpGeneratorDriver.Create(
        [new BindingGenerator().AsSourceGenerator()],
        [new Text($"/proj/obj/typedtrt/{name}.bindings.json", json)],
        parseOptions,
        new Options());
    var result = driver.RunGeneratorsAndUpdateCompilation(Compilation(), out Compilation output, out _);
    return (result, output);
}

string Generated(GeneratorDriver d) => d.GetRunResult().GeneratedTrees.Single().ToString();

// 1. 500 tensors: size and warm time (the generator's whole pipeline through the driver, as the compiler runs it).
string json500 = LargeManifest(500);
var first = Stopwatch.StartNew();
var (driver500, _) = Run(json500);
first.Stop();
if (!driver500.GetRunResult().Diagnostics.IsEmpty)
    throw new InvalidOperationException(string.Join("\n", driver500.GetRunResult().Diagnostics));
int bytes500 = Encoding.UTF8.GetByteCount(Generated(driver500));
File.WriteAllText(Path.Combine(AppContext.BaseDirectory, "generated-500.g.cs"), Generated(driver500));
var samples = new List<double>();
for (int i = 0; i < 30; i++)
{
    var sw = Stopwatch.StartNew();
    Run(json500);
    samples.Add(sw.Elapsed.TotalMilliseconds);
}

samples.Sort();

// CPU time per run (the machine may be shared), and the generator's own parse + emit without the driver (which also
// parses the generated text into a syntax tree).
var cpu = Process.GetCurrentProcess().TotalProcessorTime;
for (int i = 0; i < 30; i++)
    Run(json500);
double cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds / 30;
var input = new TypedTrt.Generators.Model.ManifestInput("/proj/obj/typedtrt/big.bindings.json", json500, null, "Bench", null, null, null);
var own = new List<double>();
for (int i = 0; i < 30; i++)
{
    var sw = Stopwatch.StartNew();
    var parsed = BindingGenerator.Parser.Parse(input, CancellationToken.None);
    _ = BindingGenerator.Emitter.Emit(parsed.Model!);
    own.Add(sw.Elapsed.TotalMilliseconds);
}

own.Sort();
Console.WriteLine($"500-tensor manifest ({json500.Length / 1024.0:F0} KiB JSON): {bytes500 / 1024.0:F1} KiB of C# (budget 400 KB), {bytes500 / 500.0:F0} bytes/tensor; " +
                  $"first run {first.Elapsed.TotalMilliseconds:F1} ms (JIT), warm median {samples[samples.Count / 2]:F1} ms, min {samples[0]:F1} ms, CPU {cpuMs:F1} ms per run (budget 50 ms); " +
                  $"the generator's own parse+emit: median {own[own.Count / 2]:F1} ms, min {own[0]:F1} ms");

// 2. One input, one output.
string small = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "classifier.bindings.json"));
int bytesSmall = Encoding.UTF8.GetByteCount(Generated(Run(small, "classifier").Driver));
Console.WriteLine($"one-input/one-output manifest (classifier): {bytesSmall / 1024.0:F1} KiB of C# (budget 15 KB)");

// 3. Compile time of the generated code, 500..10,000 tensors.
Console.WriteLine();
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, load average {(File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?")}");
Console.WriteLine("tensors  C# (KiB)  generate (ms)  compile+emit (ms)  compile CPU (ms)  CPU ms/tensor  warnings+errors");
foreach (int n in compileSizes)
{
    string json = LargeManifest(n);
    var gen = Stopwatch.StartNew();
    var (d, output) = Run(json);
    gen.Stop();
    int size = Encoding.UTF8.GetByteCount(Generated(d));
    var compile = Stopwatch.StartNew();
    var compileCpu = Process.GetCurrentProcess().TotalProcessorTime;
    using var pe = new MemoryStream();
    var emit = output.Emit(pe);
    compile.Stop();
    double cpuCompile = (Process.GetCurrentProcess().TotalProcessorTime - compileCpu).TotalMilliseconds;
    int errors = emit.Diagnostics.Count(x => x.Severity >= DiagnosticSeverity.Warning);
    Console.WriteLine($"{n,7}  {size / 1024.0,8:F0}  {gen.Elapsed.TotalMilliseconds,13:F0}  {compile.Elapsed.TotalMilliseconds,17:F0}  {cpuCompile,16:F0}  {cpuCompile / n,13:F2}  {errors,15}");
    foreach (var e in emit.Diagnostics.Where(x => x.Severity >= DiagnosticSeverity.Warning).Take(3))
        Console.WriteLine("         " + e);
}

// Half inputs (every other one dynamic with a profile range), half outputs; four dtypes.
static string LargeManifest(int tensors)
{
    var sb = new StringBuilder();
    sb.Append("{\n  \"schema\": \"typedtrt.bindings/v1\",\n  \"source\": { \"kind\": \"tensorrt-engine\", \"file\": \"big.engine\", \"sha256\": \"")
      .Append('a', 64).Append("\", \"bytes\": 1 },\n  \"tensors\": [\n");
    var profile = new StringBuilder();
    for (int i = 0; i < tensors; i++)
    {
        bool input = i < tensors / 2;
        bool dynamic = i % 2 == 0;
        string dtype = (i % 4) switch { 0 => "float", 1 => "half", 2 => "int64", _ => "uint8" };
        sb.Append(CultureInfo.InvariantCulture, $"    {{ \"name\": \"block_{i}/tensor:0\", \"mode\": \"{(input ? "input" : "output")}\", \"dtype\": \"{dtype}\", \"shape\": [{(dynamic ? "-1" : "4")}, 3, 64, 64], \"dimNames\": [\"{(dynamic ? "batch" : "")}\", \"\", \"\", \"\"] }}");
        sb.Append(i + 1 < tensors ? ",\n" : "\n");
        if (input && dynamic)
        {
            if (profile.Length > 0)
                profile.Append(",\n");
            profile.Append(CultureInfo.InvariantCulture, $"      {{ \"name\": \"block_{i}/tensor:0\", \"min\": [1, 3, 64, 64], \"opt\": [4, 3, 64, 64], \"max\": [16, 3, 64, 64] }}");
        }
    }

    sb.Append("  ],\n  \"profiles\": [ { \"inputs\": [\n").Append(profile).Append("\n  ] } ]\n}\n");
    return sb.ToString();
}

internal sealed class Text(string path, string text) : AdditionalText
{
    private readonly SourceText _text = SourceText.From(text, Encoding.UTF8);

    public override string Path { get; } = path;

    public override SourceText GetText(CancellationToken cancellationToken = default) => _text;
}

internal sealed class Options : AnalyzerConfigOptionsProvider
{
    private static readonly AnalyzerConfigOptions Namespace = new Values(new() { ["build_metadata.AdditionalFiles.TypedTrtNamespace"] = "Bench" });

    public override AnalyzerConfigOptions GlobalOptions { get; } = new Values([]);

    public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => new Values([]);

    public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => Namespace;

    private sealed class Values(Dictionary<string, string> values) : AnalyzerConfigOptions
    {
        public override bool TryGetValue(string key, out string value) => values.TryGetValue(key, out value!);
    }
}
