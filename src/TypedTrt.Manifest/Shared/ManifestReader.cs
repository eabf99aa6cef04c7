// Shared source (TypedTrt.Manifest and TypedTrt.Generators); netstandard2.0-compatible.
// The one validator of typedtrt.bindings/v1: the runtime's ManifestSerializer and the generator both read through it,
// so the build accepts exactly the manifests the runtime accepts.
using System.Collections.Generic;
using System.Globalization;

namespace TypedTrt.Manifest.Shared;

/// <summary>Reads and validates a <c>typedtrt.bindings/v1</c> manifest from any JSON tree into <see cref="ManifestData"/>.</summary>
/// <typeparam name="T">The JSON adapter's node type.</typeparam>
internal sealed class ManifestReader<T>
{
    public const string SchemaV1 = "typedtrt.bindings/v1";

    private readonly JsonAccess<T> _json;

    public ManifestReader(JsonAccess<T> json) => _json = json;

    /// <summary>Reads a whole manifest.</summary>
    /// <exception cref="ManifestRuleException">A rule is broken.</exception>
    public ManifestData Read(T root)
    {
        if (_json.Kind(root) != ManifestJsonKind.Object)
            throw Error("$", "the manifest must be a JSON object", root);
        T schemaNode = Required(root, "schema", "$", ManifestJsonKind.String);
        string schema = Str(schemaNode, "schema");
        if (schema != SchemaV1)
        {
            bool newer = schema.StartsWith("typedtrt.bindings/v", System.StringComparison.Ordinal);
            throw new ManifestRuleException(
                "schema",
                newer
                    ? $"schema '{schema}' is not supported by this TypedTrt, which reads '{SchemaV1}'; update the TypedTrt package, or regenerate the manifest with this version's inspector"
                    : $"schema '{schema}' is not a TypedTrt binding manifest (expected '{SchemaV1}')",
                schemaNode)
            { UnsupportedSchema = schema };
        }

        var data = new ManifestData();
        ReadSource(Required(root, "source", "$", ManifestJsonKind.Object), data);
        T tensors = Required(root, "tensors", "$", ManifestJsonKind.Array);
        var names = new Dictionary<string, int>(System.StringComparer.Ordinal);
        int i = 0;
        foreach (T t in _json.Items(tensors))
        {
            TensorData tensor = ReadTensor(t, "tensors[" + Num(i) + "]", names);
            data.Tensors.Add(tensor);
            i++;
        }

        if (_json.TryGetProperty(root, "profiles", out T profiles))
        {
            if (_json.Kind(profiles) != ManifestJsonKind.Array)
                throw Error("profiles", "must be an array, found " + Describe(profiles), profiles);
            int p = 0;
            foreach (T profile in _json.Items(profiles))
            {
                data.Profiles.Add(ReadProfile(profile, "profiles[" + Num(p) + "]", data, names));
                p++;
            }
        }

        return data;
    }

    private void ReadSource(T s, ManifestData data)
    {
        const string p = "source";
        string kind = Str(Required(s, "kind", p, ManifestJsonKind.String), "source.kind");
        data.IsEngine = kind switch
        {
            "onnx" => false,
            "tensorrt-engine" => true,
            _ => throw Error("source.kind", $"'{kind}' is not a model kind (expected 'onnx' or 'tensorrt-engine')", Prop(s, "kind")),
        };
        T fileNode = Required(s, "file", p, ManifestJsonKind.String);
        data.File = Str(fileNode, "source.file");
        if (data.File.Length == 0)
            throw Error("source.file", "must not be empty", fileNode);
        T shaNode = Required(s, "sha256", p, ManifestJsonKind.String);
        data.Sha256 = Str(shaNode, "source.sha256");
        if (!IsSha256(data.Sha256))
            throw Error("source.sha256", "must be 64 lower-case hex characters", shaNode);
        T bytesNode = Required(s, "bytes", p, ManifestJsonKind.Number);
        data.Bytes = Long(bytesNode, "source.bytes");
        if (data.Bytes < 0)
            throw Error("source.bytes", "must not be negative, found " + Num(data.Bytes), bytesNode);
        data.TensorRTVersion = OptString(s, "tensorrtVersion", p);
        if (_json.TryGetProperty(s, "onnx", out T o))
        {
            Obj(o, "source.onnx");
            var onnx = new OnnxData
            {
                IrVersion = Long(Required(o, "irVersion", "source.onnx", ManifestJsonKind.Number), "source.onnx.irVersion"),
                ProducerName = OptString(o, "producerName", "source.onnx") ?? "",
                ProducerVersion = OptString(o, "producerVersion", "source.onnx") ?? "",
            };
            if (_json.TryGetProperty(o, "opsets", out T ops))
            {
                foreach (var prop in _json.Properties(Obj(ops, "source.onnx.opsets")))
                    onnx.Opsets.Add(new KeyValuePair<string, long>(prop.Key, Long(prop.Value, "source.onnx.opsets." + prop.Key)));
            }

            data.Onnx = onnx;
        }

        if (_json.TryGetProperty(s, "metadata", out T m))
        {
            foreach (var prop in _json.Properties(Obj(m, "source.metadata")))
            {
                if (_json.Kind(prop.Value) != ManifestJsonKind.String)
                    throw Error("source.metadata." + prop.Key, "metadata values must be strings, found " + Describe(prop.Value), prop.Value);
                data.Metadata.Add(new KeyValuePair<string, string>(prop.Key, Str(prop.Value, "source.metadata." + prop.Key)));
            }
        }
    }

    private TensorData ReadTensor(T t, string path, Dictionary<string, int> names)
    {
        Obj(t, path);
        var tensor = new TensorData();
        T nameNode = Required(t, "name", path, ManifestJsonKind.String);
        tensor.Name = Str(nameNode, path + ".name");
        if (tensor.Name.Length == 0)
            throw Error(path + ".name", "must not be empty", nameNode);
        if (names.ContainsKey(tensor.Name))
            throw Error(path + ".name", $"tensor name '{tensor.Name}' appears twice", nameNode);
        names.Add(tensor.Name, names.Count);

        T modeNode = Required(t, "mode", path, ManifestJsonKind.String);
        string mode = Str(modeNode, path + ".mode");
        tensor.IsInput = mode switch
        {
            "input" => true,
            "output" => false,
            _ => throw Error(path + ".mode", $"'{mode}' is not a tensor mode (expected 'input' or 'output')", modeNode),
        };

        T dtypeNode = Required(t, "dtype", path, ManifestJsonKind.String);
        tensor.DType = Str(dtypeNode, path + ".dtype");
        if (tensor.DType.Length == 0)
            throw Error(path + ".dtype", "must not be empty", dtypeNode);
        int typeIndex = DataTypeTable.IndexOf(tensor.DType);
        bool supported = true;
        if (_json.TryGetProperty(t, "supported", out T sup))
        {
            supported = _json.Kind(sup) switch
            {
                ManifestJsonKind.True => true,
                ManifestJsonKind.False => false,
                _ => throw Error(path + ".supported", "must be true or false, found " + Describe(sup), sup),
            };
        }

        if (supported && typeIndex < 0)
            throw Error(path + ".dtype", $"'{tensor.DType}' is not a TensorRT data type; an unsupported type must be marked \"supported\": false", dtypeNode);
        if (!supported && typeIndex >= 0)
            throw Error(path + ".supported", $"'{tensor.DType}' is a TensorRT data type but is marked unsupported", sup);
        tensor.TypeIndex = supported ? typeIndex : -1;

        T shapeNode = Required(t, "shape", path, ManifestJsonKind.Array);
        tensor.Shape = Longs(shapeNode, path + ".shape");
        if (tensor.Shape.Length > ManifestLimits.MaxRank)
            throw Error(path + ".shape", $"rank {Num(tensor.Shape.Length)} exceeds the {Num(ManifestLimits.MaxRank)} dimensions the runtime supports", shapeNode);
        for (int d = 0; d < tensor.Shape.Length; d++)
        {
            long dim = tensor.Shape[d];
            if (dim < -1)
                throw Error(path + ".shape", $"dimension {Num(d)} is {Num(dim)}, which is invalid (use -1 for a dynamic dimension)", shapeNode);
            if (dim > ManifestLimits.MaxDimension)
                throw Error(path + ".shape", $"dimension {Num(d)} is {Num(dim)}, above the largest dimension the runtime can allocate ({Num(ManifestLimits.MaxDimension)})", shapeNode);
        }

        if (_json.TryGetProperty(t, "dimNames", out T dn))
        {
            if (_json.Kind(dn) != ManifestJsonKind.Array)
                throw Error(path + ".dimNames", "must be an array of strings, found " + Describe(dn), dn);
            var list = new List<string>();
            foreach (T e in _json.Items(dn))
            {
                string p = path + ".dimNames[" + Num(list.Count) + "]";
                if (_json.Kind(e) != ManifestJsonKind.String)
                    throw Error(p, "must be a string, found " + Describe(e), e);
                list.Add(Str(e, p));
            }

            if (list.Count != tensor.Shape.Length)
                throw Error(path + ".dimNames", $"{Num(list.Count)} dim names for rank {Num(tensor.Shape.Length)}", dn);
            tensor.DimNames = list.ToArray();
        }
        else
        {
            tensor.DimNames = new string[tensor.Shape.Length];
            for (int k = 0; k < tensor.DimNames.Length; k++)
                tensor.DimNames[k] = "";
        }

        if (_json.TryGetProperty(t, "format", out T fmt))
        {
            if (_json.Kind(fmt) != ManifestJsonKind.String)
                throw Error(path + ".format", "must be a string, found " + Describe(fmt), fmt);
            string fname = Str(fmt, path + ".format");
            int fi = TensorFormatTable.IndexOf(fname);
            if (fi < 0)
                throw Error(path + ".format", $"'{fname}' is not a TensorRT tensor format", fmt);
            var layout = new LayoutData { FormatIndex = fi };
            if (OptLong(t, "vectorizedDim", path) is long vd)
            {
                if (vd < -1 || vd >= tensor.Shape.Length)
                    throw Error(path + ".vectorizedDim", $"is {Num(vd)}; it must be -1 or a dimension index below the rank {Num(tensor.Shape.Length)}", Prop(t, "vectorizedDim"));
                layout.VectorizedDim = (int)vd;
            }

            if (OptLong(t, "componentsPerElement", path) is long cpe)
            {
                if (cpe < 1 || cpe > ManifestLimits.MaxComponents)
                    throw Error(path + ".componentsPerElement", $"is {Num(cpe)}; it must be 1..{Num(ManifestLimits.MaxComponents)}", Prop(t, "componentsPerElement"));
                layout.Components = (int)cpe;
            }

            if (OptLong(t, "bytesPerComponent", path) is long bpc)
            {
                if (bpc < 0 || bpc > int.MaxValue)
                    throw Error(path + ".bytesPerComponent", $"is {Num(bpc)}; it must be 0..{Num(int.MaxValue)}", Prop(t, "bytesPerComponent"));
                layout.BytesPerComponent = (int)bpc;
            }

            string loc = OptString(t, "location", path) ?? "device";
            layout.IsHost = loc switch
            {
                "device" => false,
                "host" => true,
                _ => throw Error(path + ".location", $"'{loc}' is not a location (expected 'device' or 'host')", Prop(t, "location")),
            };
            if (_json.TryGetProperty(t, "isShapeTensor", out T ist))
            {
                layout.IsShapeTensor = _json.Kind(ist) switch
                {
                    ManifestJsonKind.True => true,
                    ManifestJsonKind.False => false,
                    _ => throw Error(path + ".isShapeTensor", "must be true or false, found " + Describe(ist), ist),
                };
            }

            tensor.Layout = layout;
        }
        else
        {
            foreach (string layoutProperty in LayoutProperties)
            {
                if (_json.TryGetProperty(t, layoutProperty, out T stray))
                    throw Error(path + "." + layoutProperty, "layout properties need 'format'", stray);
            }
        }

        if (tensor.TypeIndex >= 0 && !tensor.IsDynamic)
            CheckBufferSize(tensor, tensor.Shape, path + ".shape", shapeNode, "its shape");
        return tensor;
    }

    private static readonly string[] LayoutProperties = ["vectorizedDim", "componentsPerElement", "bytesPerComponent", "location", "isShapeTensor"];

    private List<ProfileRangeData> ReadProfile(T profile, string path, ManifestData data, Dictionary<string, int> names)
    {
        Obj(profile, path);
        var ranges = new List<ProfileRangeData>();
        var seen = new HashSet<string>(System.StringComparer.Ordinal);
        int k = 0;
        foreach (T r in _json.Items(Required(profile, "inputs", path, ManifestJsonKind.Array)))
        {
            string rp = path + ".inputs[" + Num(k++) + "]";
            Obj(r, rp);
            T nameNode = Required(r, "name", rp, ManifestJsonKind.String);
            string name = Str(nameNode, rp + ".name");
            var range = new ProfileRangeData
            {
                Name = name,
                Min = Longs(Required(r, "min", rp, ManifestJsonKind.Array), rp + ".min"),
                Opt = Longs(Required(r, "opt", rp, ManifestJsonKind.Array), rp + ".opt"),
                Max = Longs(Required(r, "max", rp, ManifestJsonKind.Array), rp + ".max"),
            };
            if (!names.TryGetValue(name, out int index))
                throw Error(rp + ".name", $"'{name}' is not a tensor of this model", nameNode);
            TensorData tensor = data.Tensors[index];
            if (!tensor.IsInput)
                throw Error(rp + ".name", $"'{name}' is an output", nameNode);
            if (!seen.Add(name))
                throw Error(rp + ".name", $"the profile names input '{name}' twice", nameNode);
            range.TensorIndex = index;
            if (range.Min.Length != tensor.Shape.Length || range.Opt.Length != tensor.Shape.Length || range.Max.Length != tensor.Shape.Length)
                throw Error(rp, $"min, opt and max must have the tensor's rank {Num(tensor.Shape.Length)}", r);
            for (int d = 0; d < range.Min.Length; d++)
            {
                long min = range.Min[d], opt = range.Opt[d], max = range.Max[d];
                if (min < 0 || min > opt || opt > max)
                    throw Error(rp, $"dimension {Num(d)} needs 0 <= min <= opt <= max, got {Num(min)}, {Num(opt)}, {Num(max)}", r);
                if (max > ManifestLimits.MaxDimension)
                    throw Error(rp + ".max", $"dimension {Num(d)} is {Num(max)}, above the largest dimension the runtime can allocate ({Num(ManifestLimits.MaxDimension)})", r);
                long fixedDim = tensor.Shape[d];
                if (fixedDim >= 0 && (min != fixedDim || max != fixedDim))
                    throw Error(rp, $"static dimension {Num(d)} of '{name}' (= {Num(fixedDim)}) is given the range {Num(min)}..{Num(max)}", r);
            }

            if (tensor.TypeIndex >= 0)
                CheckBufferSize(tensor, range.Max, rp + ".max", r, "its profile maximum");
            ranges.Add(range);
        }

        return ranges;
    }

    /// <summary>The buffer for <paramref name="shape"/> must fit one .NET span or array.</summary>
    private static void CheckBufferSize(TensorData tensor, long[] shape, string path, T node, string what)
    {
        int bits = DataTypeTable.BitsPerElement(tensor.TypeIndex);
        LayoutData? l = tensor.Layout;
        long bytes = ByteMath.TryByteCount(shape, bits, l?.VectorizedDim ?? -1, l?.Components ?? 1);
        long elements = ByteMath.TryElementCount(shape);
        long length = bytes < 0 ? -1 : ByteMath.ClrLength(bytes, tensor.TypeIndex);
        if (bytes < 0 || elements < 0 || length > ManifestLimits.MaxBufferElements || elements > ManifestLimits.MaxBufferElements)
        {
            string count = elements < 0 ? "more than 2^63" : Num(elements);
            throw Error(path, $"tensor '{tensor.Name}' needs {count} elements at {what}, more than the {Num(ManifestLimits.MaxBufferElements)} a runtime buffer can hold", node);
        }
    }

    private static ManifestRuleException Error(string path, string reason, T node) => new(path, reason, node);

    private T Prop(T obj, string name) => _json.TryGetProperty(obj, name, out T v) ? v : obj;

    private T Obj(T node, string path) =>
        _json.Kind(node) == ManifestJsonKind.Object ? node : throw Error(path, "must be an object, found " + Describe(node), node);

    private T Required(T parent, string name, string path, ManifestJsonKind kind)
    {
        if (!_json.TryGetProperty(parent, name, out T value))
            throw Error(path, $"required property '{name}' is missing", parent);
        if (_json.Kind(value) != kind)
        {
            string expected = kind switch
            {
                ManifestJsonKind.String => "a string",
                ManifestJsonKind.Array => "an array",
                ManifestJsonKind.Object => "an object",
                _ => "an integer",
            };
            throw Error(Join(path, name), $"must be {expected}, found {Describe(value)}", value);
        }

        return value;
    }

    private string Str(T node, string path) =>
        _json.GetString(node) ?? throw Error(path, "is not valid Unicode (an unpaired surrogate escape)", node);

    private string? OptString(T parent, string name, string path)
    {
        if (!_json.TryGetProperty(parent, name, out T value))
            return null;
        return _json.Kind(value) == ManifestJsonKind.String
            ? Str(value, Join(path, name))
            : throw Error(Join(path, name), "must be a string, found " + Describe(value), value);
    }

    private long? OptLong(T parent, string name, string path) =>
        _json.TryGetProperty(parent, name, out T value) ? Long(value, Join(path, name)) : null;

    private long Long(T node, string path) =>
        _json.Kind(node) == ManifestJsonKind.Number && _json.TryGetInt64(node, out long v)
            ? v
            : throw Error(path, "must be an integer, found " + Describe(node), node);

    private long[] Longs(T array, string path)
    {
        var list = new List<long>();
        foreach (T item in _json.Items(array))
            list.Add(Long(item, path + "[" + Num(list.Count) + "]"));
        return list.ToArray();
    }

    private string Describe(T node) => _json.Kind(node) switch
    {
        ManifestJsonKind.String => "a string",
        ManifestJsonKind.Number => "the number " + _json.RawNumber(node),
        ManifestJsonKind.True => "true",
        ManifestJsonKind.False => "false",
        ManifestJsonKind.Null => "null",
        ManifestJsonKind.Array => "an array",
        _ => "an object",
    };

    private static bool IsSha256(string s)
    {
        if (s.Length != 64)
            return false;
        foreach (char c in s)
        {
            if (!(c is >= '0' and <= '9' or >= 'a' and <= 'f'))
                return false;
        }

        return true;
    }

    private static string Join(string path, string name) => path == "$" ? name : path + "." + name;

    private static string Num(long value) => value.ToString(CultureInfo.InvariantCulture);
}
