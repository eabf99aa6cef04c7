using System.Collections.ObjectModel;
using System.Globalization;

namespace TypedTrt.Inspection;

/// <summary>The min/opt/max range of one named dimension (<c>batch=1..32:8</c>).</summary>
/// <param name="Min">Smallest value.</param>
/// <param name="Opt">Value the engine is tuned for.</param>
/// <param name="Max">Largest value.</param>
public readonly record struct DimRange(long Min, long Opt, long Max)
{
    /// <summary>Formats the range as <c>min..max:opt</c>.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Min}..{Max}:{Opt}");
}

/// <summary>
/// One optimization profile given by ranges for named (symbolic) dimensions, e.g. <c>batch=1..32:8,seq=1..512:128</c>,
/// or for one dimension of one input by tensor name and index, e.g. <c>state[1]=1..8:1</c> (for dynamic dims without a
/// name, as in Silero VAD; an indexed range wins over a named one for that dim). Every dynamic input whose dynamic
/// dimensions all have a range gets a shape range in the profile.
/// </summary>
public sealed class ProfileSpec
{
    private readonly SortedDictionary<string, DimRange> _ranges;

    /// <summary>Creates a profile from ranges by dimension name.</summary>
    /// <exception cref="ArgumentException">A name is empty or a range does not satisfy 0 ≤ min ≤ opt ≤ max.</exception>
    public ProfileSpec(IEnumerable<KeyValuePair<string, DimRange>> ranges)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        _ranges = new SortedDictionary<string, DimRange>(StringComparer.Ordinal);
        foreach (var (name, r) in ranges)
        {
            if (string.IsNullOrEmpty(name))
                throw new ArgumentException("A profile range needs a dimension name.", nameof(ranges));
            if (r.Min < 0 || r.Min > r.Opt || r.Opt > r.Max)
                throw new ArgumentException($"Range for '{name}' needs 0 <= min <= opt <= max, got min {r.Min}, opt {r.Opt}, max {r.Max}.", nameof(ranges));
            if (!_ranges.TryAdd(name, r))
                throw new ArgumentException($"Dimension '{name}' is given two ranges in one profile.", nameof(ranges));
        }

        if (_ranges.Count == 0)
            throw new ArgumentException("A profile needs at least one range.", nameof(ranges));
        Ranges = new ReadOnlyDictionary<string, DimRange>(_ranges);
    }

    /// <summary>The ranges by dimension name or by <c>tensor[index]</c> (ordinal order).</summary>
    public IReadOnlyDictionary<string, DimRange> Ranges { get; }

    /// <summary>The key of a range for dimension <paramref name="index"/> of input <paramref name="tensor"/>: <c>tensor[index]</c>.</summary>
    public static string IndexedKey(string tensor, int index) =>
        string.Create(CultureInfo.InvariantCulture, $"{tensor}[{index}]");

    /// <summary>Whether a range key names a dimension by tensor and index (<c>state[1]</c>), and which.</summary>
    /// <param name="key">A key of <see cref="Ranges"/>.</param>
    /// <param name="tensor">The tensor name.</param>
    /// <param name="index">The dimension index.</param>
    public static bool TryParseIndexedKey(string key, out string tensor, out int index)
    {
        ArgumentNullException.ThrowIfNull(key);
        tensor = "";
        index = -1;
        int open = key.LastIndexOf('[');
        if (open <= 0 || key[^1] != ']')
            return false;
        if (!int.TryParse(key.AsSpan(open + 1, key.Length - open - 2), NumberStyles.None, CultureInfo.InvariantCulture, out index))
            return false;
        tensor = key[..open];
        return true;
    }

    /// <summary>Formats the profile as it is parsed: <c>a=1..8:4,b=1..16:16</c>.</summary>
    public override string ToString() => string.Join(",", _ranges.Select(static kv => $"{kv.Key}={kv.Value}"));

    /// <summary>
    /// Parses the values of one or more <c>--profile</c> options. Each value holds comma-separated
    /// <c>name=min..max:opt</c> items (<c>name=min..max</c> means opt = max, <c>name=n</c> means a fixed value), where
    /// name is a dimension name or <c>tensor[index]</c>.
    /// Values are merged into one profile until one names a dimension the profile already has: that value starts the
    /// next profile. So <c>--profile batch=1..8:4 --profile seq=1..64:32</c> is one profile, and
    /// <c>--profile batch=1..8:4 --profile batch=16..32:32</c> two.
    /// </summary>
    /// <exception cref="FormatException">A value is malformed; the message quotes it and shows the syntax.</exception>
    public static IReadOnlyList<ProfileSpec> ParseAll(IEnumerable<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var profiles = new List<ProfileSpec>();
        var current = new List<KeyValuePair<string, DimRange>>();
        foreach (string value in values)
        {
            var items = ParseItems(value);
            if (items.Any(i => current.Any(c => c.Key == i.Key)))
            {
                profiles.Add(new ProfileSpec(current));
                current = [];
            }

            foreach (var item in items)
            {
                if (current.Any(c => c.Key == item.Key))
                    throw new FormatException($"--profile '{value}' gives '{item.Key}' twice.");
                current.Add(item);
            }
        }

        if (current.Count > 0)
            profiles.Add(new ProfileSpec(current));
        return profiles;
    }

    /// <summary>Parses one profile value (<c>batch=1..32:8,seq=1..512:128</c>).</summary>
    /// <exception cref="FormatException">The value is malformed.</exception>
    public static ProfileSpec Parse(string value)
    {
        var items = ParseItems(value);
        try
        {
            return new ProfileSpec(items);
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"--profile '{value}': {StripParam(e)}", e);
        }
    }

    private static List<KeyValuePair<string, DimRange>> ParseItems(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var items = new List<KeyValuePair<string, DimRange>>();
        foreach (string raw in value.Split(',', StringSplitOptions.TrimEntries))
        {
            int eq = raw.LastIndexOf('=');
            if (eq <= 0 || eq == raw.Length - 1)
                throw Bad(value, raw, "expected NAME=MIN..MAX:OPT");
            string name = raw[..eq].Trim();
            if (name.Contains('[', StringComparison.Ordinal) && !TryParseIndexedKey(name, out _, out _))
                throw Bad(value, raw, $"'{name}' is neither a dimension name nor TENSOR[INDEX] with a whole-number index");
            string range = raw[(eq + 1)..].Trim();
            long min, opt, max;
            int dots = range.IndexOf("..", StringComparison.Ordinal);
            if (dots < 0)
            {
                min = opt = max = Number(value, raw, range);
            }
            else
            {
                min = Number(value, raw, range[..dots]);
                string rest = range[(dots + 2)..];
                int colon = rest.IndexOf(':', StringComparison.Ordinal);
                if (colon < 0)
                {
                    max = opt = Number(value, raw, rest);
                }
                else
                {
                    max = Number(value, raw, rest[..colon]);
                    opt = Number(value, raw, rest[(colon + 1)..]);
                }
            }

            if (min < 0 || min > opt || opt > max)
                throw Bad(value, raw, $"needs 0 <= min <= opt <= max (got min {min}, opt {opt}, max {max})");
            items.Add(new(name, new DimRange(min, opt, max)));
        }

        return items;
    }

    private static long Number(string value, string item, string text) =>
        long.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long n)
            ? n
            : throw Bad(value, item, $"'{text}' is not a whole number");

    private static FormatException Bad(string value, string item, string what) =>
        new($"--profile '{value}': '{item}': {what}. Syntax: NAME=MIN..MAX:OPT[,NAME=...] where NAME is a dim name or TENSOR[INDEX], e.g. batch=1..32:8 or state[1]=1..8:1.");

    internal static string StripParam(ArgumentException e) =>
        e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal);
}

/// <summary>Options for <see cref="ModelInspector.Inspect(string, InspectionOptions?)"/>.</summary>
public sealed class InspectionOptions
{
    /// <summary>Optimization profiles to put in the manifest of an ONNX model (engines carry their own).</summary>
    public IReadOnlyList<ProfileSpec> Profiles { get; init; } = [];
}
