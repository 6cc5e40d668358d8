using System.Text.Json;
using System.Text.Json.Serialization;
using Concord.Lab.Results;

namespace Concord.Lab.Report;

/// <summary>
/// results.json: a <see cref="LabReport"/> in System.Text.Json with snake_case names, indented, enums
/// as strings. Dictionary keys (service and variant names) are written as they are.
/// </summary>
public static class LabReportJson
{
    internal static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter() },
    };

    public static string Serialize(LabReport report) => JsonSerializer.Serialize(report, Options);

    /// <summary>Reads a results.json written by <see cref="DeckWriter.Write"/>.</summary>
    public static LabReport Read(string path)
    {
        using var stream = File.OpenRead(path);
        return JsonSerializer.Deserialize<LabReport>(stream, Options)
            ?? throw new InvalidDataException($"{path}: results.json holds null, not a lab report.");
    }

    /// <summary>The name results.json uses for a C# property, e.g. <c>StaleReadRate</c> → <c>stale_read_rate</c>.</summary>
    internal static string NameOf(string propertyName) => JsonNamingPolicy.SnakeCaseLower.ConvertName(propertyName);

    /// <summary>A number exactly as results.json writes it (shortest round-trip, invariant culture).</summary>
    internal static string NumberText(double value) => JsonSerializer.Serialize(value, Options);
}
