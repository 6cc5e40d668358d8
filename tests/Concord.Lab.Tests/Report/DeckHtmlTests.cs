using System.Text.RegularExpressions;
using AngleSharp.Dom;
using Concord.Lab.Results;

namespace Concord.Lab.Tests.Report;

/// <summary>index.html is one self-contained, parseable page with the deck's sections in order.</summary>
public sealed partial class DeckHtmlTests(DeckFixture deck) : IClassFixture<DeckFixture>
{
    static readonly string[] SectionIds =
        ["invariants", "consistency-map", "before-after", "quorum-sweep", "failover-timeline", "slos", "rollback-plan", "reproduce"];

    [Fact]
    public void The_page_parses_without_errors_and_has_every_section_in_order()
    {
        Assert.Empty(deck.ParseErrors);
        Assert.StartsWith("Concord lab: tiny-exercise", deck.Page.QuerySelector("h1")!.TextContent, StringComparison.Ordinal);
        Assert.Equal(SectionIds, deck.Page.QuerySelectorAll("main > section").Select(s => s.Id));
        Assert.Equal(
            ["Invariants", "Consistency map", "Before vs after", "Quorum sweep", "Failover timeline", "SLOs", "Rollback plan", "How to reproduce"],
            deck.Page.QuerySelectorAll("section > h2").Select(h => h.TextContent));
    }

    [Fact]
    public void The_page_references_nothing_outside_itself()
    {
        Assert.Empty(ExternalReferences(deck.Html));
    }

    [Theory]
    [InlineData("<img src=\"logo.png\">")]
    [InlineData("<script src=\"app.js\"></script>")]
    [InlineData("<link rel=\"stylesheet\" href=\"deck.css\">")]
    [InlineData("<style>@import 'fonts.css';</style>")]
    [InlineData("<a href=\"https://example.org\">docs</a>")]
    [InlineData("<svg><image xlink:href=\"chart.png\"/></svg>")]
    [InlineData("<div style=\"background:url(bg.png)\"></div>")]
    public void An_external_reference_is_caught(string markup)
    {
        Assert.NotEmpty(ExternalReferences(deck.Html.Replace("</main>", markup + "</main>", StringComparison.Ordinal)));
    }

    [Fact]
    public void Every_chart_is_inline_svg_with_unique_ids()
    {
        // Before vs after: oversells, stale-read rate, read-your-writes misses, p95 write latency, reconciliation,
        // replication lag, lost/ghost events; then the sweep and one timeline per variant.
        var charts = deck.Page.QuerySelectorAll("svg.chart");
        Assert.Equal(7, deck.Page.QuerySelectorAll("#before-after svg.chart").Length);
        Assert.Single(deck.Page.QuerySelectorAll("#quorum-sweep svg.chart"));
        Assert.Equal(2, deck.Page.QuerySelectorAll("#failover-timeline svg.chart").Length);
        Assert.Equal(10, charts.Length);
        Assert.All(charts, chart =>
        {
            Assert.Equal("figure", chart.ParentElement!.LocalName);
            Assert.Equal(NamespaceNames.SvgUri, chart.NamespaceUri);
            Assert.NotEmpty(chart.QuerySelectorAll("text"));
            Assert.False(string.IsNullOrWhiteSpace(chart.GetAttribute("aria-label")));
        });
        var ids = deck.Page.QuerySelectorAll("[id]").Select(e => e.Id!).ToList();
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
        // Every url(#id) a chart uses points at an element of that same chart, not at another chart's clip path.
        foreach (var chart in charts)
        {
            var own = chart.QuerySelectorAll("[id]").Select(e => e.Id!).ToHashSet(StringComparer.Ordinal);
            Assert.All(IdReference().Matches(chart.OuterHtml), m => Assert.Contains(m.Groups[1].Value, own));
        }
    }

    [Fact]
    public void Report_strings_are_escaped_not_markup()
    {
        Assert.Single(deck.Page.QuerySelectorAll("script")); // the page's own render check, none from the report
        Assert.Contains(deck.Page.QuerySelectorAll("[data-json='description']"), e => e.TextContent.EndsWith(SampleReport.HostileText, StringComparison.Ordinal));
        Assert.Contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;", deck.Html, StringComparison.Ordinal);
    }

    [Fact]
    public void Slo_verdicts_read_pass_fail_or_not_measured()
    {
        var rows = deck.Page.QuerySelectorAll("#slos tbody tr").Select(r => r.QuerySelectorAll("td").Select(c => c.TextContent).ToList()).ToList();
        Assert.Equal(["oversells", "before", "≤ 0", "7", "FAIL"], rows[0]);
        Assert.Equal(["oversells", SampleReport.AfterName, "≤ 0", "0", "PASS"], rows[1]);
        Assert.Equal(["p95_write_ms.payments", SampleReport.AfterName, "≤ 150", "48.12", "PASS"], rows[2]);
        Assert.Equal(["p95_write_ms.catalog", SampleReport.AfterName, "≤ 150", "not measured", "FAIL"], rows[3]);
    }

    [Fact]
    public void Every_total_of_every_variant_has_a_row_in_the_before_after_table()
    {
        var rows = deck.Page.QuerySelectorAll("#before-after table.totals tbody tr").ToList();
        int numbers = typeof(VariantTotals).GetProperties().Count(p => p.PropertyType == typeof(int) || p.PropertyType == typeof(double));
        int services = deck.Written.Variants.SelectMany(v => v.P95WriteLatencyMs.Keys).Distinct().Count();
        Assert.Equal(4, services);
        Assert.Equal(numbers + services, rows.Count);
        var catalog = rows.Single(r => r.QuerySelector("th")!.TextContent == "p95 write latency, catalog (ms)");
        Assert.Equal(["—", "2.5"], catalog.QuerySelectorAll("td").Select(c => c.TextContent));
    }

    [Fact]
    public void A_chart_with_nothing_to_show_is_a_sentence_instead()
    {
        var report = SampleReport.Create();
        var quiet = report with
        {
            Variants = [.. report.Variants.Select(v => v with { LostEvents = 0, GhostEvents = 0, Oversells = 0 })],
            Sweep = [],
            Timelines = [report.Timelines[0] with { Buckets = [] }],
        };
        using var empty = new DeckFixture(quiet);

        Assert.Equal(5, empty.Page.QuerySelectorAll("#before-after svg.chart").Length);
        Assert.Empty(empty.Page.QuerySelectorAll("#quorum-sweep svg, #failover-timeline svg"));
        var sentences = empty.Page.QuerySelectorAll(".no-chart").Select(p => p.TextContent).ToList();
        Assert.Contains("Oversells: zero for every variant (see the table above), so there is no chart.", sentences);
        Assert.Contains("Lost and ghost events: zero for every variant (see the table above), so there is no chart.", sentences);
        Assert.Contains("This scenario has no quorum sweep.", sentences);
        Assert.Contains("This run recorded no operations, so there is no timeline chart.", sentences);
        Assert.False(File.Exists(Path.Combine(empty.Directory, "sweep.csv")));
    }

    /// <summary>Anything that would make a browser fetch: src attributes, links off the page, @import, url() to a file, http(s) anywhere.</summary>
    static List<string> ExternalReferences(string html)
    {
        var found = new List<string>();
        found.AddRange(Source().Matches(html).Select(m => m.Value));
        found.AddRange(Href().Matches(html).Where(m => !m.Groups[1].Value.StartsWith('#')).Select(m => m.Value));
        found.AddRange(Url().Matches(html).Where(m => !m.Groups[1].Value.StartsWith('#')).Select(m => m.Value));
        found.AddRange(Network().Matches(html).Select(m => m.Value));
        return found;
    }

    [GeneratedRegex(@"\ssrc\s*=", RegexOptions.IgnoreCase)]
    private static partial Regex Source();

    [GeneratedRegex(@"href\s*=\s*[""']?([^""'\s>]*)", RegexOptions.IgnoreCase)]
    private static partial Regex Href();

    [GeneratedRegex(@"url\(\s*[""']?([^""')]*)", RegexOptions.IgnoreCase)]
    private static partial Regex Url();

    [GeneratedRegex(@"https?:|@import|<link\b", RegexOptions.IgnoreCase)]
    private static partial Regex Network();

    [GeneratedRegex(@"url\(#([^)]+)\)")]
    private static partial Regex IdReference();
}
