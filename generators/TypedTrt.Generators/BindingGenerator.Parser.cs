using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using TypedTrt.Generators.Json;
using TypedTrt.Generators.Model;
using TypedTrt.Manifest.Shared;

namespace TypedTrt.Generators;

public sealed partial class BindingGenerator
{
    /// <summary>
    /// The only code that touches Roslyn inputs or the manifest text; produces data-only models. Validation is the shared
    /// <see cref="ManifestReader{T}"/> (the runtime's own rules); this class adds what only the build can say (names,
    /// item metadata, warnings) and never throws: an unexpected exception becomes TTRT0099 naming the manifest.
    /// </summary>
    internal static partial class Parser
    {
        public const string ManifestSuffix = ".bindings.json";
        public const string SchemaV1 = "typedtrt.bindings/v1";
        public const int DefaultStreams = 2;

        private const string MetadataPrefix = "build_metadata.AdditionalFiles.";

        public static ManifestInput ReadInput(AdditionalText file, AnalyzerConfigOptionsProvider options, CancellationToken ct)
        {
            try
            {
                AnalyzerConfigOptions o = options.GetOptions(file);
                string? Get(string key) => o.TryGetValue(MetadataPrefix + key, out string? v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
                string? ns = Get("TypedTrtNamespace");
                if (ns is null && options.GlobalOptions.TryGetValue("build_property.RootNamespace", out string? root) && !string.IsNullOrWhiteSpace(root))
                    ns = root.Trim();
                string text = file.GetText(ct)?.ToString() ?? "";
                return new ManifestInput(file.Path, text, Get("TypedTrtClassName"), ns, Get("TypedTrtStreams"), Get("TypedTrtSourceFile"), Get("TypedTrtSourceSha256"), Get("TypedTrtAccess"), KServeClient: Get("TypedTrtKServeClient"));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return new ManifestInput(file.Path ?? "", "", null, null, null, null, null, ReadError: e.GetType().Name + ": " + e.Message);
            }
        }

        /// <summary>Parses one manifest. Never throws (except for cancellation).</summary>
        public static ParseResult Parse(ManifestInput input, CancellationToken ct)
        {
            var state = new State(input);
            try
            {
                if (input.ReadError is { } error)
                    throw new InvalidOperationException(error);
                (BindingModel model, TypeClaim claim) = state.Read(ct);
                return new ParseResult(model, claim, state.Diagnostics.ToEquatableArray());
            }
            catch (ManifestError e)
            {
                state.Report(e.Id, e.Start, e.Length, e.Arguments);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                state.Report(DiagnosticDescriptors.InternalError.Id, 0, 0, input.Path, e.GetType().Name + ": " + e.Message);
            }

            return new ParseResult(null, null, state.Diagnostics.ToEquatableArray());
        }

        private sealed class ManifestError : Exception
        {
            public ManifestError(string id, int start, int length, params string[] arguments)
            {
                Id = id;
                Start = start;
                Length = length;
                Arguments = arguments;
            }

            public string Id { get; }

            public int Start { get; }

            public int Length { get; }

            public string[] Arguments { get; }
        }

        private sealed partial class State
        {
            private readonly ManifestInput _input;
            private readonly string _text;
            private readonly SourceText _source;

            public State(ManifestInput input)
            {
                _input = input;
                // Unpaired surrogates cannot come from a UTF-8 file; where they occur, read them as U+FFFD, as the
                // runtime does after UTF-8 encoding.
                _text = ReplaceUnpairedSurrogates(input.Text);
                _source = SourceText.From(_text);
            }

            public List<DiagnosticInfo> Diagnostics { get; } = [];

            public void Report(string id, int start, int length, params string[] args)
            {
                start = Math.Max(0, Math.Min(start, _source.Length));
                length = Math.Max(0, Math.Min(length, _source.Length - start));
                var span = new TextSpan(start, length);
                Diagnostics.Add(new DiagnosticInfo(id, _input.Path, span, _source.Lines.GetLinePositionSpan(span), args.ToEquatableArray()));
            }

            private void Report(string id, JsonNode node, params string[] args) => Report(id, node.Start, node.Length, args);

            public (BindingModel Model, TypeClaim Claim) Read(CancellationToken ct)
            {
                JsonNode root;
                try
                {
                    root = JsonNode.Parse(_text);
                }
                catch (JsonSyntaxException e)
                {
                    LinePosition pos = _source.Lines.GetLinePosition(Math.Min(e.Offset, _source.Length));
                    throw new ManifestError(
                        DiagnosticDescriptors.InvalidJson.Id,
                        e.Offset,
                        e.Offset < _source.Length ? 1 : 0,
                        $"{e.Message} (line {pos.Line + 1}, column {pos.Character + 1})");
                }

                ct.ThrowIfCancellationRequested();
                ManifestData data;
                try
                {
                    data = new ManifestReader<JsonNode>(JsonNodeAccess.Instance).Read(root);
                }
                catch (ManifestRuleException e)
                {
                    var node = e.Node as JsonNode ?? root;
                    if (e.UnsupportedSchema is { } schema)
                        throw new ManifestError(DiagnosticDescriptors.UnsupportedSchema.Id, node.Start, node.Length, schema);
                    throw new ManifestError(DiagnosticDescriptors.InvalidManifest.Id, node.Start, node.Length, e.JsonPath, e.Reason);
                }

                ct.ThrowIfCancellationRequested();

                // Item metadata: checked after the content so that content errors come first; neither depends on the other.
                bool explicitClassName = _input.ClassName is not null;
                string className = ResolveClassName();
                string ns = ResolveNamespace();
                int streams = ResolveStreams();
                bool isInternal = ResolveAccess();
                bool kserveClient = ResolveKServeClient();

                JsonNode source = Prop(root, "source");
                if (_input.SourceSha256 is { } current && !string.Equals(current, data.Sha256, StringComparison.OrdinalIgnoreCase))
                {
                    string modelPath = _input.SourceFile ?? data.File;
                    Report(DiagnosticDescriptors.StaleManifest.Id, Prop(source, "sha256"), modelPath, data.Sha256, current.ToLowerInvariant(), _input.Path);
                }

                JsonNode[] tensorNodes = Prop(root, "tensors").Items!.ToArray();
                string[] names = AssignNames(data, tensorNodes, className);
                TensorModel[] tensors = BuildTensors(data, tensorNodes, names, className);

                string path = _input.Path;
                var model = new BindingModel(
                    HintName(ns, className, path),
                    path,
                    ns,
                    className,
                    isInternal,
                    FileName(path),
                    data.IsEngine ? "tensorrt-engine" : "onnx",
                    data.File,
                    data.Sha256,
                    data.TensorRTVersion,
                    streams,
                    data.Profiles.Count,
                    JsonMinifier.Minify(_text),
                    tensors.ToEquatableArray(),
                    kserveClient);
                return (model, new TypeClaim(ns, className, path, _input.SourceFile, explicitClassName));
            }

            private TensorModel[] BuildTensors(ManifestData data, JsonNode[] nodes, string[] names, string className)
            {
                var symbols = OutputShapeRule.InputSymbols(InputDimNames(data));
                List<ProfileRangeData>? profile0 = data.Profiles.Count > 0 ? data.Profiles[0] : null;
                var result = new TensorModel[data.Tensors.Count];
                for (int i = 0; i < result.Length; i++)
                {
                    TensorData t = data.Tensors[i];
                    JsonNode node = nodes[i];
                    if (data.IsEngine && t.Shape.Length > ManifestLimits.MaxTensorRTRank)
                    {
                        Report(DiagnosticDescriptors.RankAboveTensorRT.Id, Prop(node, "shape"), t.Name, t.Shape.Length.ToString(CultureInfo.InvariantCulture));
                    }

                    ProfileRangeData? range = profile0?.Find(r => r.TensorIndex == i);
                    if (t.TypeIndex < 0)
                    {
                        Report(DiagnosticDescriptors.UnsupportedDataType.Id, Prop(node, "dtype"), t.Name, t.DType, className);
                    }
                    else if (t.IsInput && t.IsDynamic && range is null)
                    {
                        Report(
                            DiagnosticDescriptors.DynamicInputWithoutRange.Id,
                            Prop(node, "name"),
                            t.Name,
                            ShapeText(t),
                            data.Profiles.Count == 0 ? "the manifest has no optimization profile" : "optimization profile 0 gives it no range");
                    }

                    long? elements = null, length = null;
                    string? clr = null;
                    bool raw = false;
                    if (t.TypeIndex >= 0)
                    {
                        clr = DataTypeTable.ClrTypeName(t.TypeIndex);
                        raw = DataTypeTable.IsRaw(t.TypeIndex);
                        if (!t.IsDynamic)
                        {
                            // The shared reader has checked that these fit a runtime buffer.
                            elements = ByteMath.TryElementCount(t.Shape);
                            long bytes = ByteMath.TryByteCount(t.Shape, DataTypeTable.BitsPerElement(t.TypeIndex), t.Layout?.VectorizedDim ?? -1, t.Layout?.Components ?? 1);
                            length = ByteMath.ClrLength(bytes, t.TypeIndex);
                        }
                    }

                    var afterRun = new List<int>();
                    if (!t.IsInput)
                    {
                        for (int d = 0; d < t.Shape.Length; d++)
                        {
                            if (OutputShapeRule.IsDimKnownOnlyAfterRun(t.Shape, t.DimNames, d, symbols))
                                afterRun.Add(d);
                        }
                    }

                    result[i] = new TensorModel(
                        t.Name,
                        i,
                        t.IsInput,
                        t.DType,
                        clr,
                        raw,
                        t.Shape.ToEquatableArray(),
                        t.DimNames.ToEquatableArray(),
                        names[i],
                        elements,
                        length,
                        (range?.Min ?? []).ToEquatableArray(),
                        (range?.Opt ?? []).ToEquatableArray(),
                        (range?.Max ?? []).ToEquatableArray(),
                        t.Layout is { } l ? TensorFormatTable.Names[l.FormatIndex] : null,
                        afterRun.ToEquatableArray());
                }

                return result;
            }

            private static IEnumerable<IReadOnlyList<string>> InputDimNames(ManifestData data)
            {
                foreach (TensorData t in data.Tensors)
                {
                    if (t.IsInput)
                        yield return t.DimNames;
                }
            }

            private static string ShapeText(TensorData t)
            {
                var parts = new string[t.Shape.Length];
                for (int d = 0; d < parts.Length; d++)
                    parts[d] = t.Shape[d] >= 0 ? t.Shape[d].ToString(CultureInfo.InvariantCulture) : t.DimNames[d].Length > 0 ? t.DimNames[d] : "?";
                return "[" + string.Join(", ", parts) + "]";
            }

            private static JsonNode Prop(JsonNode node, string name) =>
                node.TryGetProperty(name, out JsonNode value) ? value : node;

            private static string ReplaceUnpairedSurrogates(string s)
            {
                StringBuilder? sb = null;
                for (int i = 0; i < s.Length; i++)
                {
                    char c = s[i];
                    bool bad = char.IsHighSurrogate(c) ? i + 1 >= s.Length || !char.IsLowSurrogate(s[i + 1]) : char.IsLowSurrogate(c);
                    if (bad)
                    {
                        sb ??= new StringBuilder(s, 0, i, s.Length);
                        sb.Append('\uFFFD');
                    }
                    else
                    {
                        sb?.Append(c);
                        if (char.IsHighSurrogate(c))
                        {
                            sb?.Append(s[i + 1]);
                            i++;
                        }
                    }
                }

                return sb?.ToString() ?? s;
            }
        }

        private static string FileName(string path)
        {
            int i = Math.Max(path.LastIndexOf('/'), path.LastIndexOf('\\'));
            return i < 0 ? path : path.Substring(i + 1);
        }

        /// <summary>Hint name: namespace, class and a hash of the manifest's path, so same-named files in different folders do not collide.</summary>
        private static string HintName(string ns, string className, string path)
        {
            uint hash = 2166136261;
            foreach (char c in path.Replace('\\', '/'))
                hash = unchecked((hash ^ c) * 16777619);
            string prefix = ns.Length == 0 ? className : ns + "." + className;
            return prefix + "." + hash.ToString("x8", CultureInfo.InvariantCulture) + ".g.cs";
        }
    }
}
