using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using AngleSharp.Dom;
using Concord.Lab.Results;

namespace Concord.Lab.Tests.Report;

/// <summary>The deck's promise: every number in index.html is the number at its path in results.json.</summary>
public sealed partial class DeckNumbersTests(DeckFixture deck) : IClassFixture<DeckFixture>
{
    [Fact]
    public void Every_tagged_value_shows_what_results_json_holds_at_its_path()
    {
        Assert.True(deck.Page.QuerySelectorAll("[data-json]").Length > 150);
        Assert.Empty(Mismatches(deck.Page, deck.Results.RootElement));
    }

    [Fact]
    public void A_tagged_value_that_differs_from_results_json_is_caught()
    {
        using var page = (IDocument)deck.Page.Clone(deep: true);
        page.QuerySelector("[data-json='variants[1].oversells']")!.TextContent = "1";
        page.QuerySelector("[data-json='scenario']")!.TextContent = "another";

        Assert.Equal(["scenario", "variants[1].oversells"], Mismatches(page, deck.Results.RootElement).Select(m => m.Path).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Every_variant_total_is_in_the_deck_with_its_rounded_value()
    {
        var shown = deck.Page.QuerySelectorAll("[data-json]").GroupBy(e => e.GetAttribute("data-json")!).ToDictionary(g => g.Key, g => g.First().TextContent);
        var numeric = typeof(VariantTotals).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.PropertyType == typeof(int) || p.PropertyType == typeof(double)).ToList();
        Assert.True(numeric.Count >= 18);
        for (int v = 0; v < deck.Written.Variants.Count; v++)
        {
            var totals = deck.Written.Variants[v];
            foreach (var property in numeric)
            {
                string path = $"variants[{v}].{JsonNamingPolicy.SnakeCaseLower.ConvertName(property.Name)}";
                Assert.True(shown.TryGetValue(path, out string? text), $"the deck does not show {path}");
                Assert.Equal(Convert.ToDouble(property.GetValue(totals), CultureInfo.InvariantCulture), double.Parse(text, CultureInfo.InvariantCulture));
            }
            foreach (var (service, ms) in totals.P95WriteLatencyMs)
            {
                Assert.Equal(ms, double.Parse(shown[$"variants[{v}].p95_write_latency_ms.{service}"], CultureInfo.InvariantCulture));
            }
        }
    }

    [Fact]
    public void Doubles_are_shown_rounded_to_four_significant_digits_but_whole_units_kept()
    {
        string Shown(string path) => deck.Page.QuerySelector($"[data-json='{path}']")!.TextContent;

        Assert.Equal("1235", Shown("variants[0].replication_lag_p95_ms")); // 1234.5678
        Assert.Equal("12.35", Shown("variants[0].p95_write_latency_ms.orders")); // 12.3456
        Assert.Equal("0.1233", Shown("variants[0].stale_read_rate")); // 37 / 300
        Assert.Equal("0.006667", Shown("variants[1].stale_read_rate")); // 2 / 300
        Assert.Equal("18446744073709551615", Shown("seeds[1]")); // a seed is an integer, never rounded
        Assert.Equal("1.235", Shown("elapsed_seconds"));
    }

    [Fact]
    public void Outside_the_tagged_values_the_page_has_no_digits()
    {
        Assert.Empty(UntaggedNumbers(deck.Page));
    }

    [Fact]
    public void An_untagged_number_in_the_prose_is_caught()
    {
        using var page = (IDocument)deck.Page.Clone(deep: true);
        var sentence = page.CreateElement("p");
        sentence.TextContent = "Oversells fell by 7.";
        page.QuerySelector("#before-after")!.AppendChild(sentence);

        Assert.Single(UntaggedNumbers(page));
    }

    /// <summary>Each tagged element whose text is not results.json's value at its path.</summary>
    internal static List<(string Path, string Shown, string Expected)> Mismatches(IDocument page, JsonElement results)
    {
        var mismatches = new List<(string, string, string)>();
        foreach (var element in page.QuerySelectorAll("[data-json]"))
        {
            string path = element.GetAttribute("data-json")!;
            var value = TestJson.At(results, path);
            string expected = value.ValueKind switch
            {
                JsonValueKind.Number => value.GetRawText(),
                JsonValueKind.String => value.GetString()!,
                _ => throw new InvalidOperationException($"{path} is a {value.ValueKind}: the deck prints only numbers and strings"),
            };
            if (element.TextContent != expected)
            {
                mismatches.Add((path, element.TextContent, expected));
            }
        }
        return mismatches;
    }

    /// <summary>Digits in the page's visible text outside tagged values (with some context), ignoring "p95". Charts are pictures of the same numbers, so SVG is left out.</summary>
    internal static List<string> UntaggedNumbers(IDocument page)
    {
        var body = (IElement)page.Body!.Clone(deep: true);
        foreach (var element in body.QuerySelectorAll("svg, script, style, [data-json]").ToList())
        {
            element.Remove();
        }
        string prose = body.TextContent.Replace("p95", "", StringComparison.Ordinal);
        return [.. Digit().Matches(prose).Select(m => prose.Substring(Math.Max(0, m.Index - 30), Math.Min(60, prose.Length - Math.Max(0, m.Index - 30))))];
    }

    [GeneratedRegex(@"\d")]
    private static partial Regex Digit();
}
