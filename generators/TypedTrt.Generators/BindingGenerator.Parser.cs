using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using TypedTrt.Generators.Json;
using TypedTrt.Generators.Model;

namespace TypedTrt.Generators;

public sealed partial class BindingGenerator
{
    /// <summary>The only code that touches Roslyn inputs or the manifest text; produces data-only models.</summary>
    internal static class Parser
    {
        public const string ManifestSuffix = ".bindings.json";
        public const string SchemaV1 = "typedtrt.bindings/v1";
        public const int DefaultStreams = 2;

        private const string MetadataPrefix = "build_metadata.AdditionalFiles.";

        // Manifest dtype name -> (C# element type, bytes per CLR element, raw bytes?, bits per element)
        private static readonly Dictionary<string, (string ClrType, bool Raw, int Bits)> DataTypes = new(StringComparer.Ordinal)
        {
            ["float"] = ("float", false, 32),
            ["half"] = ("global::System.Half", false, 16),
            ["int8"] = ("sbyte", false, 8),
            ["int32"] = ("int", false, 32),
            ["bool"] = ("bool", false, 8),
            ["uint8"] = ("byte", false, 8),
            ["fp8"] = ("byte", true, 8),
            ["bf16"] = ("byte", true, 16),
            ["int64"] = ("long", false, 64),
            ["int4"] = ("byte", true, 4),
            ["fp4"] = ("byte", true, 4),
            ["e8m0"] = ("byte", true, 8),
        };

        private static readonly HashSet<string> Formats = new(StringComparer.Ordinal)
        {
            "linear", "chw2", "hwc8", "chw4", "chw16", "chw32", "dhwc8", "cdhw32", "hwc", "dla_linear", "dla_hwc4", "hwc16", "dhwc",
        };

        public static ManifestInput ReadInput(AdditionalText file, AnalyzerConfigOptionsProvider options, CancellationToken ct)
        {
            AnalyzerConfigOptions o = options.GetOptions(file);
            string? Get(string key) => o.TryGetValue(MetadataPrefix + key, out string? v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
            string? ns = Get("TypedTrtNamespace");
            if (ns is null && options.GlobalOptions.TryGetValue("build_property.RootNamespace", out string? root) && !string.IsNullOrWhiteSpace(root))
                ns = root.Trim();
            string text = file.GetText(ct)?.ToString() ?? "";
            return new ManifestInput(file.Path, text, Get("TypedTrtClassName"), ns, Get("TypedTrtStreams"), Get("TypedTrtSourceFile"), Get("TypedTrtSourceSha256"));
        }

        public static ParseResult Parse(ManifestInput input, CancellationToken ct)
        {
            var state = new State(input);
            BindingModel? model = null;
            try
            {
                model = state.Read(ct);
            }
            catch (ManifestError e)
            {
                state.Report(e.Id, e.Start, e.Length, e.Arguments);
            }

            return new ParseResult(model, state.Diagnostics.ToEquatableArray());
        }

        /// <summary>PascalCase identifier for a tensor name: every character that cannot appear in an identifier (and '_') breaks words.</summary>
        public static string ToIdentifier(string name)
        {
            var sb = new StringBuilder(name.Length);
            bool wordStart = true;
            foreach (char c in name)
            {
                bool part = char.IsLetterOrDigit(c);
                if (!part)
                {
                    wordStart = true;
                    continue;
                }

                sb.Append(wordStart ? char.ToUpperInvariant(c) : c);
                wordStart = false;
            }

            if (sb.Length > 0 && char.IsDigit(sb[0]))
                sb.Insert(0, 'T');
            return sb.ToString();
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

        private sealed class State
        {
            private readonly ManifestInput _input;
            private readonly SourceText _text;

            public State(ManifestInput input)
            {
                _input = input;
                _text = SourceText.From(input.Text);
            }

            public List<DiagnosticInfo> Diagnostics { get; } = [];

            public void Report(string id, int start, int length, params string[] args)
            {
                start = Math.Max(0, Math.Min(start, _text.Length));
                length = Math.Max(0, Math.Min(length, _text.Length - start));
                var span = new TextSpan(start, length);
                Diagnostics.Add(new DiagnosticInfo(id, _input.Path, span, _text.Lines.GetLinePositionSpan(span), args.ToEquatableArray()));
            }

            private static ManifestError Invalid(JsonNode node, string path, string message) =>
                new(DiagnosticDescriptors.InvalidManifest.Id, node.Start, node.Length, path, message);

            public BindingModel? Read(CancellationToken ct)
            {
                JsonNode root;
                try
                {
                    root = JsonNode.Parse(_input.Text);
                }
                catch (JsonSyntaxException e)
                {
                    LinePosition pos = _text.Lines.GetLinePosition(Math.Min(e.Offset, _text.Length));
                    throw new ManifestError(
                        DiagnosticDescriptors.InvalidJson.Id,
                        e.Offset,
                        e.Offset < _text.Length ? 1 : 0,
                        $"{e.Message} (line {pos.Line + 1}, column {pos.Character + 1})");
                }

                ct.ThrowIfCancellationRequested();
                if (root.Kind != JsonKind.Object)
                    throw Invalid(root, "$", "the manifest must be a JSON object");
                JsonNode schema = Required(root, "schema", "$", JsonKind.String);
                if (schema.Text != SchemaV1)
                    throw new ManifestError(DiagnosticDescriptors.UnsupportedSchema.Id, schema.Start, schema.Length, schema.Text!);

                // The class and namespace names first: they do not depend on the content.
                string className = ResolveClassName();
                string ns = ResolveNamespace();
                int streams = ResolveStreams();

                JsonNode source = Required(root, "source", "$", JsonKind.Object);
                string kind = Required(source, "kind", "source", JsonKind.String).Text!;
                if (kind is not ("onnx" or "tensorrt-engine"))
                    throw Invalid(Prop(source, "kind"), "source.kind", $"'{kind}' is not a model kind (expected 'onnx' or 'tensorrt-engine')");
                string file = Required(source, "file", "source", JsonKind.String).Text!;
                JsonNode shaNode = Required(source, "sha256", "source", JsonKind.String);
                string sha = shaNode.Text!;
                if (sha.Length != 64 || !IsLowerHex(sha))
                    throw Invalid(shaNode, "source.sha256", "must be 64 lower-case hex characters");
                Long(Required(source, "bytes", "source", JsonKind.Number), "source.bytes");
                string? trtVersion = source.TryGetProperty("tensorrtVersion", out JsonNode v) && v.Kind == JsonKind.String ? v.Text : null;

                if (_input.SourceSha256 is { } current && !string.Equals(current, sha, StringComparison.OrdinalIgnoreCase))
                {
                    string modelPath = _input.SourceFile ?? file;
                    Report(DiagnosticDescriptors.StaleManifest.Id, shaNode.Start, shaNode.Length, modelPath, sha, current.ToLowerInvariant(), _input.Path);
                }

                var tensors = ReadTensors(Required(root, "tensors", "$", JsonKind.Array), ct);
                var profiles = ReadProfiles(root, tensors);

                AssignNames(tensors, className);

                var models = new TensorModel[tensors.Count];
                for (int i = 0; i < tensors.Count; i++)
                {
                    RawTensor t = tensors[i];
                    long[] min = [], opt = [], max = [];
                    if (profiles.Count > 0 && profiles[0].TryGetValue(t.Name, out var range))
                        (min, opt, max) = range;
                    models[i] = t.ToModel(min, opt, max);
                }

                string json = _input.Text.Replace("\r\n", "\n");
                return new BindingModel(
                    HintName(ns, className, _input.Path),
                    ns,
                    className,
                    FileName(_input.Path),
                    kind,
                    file,
                    sha,
                    trtVersion,
                    streams,
                    profiles.Count,
                    json,
                    models.ToEquatableArray());
            }

            private string ResolveClassName()
            {
                if (_input.ClassName is { } name)
                {
                    if (!SyntaxFacts.IsValidIdentifier(name) || SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None)
                        throw new ManifestError(DiagnosticDescriptors.InvalidMetadata.Id, 0, 0, "ClassName", name, "it must be a C# identifier");
                    return name;
                }

                string stem = FileName(_input.Path);
                stem = stem.Substring(0, stem.Length - ManifestSuffix.Length);
                string id = ToIdentifier(stem);
                return id.Length == 0 ? "Model" : id;
            }

            private string ResolveNamespace()
            {
                string? ns = _input.Namespace;
                if (ns is null)
                    return "";
                foreach (string part in ns.Split('.'))
                {
                    if (!SyntaxFacts.IsValidIdentifier(part) || SyntaxFacts.GetKeywordKind(part) != SyntaxKind.None)
                        throw new ManifestError(DiagnosticDescriptors.InvalidMetadata.Id, 0, 0, "Namespace", ns, "it must be a dotted list of C# identifiers");
                }

                return ns;
            }

            private int ResolveStreams()
            {
                if (_input.Streams is not { } s)
                    return DefaultStreams;
                if (int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1)
                    return n;
                throw new ManifestError(DiagnosticDescriptors.InvalidMetadata.Id, 0, 0, "Streams", s, "it must be a positive integer");
            }

            private static List<RawTensor> ReadTensors(JsonNode array, CancellationToken ct)
            {
                var list = new List<RawTensor>(array.Items!.Count);
                var names = new HashSet<string>(StringComparer.Ordinal);
                for (int i = 0; i < array.Items.Count; i++)
                {
                    ct.ThrowIfCancellationRequested();
                    JsonNode t = array.Items[i];
                    string path = $"tensors[{i}]";
                    if (t.Kind != JsonKind.Object)
                        throw Invalid(t, path, $"must be an object, found {t.Describe()}");
                    JsonNode nameNode = Required(t, "name", path, JsonKind.String);
                    string name = nameNode.Text!;
                    if (name.Length == 0)
                        throw Invalid(nameNode, path + ".name", "must not be empty");
                    if (!names.Add(name))
                        throw Invalid(nameNode, path + ".name", $"tensor name '{name}' appears twice");
                    JsonNode modeNode = Required(t, "mode", path, JsonKind.String);
                    bool isInput = modeNode.Text switch
                    {
                        "input" => true,
                        "output" => false,
                        _ => throw Invalid(modeNode, path + ".mode", $"'{modeNode.Text}' is not a tensor mode (expected 'input' or 'output')"),
                    };
                    JsonNode dtypeNode = Required(t, "dtype", path, JsonKind.String);
                    string dtype = dtypeNode.Text!;
                    bool known = DataTypes.ContainsKey(dtype);
                    bool supported = !(t.TryGetProperty("supported", out JsonNode sup) && sup.Kind == JsonKind.False);
                    if (supported && !known)
                        throw Invalid(dtypeNode, path + ".dtype", $"'{dtype}' is not a TensorRT data type; an unsupported type must be marked \"supported\": false");
                    if (!supported && known)
                        throw Invalid(sup, path + ".supported", $"'{dtype}' is a TensorRT data type but is marked unsupported");

                    long[] shape = Longs(Required(t, "shape", path, JsonKind.Array), path + ".shape");
                    foreach (long d in shape)
                    {
                        if (d < -1)
                            throw Invalid(Prop(t, "shape"), path + ".shape", $"dimension {d} is invalid (use -1 for a dynamic dimension)");
                    }

                    string[] dimNames;
                    if (t.TryGetProperty("dimNames", out JsonNode dn))
                    {
                        if (dn.Kind != JsonKind.Array)
                            throw Invalid(dn, path + ".dimNames", "must be an array of strings");
                        dimNames = new string[dn.Items!.Count];
                        for (int k = 0; k < dimNames.Length; k++)
                        {
                            JsonNode e = dn.Items[k];
                            dimNames[k] = e.Kind == JsonKind.String ? e.Text! : throw Invalid(e, $"{path}.dimNames[{k}]", "must be a string");
                        }

                        if (dimNames.Length != shape.Length)
                            throw Invalid(dn, path + ".dimNames", $"{dimNames.Length} dim names for rank {shape.Length}");
                    }
                    else
                    {
                        dimNames = new string[shape.Length];
                        for (int k = 0; k < dimNames.Length; k++)
                            dimNames[k] = "";
                    }

                    string? format = null;
                    int vectorizedDim = -1, components = 1;
                    if (t.TryGetProperty("format", out JsonNode fmt))
                    {
                        if (fmt.Kind != JsonKind.String || !Formats.Contains(fmt.Text!))
                            throw Invalid(fmt, path + ".format", "is not a TensorRT tensor format");
                        format = fmt.Text;
                        if (t.TryGetProperty("vectorizedDim", out JsonNode vd))
                            vectorizedDim = (int)Long(vd, path + ".vectorizedDim");
                        if (t.TryGetProperty("componentsPerElement", out JsonNode cpe))
                            components = (int)Math.Max(1, Long(cpe, path + ".componentsPerElement"));
                    }

                    list.Add(new RawTensor(name, i, isInput, dtype, supported, shape, dimNames, format, vectorizedDim, components) { NameNode = nameNode, DTypeNode = dtypeNode });
                }

                return list;
            }

            private static List<Dictionary<string, (long[] Min, long[] Opt, long[] Max)>> ReadProfiles(JsonNode root, List<RawTensor> tensors)
            {
                var result = new List<Dictionary<string, (long[], long[], long[])>>();
                if (!root.TryGetProperty("profiles", out JsonNode array))
                    return result;
                if (array.Kind != JsonKind.Array)
                    throw Invalid(array, "profiles", "must be an array");
                for (int i = 0; i < array.Items!.Count; i++)
                {
                    string path = $"profiles[{i}]";
                    JsonNode p = array.Items[i];
                    if (p.Kind != JsonKind.Object)
                        throw Invalid(p, path, $"must be an object, found {p.Describe()}");
                    JsonNode inputs = Required(p, "inputs", path, JsonKind.Array);
                    var ranges = new Dictionary<string, (long[], long[], long[])>(StringComparer.Ordinal);
                    for (int k = 0; k < inputs.Items!.Count; k++)
                    {
                        string rp = $"{path}.inputs[{k}]";
                        JsonNode r = inputs.Items[k];
                        if (r.Kind != JsonKind.Object)
                            throw Invalid(r, rp, $"must be an object, found {r.Describe()}");
                        JsonNode nameNode = Required(r, "name", rp, JsonKind.String);
                        long[] min = Longs(Required(r, "min", rp, JsonKind.Array), rp + ".min");
                        long[] opt = Longs(Required(r, "opt", rp, JsonKind.Array), rp + ".opt");
                        long[] max = Longs(Required(r, "max", rp, JsonKind.Array), rp + ".max");
                        RawTensor? tensor = tensors.Find(t => t.Name == nameNode.Text);
                        if (tensor is null)
                            throw Invalid(nameNode, rp + ".name", $"'{nameNode.Text}' is not a tensor of this model");
                        if (!tensor.IsInput)
                            throw Invalid(nameNode, rp + ".name", $"'{nameNode.Text}' is an output");
                        if (min.Length != tensor.Shape.Length || opt.Length != min.Length || max.Length != min.Length)
                            throw Invalid(r, rp, $"min, opt and max must have the tensor's rank {tensor.Shape.Length}");
                        for (int d = 0; d < min.Length; d++)
                        {
                            if (min[d] < 0 || min[d] > opt[d] || opt[d] > max[d])
                                throw Invalid(r, rp, $"dimension {d} needs 0 <= min <= opt <= max, got {min[d]}, {opt[d]}, {max[d]}");
                            long fixedDim = tensor.Shape[d];
                            if (fixedDim >= 0 && (min[d] != fixedDim || max[d] != fixedDim))
                                throw Invalid(r, rp, $"static dimension {d} of '{tensor.Name}' (= {fixedDim}) is given the range {min[d]}..{max[d]}");
                        }

                        if (ranges.ContainsKey(tensor.Name))
                            throw Invalid(nameNode, rp + ".name", $"the profile names input '{tensor.Name}' twice");
                        ranges.Add(tensor.Name, (min, opt, max));
                    }

                    result.Add(ranges);
                }

                return result;
            }

            private void AssignNames(List<RawTensor> tensors, string className)
            {
                // Names every generated type uses besides tensor members; a tensor may not take them.
                var taken = new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    [className] = "the generated class name",
                    [className + "Input"] = "a generated type",
                    [className + "Output"] = "a generated type",
                    [className + "Lease"] = "a generated type",
                    [className + "Runner"] = "a generated type",
                    ["Signature"] = "a generated member",
                    ["ManifestJson"] = "a generated member",
                    ["ModelFileName"] = "a generated member",
                    ["ModelSha256"] = "a generated member",
                    ["ModelKind"] = "a generated member",
                    ["TensorRTVersion"] = "a generated member",
                    ["DefaultStreams"] = "a generated member",
                    ["ProfileCount"] = "a generated member",
                    ["InputCount"] = "a generated member",
                    ["OutputCount"] = "a generated member",
                    ["Inputs"] = "a generated member",
                    ["Outputs"] = "a generated member",
                    ["Lease"] = "a generated member",
                    ["InputBuffers"] = "a generated type",
                    ["OutputBuffers"] = "a generated type",
                };

                foreach (RawTensor t in tensors)
                {
                    if (!t.Supported)
                    {
                        JsonNode dt = t.DTypeNode;
                        Report(DiagnosticDescriptors.UnsupportedDataType.Id, dt.Start, dt.Length, t.Name, t.DType, className);
                        continue;
                    }

                    string baseName = ToIdentifier(t.Name);
                    if (baseName.Length == 0)
                        baseName = "Tensor" + t.Index.ToString(CultureInfo.InvariantCulture);
                    string name = baseName;
                    string? conflict = Conflict(name);
                    if (conflict is not null)
                    {
                        int n = 2;
                        while (Conflict(name = baseName + "_" + n.ToString(CultureInfo.InvariantCulture)) is not null)
                            n++;
                        JsonNode nameNode = t.NameNode;
                        Report(DiagnosticDescriptors.NameCollision.Id, nameNode.Start, nameNode.Length, t.Name, baseName, conflict, name);
                    }

                    t.PropertyName = name;
                    string owner = $"tensor '{t.Name}'";
                    taken[name] = owner;
                    taken[name + "Shape"] = owner;
                    taken["Set" + name + "Shape"] = owner;
                }

                string? Conflict(string candidate)
                {
                    foreach (string form in new[] { candidate, candidate + "Shape", "Set" + candidate + "Shape" })
                    {
                        if (taken.TryGetValue(form, out string? owner))
                            return owner;
                    }

                    return null;
                }

            }

            private static JsonNode Required(JsonNode parent, string name, string path, JsonKind kind)
            {
                if (!parent.TryGetProperty(name, out JsonNode value))
                    throw Invalid(parent, path, $"required property '{name}' is missing");
                if (value.Kind != kind && !(kind == JsonKind.Number && value.Kind == JsonKind.Number))
                {
                    string expected = kind switch
                    {
                        JsonKind.String => "a string",
                        JsonKind.Array => "an array",
                        JsonKind.Object => "an object",
                        _ => "a number",
                    };
                    throw Invalid(value, path == "$" ? name : path + "." + name, $"must be {expected}, found {value.Describe()}");
                }

                return value;
            }

            private static long Long(JsonNode node, string path) =>
                node.TryGetInt64(out long v) ? v : throw Invalid(node, path, $"must be an integer, found {node.Describe()}");

            private static long[] Longs(JsonNode array, string path)
            {
                var result = new long[array.Items!.Count];
                for (int i = 0; i < result.Length; i++)
                    result[i] = Long(array.Items[i], $"{path}[{i}]");
                return result;
            }

            private static bool IsLowerHex(string s)
            {
                foreach (char c in s)
                {
                    if (!(c is >= '0' and <= '9' or >= 'a' and <= 'f'))
                        return false;
                }

                return true;
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

        private static JsonNode Prop(JsonNode node, string name) =>
            node.TryGetProperty(name, out JsonNode value) ? value : throw new KeyNotFoundException(name);

        private sealed class RawTensor
        {
            public RawTensor(string name, int index, bool isInput, string dtype, bool supported, long[] shape, string[] dimNames, string? format, int vectorizedDim, int components)
            {
                Name = name;
                Index = index;
                IsInput = isInput;
                DType = dtype;
                Supported = supported;
                Shape = shape;
                DimNames = dimNames;
                Format = format;
                VectorizedDim = vectorizedDim;
                Components = components;
            }

            public string Name { get; }

            public int Index { get; }

            public bool IsInput { get; }

            public string DType { get; }

            public bool Supported { get; }

            public long[] Shape { get; }

            public string[] DimNames { get; }

            public string? Format { get; }

            public int VectorizedDim { get; }

            public int Components { get; }

            public string PropertyName { get; set; } = "";

            public JsonNode NameNode { get; set; } = null!;

            public JsonNode DTypeNode { get; set; } = null!;

            public TensorModel ToModel(long[] min, long[] opt, long[] max)
            {
                long? elements = null, bytes = null, length = null;
                string? clr = null;
                bool raw = false;
                if (Supported)
                {
                    var (clrType, isRaw, bits) = DataTypes[DType];
                    clr = clrType;
                    raw = isRaw;
                    if (Array.IndexOf(Shape, -1L) < 0)
                    {
                        long e = 1, padded = 1;
                        for (int i = 0; i < Shape.Length; i++)
                        {
                            e = checked(e * Shape[i]);
                            long d = Shape[i];
                            if (Components > 1 && VectorizedDim == i)
                                d = (d + Components - 1) / Components * Components;
                            padded = checked(padded * d);
                        }

                        elements = e;
                        bytes = checked(((padded * bits) + 7) / 8);
                        length = raw ? bytes : bytes * 8 / bits;
                    }
                }

                return new TensorModel(
                    Name,
                    Index,
                    IsInput,
                    DType,
                    clr,
                    raw,
                    Shape.ToEquatableArray(),
                    DimNames.ToEquatableArray(),
                    PropertyName,
                    elements,
                    bytes,
                    length,
                    min.ToEquatableArray(),
                    opt.ToEquatableArray(),
                    max.ToEquatableArray(),
                    Format);
            }
        }
    }
}
