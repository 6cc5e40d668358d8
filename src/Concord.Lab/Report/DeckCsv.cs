using System.Text;
using System.Text.Json;
using Concord.Lab.Results;

namespace Concord.Lab.Report;

/// <summary>
/// The deck's CSV files (RFC 4180: comma separated, CRLF line ends, fields with a comma, quote or
/// line break quoted). Like the HTML, they are written from results.json itself: a number's field
/// is its results.json token, so the files agree with it digit for digit.
/// </summary>
internal static class DeckCsv
{
    /// <summary>One row per variant: every field of its totals, each service's p95 write latency as a <c>p95_write_latency_ms.SERVICE</c> column.</summary>
    public static string Variants(JsonElement json) =>
        Write(Array(json, nameof(LabReport.Variants)).Select(Flatten));

    /// <summary>One row per (variant, seed): the variant, the seed, then every field of that run's metrics.</summary>
    public static string PerSeed(JsonElement json) =>
        Write(Array(json, nameof(LabReport.PerSeed)).Select(row =>
        {
            var fields = new List<KeyValuePair<string, string>>
            {
                new(Name(nameof(SeedRow.Variant)), Field(row.GetProperty(Name(nameof(SeedRow.Variant))))),
                new(Name(nameof(SeedRow.Seed)), Field(row.GetProperty(Name(nameof(SeedRow.Seed))))),
            };
            string variantName = Name(nameof(VariantTotals.Variant));
            fields.AddRange(Flatten(row.GetProperty(Name(nameof(SeedRow.Metrics)))).Where(f => f.Key != variantName));
            return fields;
        }));

    /// <summary>One row per (N, R, W) point; null when the report has no sweep.</summary>
    public static string? Sweep(JsonElement json)
    {
        var points = Array(json, nameof(LabReport.Sweep)).ToList();
        return points.Count == 0 ? null : Write(points.Select(Flatten));
    }

    /// <summary>One row per (variant, bucket), with the labels of the faults that overlap the bucket.</summary>
    public static string Timeline(LabReport report, JsonElement json)
    {
        var rows = new List<List<KeyValuePair<string, string>>>();
        var timelines = Array(json, nameof(LabReport.Timelines)).ToList();
        for (int t = 0; t < timelines.Count; t++)
        {
            var timeline = report.Timelines[t];
            double width = BucketWidthMs(timeline);
            var buckets = timelines[t].GetProperty(Name(nameof(VariantTimeline.Buckets))).EnumerateArray().ToList();
            for (int b = 0; b < buckets.Count; b++)
            {
                double start = timeline.Buckets[b].StartMs;
                var fields = new List<KeyValuePair<string, string>>
                {
                    new(Name(nameof(VariantTimeline.Variant)), Field(timelines[t].GetProperty(Name(nameof(VariantTimeline.Variant))))),
                    new(Name(nameof(VariantTimeline.Seed)), Field(timelines[t].GetProperty(Name(nameof(VariantTimeline.Seed))))),
                };
                fields.AddRange(Flatten(buckets[b]));
                fields.Add(new("faults", string.Join("; ", timeline.Faults.Where(f => f.StartMs < start + width && f.EndMs > start).Select(f => f.Label))));
                rows.Add(fields);
            }
        }
        return Write(rows);
    }

    /// <summary>The buckets' width: the smallest step between consecutive starts (the last bucket has no successor to measure by).</summary>
    static double BucketWidthMs(VariantTimeline timeline)
    {
        double width = double.PositiveInfinity;
        for (int b = 1; b < timeline.Buckets.Count; b++)
        {
            width = Math.Min(width, timeline.Buckets[b].StartMs - timeline.Buckets[b - 1].StartMs);
        }
        return double.IsFinite(width) && width > 0 ? width : 0;
    }

    /// <summary>An object's scalar fields by name; a nested object's fields as <c>name.key</c>.</summary>
    static List<KeyValuePair<string, string>> Flatten(JsonElement element)
    {
        var fields = new List<KeyValuePair<string, string>>();
        foreach (var property in element.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.Object)
            {
                fields.AddRange(property.Value.EnumerateObject().Select(inner => new KeyValuePair<string, string>($"{property.Name}.{inner.Name}", Field(inner.Value))));
            }
            else if (property.Value.ValueKind != JsonValueKind.Array)
            {
                fields.Add(new(property.Name, Field(property.Value)));
            }
        }
        return fields;
    }

    static string Field(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Null => "",
        _ => value.GetRawText(),
    };

    /// <summary>A header of every column any row has (in order of first appearance), then the rows; a row without a column leaves it empty.</summary>
    static string Write(IEnumerable<List<KeyValuePair<string, string>>> rows)
    {
        var all = rows.ToList();
        var columns = all.SelectMany(r => r.Select(f => f.Key)).Distinct(StringComparer.Ordinal).ToList();
        // Keep a flattened object's columns together (a service first seen in a later row joins its siblings).
        var groups = columns.Select(Group).Distinct(StringComparer.Ordinal).ToList();
        columns = [.. columns.OrderBy(c => groups.IndexOf(Group(c)))];
        var csv = new StringBuilder();
        AppendLine(csv, columns);
        foreach (var row in all)
        {
            var byName = row.ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);
            AppendLine(csv, columns.Select(c => byName.GetValueOrDefault(c, "")));
        }
        return csv.ToString();
    }

    static string Group(string column) => column.Split('.')[0];

    static void AppendLine(StringBuilder csv, IEnumerable<string> fields)
    {
        csv.AppendJoin(',', fields.Select(Quote)).Append("\r\n");
    }

    static string Quote(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") < 0 ? field : "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    static IEnumerable<JsonElement> Array(JsonElement json, string property) => json.GetProperty(Name(property)).EnumerateArray();

    static string Name(string property) => LabReportJson.NameOf(property);
}
