using System.Text.Json;

namespace Concord.Lab.Report;

/// <summary>
/// A path into results.json, e.g. <c>variants[1].p95_write_latency_ms.orders</c>: what a deck number's
/// <c>data-json</c> attribute says, and where the deck reads the number from. Properties are given by
/// their C# names (<c>nameof</c>) so a renamed property cannot leave a stale path behind.
/// </summary>
internal sealed class JsonPath
{
    readonly JsonPath? parent;
    readonly string? name;
    readonly int index;

    JsonPath(JsonPath? parent, string? name, int index, string text)
    {
        this.parent = parent;
        this.name = name;
        this.index = index;
        Text = text;
    }

    public static JsonPath Root { get; } = new(null, null, -1, "");

    public string Text { get; }

    /// <summary>A property, by its C# name.</summary>
    public JsonPath Prop(string propertyName) => Member(LabReportJson.NameOf(propertyName));

    /// <summary>A dictionary key, as written (service and variant names).</summary>
    public JsonPath Key(string key) => Member(key);

    public JsonPath At(int i) => new(this, null, i, $"{Text}[{i}]");

    public JsonElement Resolve(JsonElement root)
    {
        if (parent is null)
        {
            return root;
        }
        var container = parent.Resolve(root);
        if (name is null)
        {
            return container.ValueKind == JsonValueKind.Array && index < container.GetArrayLength()
                ? container[index]
                : throw new KeyNotFoundException($"results.json has no element at {Text}.");
        }
        return container.ValueKind == JsonValueKind.Object && container.TryGetProperty(name, out var value)
            ? value
            : throw new KeyNotFoundException($"results.json has no property at {Text}.");
    }

    public override string ToString() => Text;

    JsonPath Member(string member)
    {
        // Plain names print as .name; anything else (a key with a dot, space or quote) as ["key"].
        bool plain = member.Length > 0 && member.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
        string step = plain
            ? (Text.Length == 0 ? member : "." + member)
            : $"[{JsonSerializer.Serialize(member)}]";
        return new(this, member, -1, Text + step);
    }
}
