// Shared source (TypedTrt.Manifest and TypedTrt.Generators); netstandard2.0-compatible.
using System.Collections.Generic;

namespace TypedTrt.Manifest.Shared;

/// <summary>The kinds of JSON values the shared manifest reader distinguishes.</summary>
internal enum ManifestJsonKind
{
    Null,
    False,
    True,
    Number,
    String,
    Array,
    Object,
}

/// <summary>
/// What the shared <see cref="ManifestReader{T}"/> needs from a parsed JSON document: the runtime adapts
/// System.Text.Json's <c>JsonElement</c>, the generator its own position-tracking <c>JsonNode</c>.
/// </summary>
/// <typeparam name="T">The adapter's node type.</typeparam>
internal abstract class JsonAccess<T>
{
    public abstract ManifestJsonKind Kind(T node);

    public abstract bool TryGetProperty(T obj, string name, out T value);

    public abstract IEnumerable<KeyValuePair<string, T>> Properties(T obj);

    public abstract IEnumerable<T> Items(T array);

    /// <summary>The string value, or <see langword="null"/> when it is not valid Unicode (an unpaired surrogate escape).</summary>
    public abstract string? GetString(T node);

    public abstract bool TryGetInt64(T node, out long value);

    /// <summary>The raw JSON text of a number.</summary>
    public abstract string RawNumber(T node);
}
