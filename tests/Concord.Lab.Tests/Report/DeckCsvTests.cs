using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Concord.Lab.Results;

namespace Concord.Lab.Tests.Report;

/// <summary>The CSV files are RFC 4180 and hold the report's numbers: reading them back gives the totals.</summary>
public sealed class DeckCsvTests(DeckFixture deck) : IClassFixture<DeckFixture>
{
    [Fact]
    public void Variants_csv_reads_back_as_every_total_of_every_variant()
    {
        var rows = TestCsv.Read(deck.Read("variants.csv"));
        Assert.Equal(deck.Written.Variants.Count, rows.Count);
        for (int v = 0; v < rows.Count; v++)
        {
            AssertTotals(deck.Written.Variants[v], rows[v]);
        }
    }

    [Fact]
    public void Per_seed_csv_has_one_row_per_variant_and_seed_with_its_metrics()
    {
        var rows = TestCsv.Read(deck.Read("per_seed.csv"));
        Assert.Equal(deck.Written.PerSeed.Count, rows.Count);
        for (int i = 0; i < rows.Count; i++)
        {
            var expected = deck.Written.PerSeed[i];
            Assert.Equal(expected.Variant, rows[i]["variant"]);
            Assert.Equal(expected.Seed, ulong.Parse(rows[i]["seed"], CultureInfo.InvariantCulture));
            AssertTotals(expected.Metrics, rows[i]);
        }
    }

    [Fact]
    public void Sweep_and_timeline_csv_hold_every_point_and_bucket()
    {
        var sweep = TestCsv.Read(deck.Read("sweep.csv"));
        Assert.Equal(
            deck.Written.Sweep.Select(p => (p.N, p.R, p.W, p.StaleReadRate, p.ReadP95Ms, p.WriteP95Ms, p.AvailableFraction)),
            sweep.Select(r => (Int(r["n"]), Int(r["r"]), Int(r["w"]), Double(r["stale_read_rate"]), Double(r["read_p95_ms"]), Double(r["write_p95_ms"]), Double(r["available_fraction"]))));

        var timeline = TestCsv.Read(deck.Read("timeline.csv"));
        Assert.Equal(
            deck.Written.Timelines.SelectMany(t => t.Buckets.Select(b => (t.Variant, b.StartMs, b.Acknowledged, b.Failed, b.StaleReads))),
            timeline.Select(r => (r["variant"], Double(r["start_ms"]), Int(r["acknowledged"]), Int(r["failed"]), Int(r["stale_reads"]))));
        // Faults [300, 700) and [500.04, 800) overlap the 100 ms buckets starting at 300..600 and 500..700.
        Assert.Equal(
            ["", "", "", "partition eu|us", "partition eu|us", "partition eu|us; leader crash <&> \"ha\"", "partition eu|us; leader crash <&> \"ha\"", "leader crash <&> \"ha\"", "", ""],
            timeline.Where(r => r["variant"] == "before").Select(r => r["faults"]));
    }

    [Fact]
    public void Fields_with_commas_quotes_and_line_breaks_are_quoted()
    {
        string csv = deck.Read("variants.csv");
        Assert.Contains("\"LWW, R = W = 1, dual write\"", csv, StringComparison.Ordinal);

        var report = SampleReport.Create();
        using var hostile = new DeckFixture(report with { Variants = [report.Variants[0] with { Description = SampleReport.HostileText }, report.Variants[1]] });
        Assert.Equal(SampleReport.HostileText, TestCsv.Read(hostile.Read("variants.csv"))[0]["description"]);
    }

    /// <summary>Each int or double field of the totals, and each service's p95, under its results.json name.</summary>
    static void AssertTotals(VariantTotals expected, Dictionary<string, string> row)
    {
        foreach (var property in typeof(VariantTotals).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            string column = JsonNamingPolicy.SnakeCaseLower.ConvertName(property.Name);
            object? value = property.GetValue(expected);
            switch (value)
            {
                case int count:
                    Assert.Equal(count, Int(row[column]));
                    break;
                case double number:
                    Assert.Equal(number, Double(row[column]));
                    break;
                case string text:
                    Assert.Equal(text, row[column]);
                    break;
                case IReadOnlyDictionary<string, double> byService:
                    var columns = row.Where(kv => kv.Key.StartsWith(column + ".", StringComparison.Ordinal) && kv.Value.Length > 0)
                        .ToDictionary(kv => kv.Key[(column.Length + 1)..], kv => Double(kv.Value));
                    Assert.Equal(byService.OrderBy(kv => kv.Key), columns.OrderBy(kv => kv.Key));
                    break;
                default:
                    Assert.Fail($"{property.Name}: a {property.PropertyType} the CSV test does not know how to compare");
                    break;
            }
        }
    }

    static int Int(string field) => int.Parse(field, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

    static double Double(string field) => double.Parse(field, NumberStyles.Float, CultureInfo.InvariantCulture);
}
