using YamlDotNet.RepresentationModel;

namespace Concord.Lab.Scenarios;

/// <summary>
/// One mapping of the scenario schema (the file itself, <c>topology</c>, a region, a variant...).
/// Created through <see cref="Read"/>, which rejects keys the schema does not know (suggesting the
/// closest one); the getters then hand out typed values with their field path, reporting what is
/// missing or wrong. Getters return the fallback when the key is absent and null when the value
/// is wrong, so callers can skip cross-checks on values that are already reported.
/// </summary>
internal sealed class YamlMap
{
    readonly ScenarioDiagnostics diagnostics;
    readonly Dictionary<string, YamlNode> values;

    /// <summary>Keys that an unknown key was reported as a misspelling of: not reported again as missing.</summary>
    readonly HashSet<string> suggested;

    YamlMap(YamlMappingNode node, string field, ScenarioDiagnostics diagnostics, Dictionary<string, YamlNode> values, HashSet<string> suggested)
    {
        Node = node;
        Field = field;
        this.diagnostics = diagnostics;
        this.values = values;
        this.suggested = suggested;
    }

    public YamlMappingNode Node { get; }

    /// <summary>Path of this mapping; empty for the file's top level.</summary>
    public string Field { get; }

    /// <summary>
    /// The mapping at <paramref name="node"/>, whose keys must come from <paramref name="keys"/>;
    /// null (reported) when the node is not a mapping. Unknown keys are reported and ignored.
    /// </summary>
    /// <param name="owner">Names the mapping in the unknown-key message followed by its keys (e.g. "a partition fault takes"); null for "the keys here are".</param>
    public static YamlMap? Read(YamlNode node, string field, ScenarioDiagnostics diagnostics, IReadOnlyList<string> keys, string? owner = null)
    {
        if (node is not YamlMappingNode mapping)
        {
            var what = field.Length > 0 ? "must be" : "a scenario must be";
            diagnostics.Report(node, field, $"{what} a mapping (key: value lines) with keys {string.Join(", ", keys)}; got {YamlValues.Describe(node)}");
            return null;
        }

        var values = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        var suggested = new HashSet<string>(StringComparer.Ordinal);

        // A misspelling is never taken for a key that is also written correctly.
        var present = mapping.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value).ToHashSet(StringComparer.Ordinal);
        foreach (var (keyNode, value) in mapping.Children)
        {
            // YamlDotNet has already rejected duplicate keys while loading.
            if (keyNode is not YamlScalarNode { Value: { } key } || YamlValues.IsNull(keyNode))
            {
                diagnostics.Report(keyNode, field, $"keys must be plain names ({string.Join(", ", keys)}); got {YamlValues.Describe(keyNode)}");
                continue;
            }

            if (!keys.Contains(key, StringComparer.Ordinal))
            {
                var closest = Suggestions.Closest(key, keys.Where(k => !present.Contains(k)));
                var message = closest is not null
                    ? $"unknown key {YamlValues.Quote(key)}; did you mean '{closest}'?"
                    : $"unknown key {YamlValues.Quote(key)}; {owner ?? "the keys here are"}: {string.Join(", ", keys)}";
                if (closest is not null)
                {
                    suggested.Add(closest);
                }

                diagnostics.Report(keyNode, Join(field, key), message);
                continue;
            }

            values[key] = value;
        }

        return new YamlMap(mapping, field, diagnostics, values, suggested);
    }

    public string FieldOf(string key) => Join(Field, key);

    public bool Has(string key) => values.ContainsKey(key);

    /// <summary>The value's node, or null when absent (and not required).</summary>
    public YamlNode? Get(string key, bool required = false)
    {
        if (values.TryGetValue(key, out var node))
        {
            return node;
        }

        if (required && !suggested.Contains(key))
        {
            diagnostics.Report(Node, FieldOf(key), "required key is missing");
        }

        return null;
    }

    public double? Number(string key, Bounds bounds, double? fallback = null) =>
        Get(key, required: fallback is null) is { } node ? YamlValues.Number(node, FieldOf(key), diagnostics, bounds) : fallback;

    public long? Integer(string key, Bounds bounds, long? fallback = null) =>
        Get(key, required: fallback is null) is { } node ? YamlValues.Integer(node, FieldOf(key), diagnostics, bounds) : fallback;

    /// <summary>An <see cref="Integer"/> whose bounds fit an int.</summary>
    public int? Int(string key, int min, int max, int? fallback = null) =>
        (int?)Integer(key, new Bounds(min, max), fallback);

    public string? Text(string key, string? fallback = null) =>
        Get(key, required: fallback is null) is { } node ? YamlValues.Text(node, FieldOf(key), diagnostics) : fallback;

    public string? Name(string key) =>
        Get(key, required: true) is { } node ? YamlValues.Name(node, FieldOf(key), diagnostics) : null;

    public T? Choice<T>(string key, T? fallback = null)
        where T : struct, Enum =>
        Get(key, required: fallback is null) is { } node ? YamlValues.Choice<T>(node, FieldOf(key), diagnostics) : fallback;

    /// <summary>The path of <paramref name="key"/> inside the mapping at <paramref name="field"/>.</summary>
    public static string Join(string field, string key) => field.Length == 0 ? key : $"{field}.{key}";
}
