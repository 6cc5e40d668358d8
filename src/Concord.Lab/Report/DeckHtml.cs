using System.Globalization;
using System.Text;
using System.Text.Json;
using Concord.Experiments.Commerce;
using Concord.Lab.Results;

namespace Concord.Lab.Report;

/// <summary>
/// index.html: one self-contained page (inline CSS, inline SVG, one tiny inline script) in the
/// deck's section order. Every number and every string from the report is printed by <see cref="Num"/>
/// or <see cref="Str"/>, which read it from results.json itself and tag it with its path there
/// (<c>data-json="variants[1].oversells"</c>), so the page cannot show a number results.json lacks.
/// The prose around them holds no digits (a test checks that too).
/// </summary>
internal sealed class DeckHtml
{
    static readonly JsonPath Variants = JsonPath.Root.Prop(nameof(LabReport.Variants));

    readonly LabReport report;
    readonly JsonElement json;
    readonly StringBuilder html = new();
    int charts;

    DeckHtml(LabReport report, JsonElement json)
    {
        this.report = report;
        this.json = json;
    }

    /// <param name="report">The report as results.json holds it (already rounded).</param>
    /// <param name="json">results.json, parsed: where every printed number is read from.</param>
    public static string Render(LabReport report, JsonElement json)
    {
        var deck = new DeckHtml(report, json);
        deck.Head();
        deck.Title();
        deck.Invariants();
        deck.ConsistencyMap();
        deck.BeforeAfter();
        deck.QuorumSweep();
        deck.FailoverTimeline();
        deck.Slos();
        deck.RollbackPlan();
        deck.Reproduce();
        deck.Tail();
        return deck.html.ToString();
    }

    void Head()
    {
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append("<title>Concord lab: ").Append(Html.Escape(report.Scenario)).Append("</title>\n")
            .Append("<style>\n").Append(Style).Append("</style>\n</head>\n<body>\n<main>\n");
    }

    void Title()
    {
        var root = JsonPath.Root;
        html.Append("<header>\n<h1>Concord lab: ").Append(Str(root.Prop(nameof(LabReport.Scenario)))).Append("</h1>\n");
        if (report.Description.Length > 0)
        {
            html.Append("<p class=\"lede\">").Append(Str(root.Prop(nameof(LabReport.Description)))).Append("</p>\n");
        }
        html.Append("<dl class=\"facts\">\n<dt>Variants</dt><dd>").Append(string.Join(", ", report.Variants.Select((_, i) => VariantName(i)))).Append("</dd>\n")
            .Append("<dt>Seeds</dt><dd>").Append(Seeds()).Append("</dd>\n")
            .Append("<dt>Reproduce</dt><dd><code>").Append(Str(root.Prop(nameof(LabReport.Command)))).Append("</code></dd>\n</dl>\n")
            .Append("<nav><a href=\"#invariants\">Invariants</a> · <a href=\"#consistency-map\">Consistency map</a> · ")
            .Append("<a href=\"#before-after\">Before vs after</a> · <a href=\"#quorum-sweep\">Quorum sweep</a> · ")
            .Append("<a href=\"#failover-timeline\">Failover timeline</a> · <a href=\"#slos\">SLOs</a> · ")
            .Append("<a href=\"#rollback-plan\">Rollback plan</a> · <a href=\"#reproduce\">How to reproduce</a></nav>\n</header>\n");
    }

    void Invariants()
    {
        Section("invariants", "Invariants",
            "Each invariant is named once and enforced twice: by a constraint in the owning service's schema, and by a checker that reads the recorded history.");
        var rows = JsonPath.Root.Prop(nameof(LabReport.Invariants));
        Table(["invariant", "schema constraint", "checker"], report.Invariants.Count, i =>
        [
            Str(rows.At(i).Prop(nameof(InvariantRow.Invariant))),
            Str(rows.At(i).Prop(nameof(InvariantRow.Schema))),
            Str(rows.At(i).Prop(nameof(InvariantRow.Checker))),
        ], "The report lists no invariants.");
        html.Append("</section>\n");
    }

    void ConsistencyMap()
    {
        Section("consistency-map", "Consistency map", "Per boundary, the consistency mode each variant runs and the promise the boundary must keep.");
        var rows = JsonPath.Root.Prop(nameof(LabReport.ConsistencyMap));
        var variants = report.Variants.Select(v => v.Variant)
            .Concat(report.ConsistencyMap.SelectMany(m => m.ModeByVariant.Keys)).Distinct(StringComparer.Ordinal).ToList();
        // A variant the report ran is named from results.json (tagged, with its colour); one only the map knows, as text.
        var headers = variants.Select(v => IndexOfVariant(v, -1) is int index and >= 0 ? VariantName(index) : Html.Escape(v));
        Table(["boundary", .. headers, "promise"], report.ConsistencyMap.Count, i =>
        [
            Str(rows.At(i).Prop(nameof(MappingRow.Boundary))),
            .. variants.Select(v => report.ConsistencyMap[i].ModeByVariant.ContainsKey(v)
                ? Str(rows.At(i).Prop(nameof(MappingRow.ModeByVariant)).Key(v))
                : "<span class=\"none\">—</span>"),
            Str(rows.At(i).Prop(nameof(MappingRow.Promise))),
        ], "The report has no consistency map.", rawHeader: true);
        html.Append("</section>\n");
    }

    void BeforeAfter()
    {
        Section("before-after", "Before vs after",
            "Totals over all seeds per variant. Counts are sums; latencies are percentiles of every seed's samples pooled.");
        if (report.Variants.Count == 0)
        {
            html.Append("<p class=\"no-chart\">The report has no variants.</p>\n</section>\n");
            return;
        }

        html.Append("<dl class=\"variants\">\n");
        for (int v = 0; v < report.Variants.Count; v++)
        {
            html.Append("<dt>").Append(VariantName(v)).Append("</dt><dd>")
                .Append(Str(Variants.At(v).Prop(nameof(VariantTotals.Description)))).Append("</dd>\n");
        }
        html.Append("</dl>\n");
        TotalsTable();

        var names = report.Variants.Select(v => v.Variant).ToList();
        html.Append("<div class=\"charts\">\n");
        VariantChart("Oversells", "units sold beyond stock", t => t.Oversells);
        VariantChart("Stale-read rate", "stale reads / checked reads", t => t.StaleReadRate);
        VariantChart("Read-your-writes misses", "reads that missed the reader's own write", t => t.ReadYourWritesMisses);
        var services = ServiceOrder(report.Variants.SelectMany(v => v.P95WriteLatencyMs.Keys));
        Figure(services.Count == 0 ? null : DeckCharts.GroupedBars("p95 write latency per service", "service", "p95 write latency (ms)", services, names,
            (s, v) => report.Variants[v].P95WriteLatencyMs.TryGetValue(services[s], out double ms) ? ms : null),
            "p95 write latency per service: no variant recorded a write, so there is no chart.");
        VariantChart("Reconciliation attempts", "cache keys corrected", t => t.ReconciliationAttempts);
        VariantChart("Replication lag p95", "lag behind the latest write (ms)", t => t.ReplicationLagP95Ms);
        bool anyEvents = report.Variants.Any(t => t.LostEvents != 0 || t.GhostEvents != 0);
        Figure(anyEvents ? DeckCharts.GroupedBars("Lost and ghost events", "event fault", "events", ["lost events", "ghost events"], names,
            (kind, v) => kind == 0 ? report.Variants[v].LostEvents : report.Variants[v].GhostEvents) : null,
            "Lost and ghost events: zero for every variant (see the table above), so there is no chart.");
        html.Append("</div>\n</section>\n");
    }

    /// <summary>Every number of every variant's totals, one row per field, straight off results.json's variant objects.</summary>
    void TotalsTable()
    {
        var rows = new List<(string Label, Func<int, string> Cell)>();
        var first = Variants.At(0).Resolve(json);
        foreach (var property in first.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.Number)
            {
                string name = property.Name;
                rows.Add((Label(name), v => Num(Variants.At(v).Key(name))));
            }
        }
        var latency = nameof(VariantTotals.P95WriteLatencyMs);
        foreach (string service in ServiceOrder(report.Variants.SelectMany(v => v.P95WriteLatencyMs.Keys)))
        {
            rows.Add(($"p95 write latency, {Html.Escape(service)} (ms)", v => report.Variants[v].P95WriteLatencyMs.ContainsKey(service)
                ? Num(Variants.At(v).Prop(latency).Key(service))
                : "<span class=\"none\">—</span>"));
        }
        html.Append("<table class=\"totals\">\n<thead><tr><th>total</th>");
        for (int v = 0; v < report.Variants.Count; v++)
        {
            html.Append("<th class=\"n\">").Append(VariantName(v)).Append("</th>");
        }
        html.Append("</tr></thead>\n<tbody>\n");
        foreach (var (label, cell) in rows)
        {
            html.Append("<tr><th>").Append(label).Append("</th>");
            for (int v = 0; v < report.Variants.Count; v++)
            {
                html.Append("<td class=\"n\">").Append(cell(v)).Append("</td>");
            }
            html.Append("</tr>\n");
        }
        html.Append("</tbody>\n</table>\n");
    }

    void VariantChart(string title, string yLabel, Func<VariantTotals, double> value)
    {
        var values = report.Variants.Select(value).ToList();
        Figure(values.All(v => v == 0) ? null : DeckCharts.VariantBars(title, yLabel, [.. report.Variants.Select(v => v.Variant)], values),
            $"{title}: zero for every variant (see the table above), so there is no chart.");
    }

    void QuorumSweep()
    {
        Section("quorum-sweep", "Quorum sweep",
            "Each point is one replication factor N with read quorum R and write quorum W: its read p95 latency against the share of reads that were stale.");
        if (report.Sweep.Count == 0)
        {
            html.Append("<p class=\"no-chart\">This scenario has no quorum sweep.</p>\n</section>\n");
            return;
        }
        html.Append("<div class=\"charts\">\n");
        Figure(DeckCharts.Sweep(report.Sweep), "");
        html.Append("</div>\n");
        var points = JsonPath.Root.Prop(nameof(LabReport.Sweep));
        Table(["N", "R", "W", "stale-read rate", "read p95 (ms)", "write p95 (ms)", "available fraction"], report.Sweep.Count, i =>
        [
            Num(points.At(i).Prop(nameof(SweepPoint.N))),
            Num(points.At(i).Prop(nameof(SweepPoint.R))),
            Num(points.At(i).Prop(nameof(SweepPoint.W))),
            Num(points.At(i).Prop(nameof(SweepPoint.StaleReadRate))),
            Num(points.At(i).Prop(nameof(SweepPoint.ReadP95Ms))),
            Num(points.At(i).Prop(nameof(SweepPoint.WriteP95Ms))),
            Num(points.At(i).Prop(nameof(SweepPoint.AvailableFraction))),
        ], "", numeric: true);
        html.Append("</section>\n");
    }

    void FailoverTimeline()
    {
        Section("failover-timeline", "Failover timeline",
            "Per variant, one seed's run over simulated time: acknowledged operations, failed or timed-out operations and stale reads per time bucket. Shaded bands are the faults.");
        if (report.Timelines.Count == 0)
        {
            html.Append("<p class=\"no-chart\">This report has no timeline.</p>\n</section>\n");
            return;
        }
        var timelines = JsonPath.Root.Prop(nameof(LabReport.Timelines));
        for (int t = 0; t < report.Timelines.Count; t++)
        {
            var timeline = report.Timelines[t];
            var path = timelines.At(t);
            int variantIndex = IndexOfVariant(timeline.Variant, t);
            html.Append("<h3><span class=\"swatch\" style=\"background:").Append(DeckCharts.VariantColor(variantIndex)).Append("\"></span>")
                .Append(Str(path.Prop(nameof(VariantTimeline.Variant)))).Append(", seed ").Append(Num(path.Prop(nameof(VariantTimeline.Seed)))).Append("</h3>\n");
            html.Append("<div class=\"charts\">\n");
            Figure(timeline.Buckets.Count == 0 ? null : DeckCharts.Timeline(timeline, variantIndex),
                "This run recorded no operations, so there is no timeline chart.");
            html.Append("</div>\n");
            if (timeline.Faults.Count == 0)
            {
                html.Append("<p>No faults on this run.</p>\n");
                continue;
            }
            html.Append("<ul class=\"faults\">\n");
            var faults = path.Prop(nameof(VariantTimeline.Faults));
            for (int f = 0; f < timeline.Faults.Count; f++)
            {
                html.Append("<li>").Append(Str(faults.At(f).Prop(nameof(TimelineMarker.Label))))
                    .Append(": from ").Append(Num(faults.At(f).Prop(nameof(TimelineMarker.StartMs))))
                    .Append(" ms to ").Append(Num(faults.At(f).Prop(nameof(TimelineMarker.EndMs)))).Append(" ms</li>\n");
            }
            html.Append("</ul>\n");
        }
        html.Append("</section>\n");
    }

    void Slos()
    {
        Section("slos", "SLOs", "The scenario's service-level objectives, evaluated per variant on the totals over all seeds.");
        var slos = JsonPath.Root.Prop(nameof(LabReport.Slos));
        Table(["metric", "variant", "objective", "value", "verdict"], report.Slos.Count, i =>
        [
            Str(slos.At(i).Prop(nameof(SloVerdict.Metric))),
            Str(slos.At(i).Prop(nameof(SloVerdict.Variant))),
            (report.Slos[i].Comparison == SloComparison.AtMost ? "≤ " : "≥ ") + Num(slos.At(i).Prop(nameof(SloVerdict.Threshold))),
            report.Slos[i].Value is null ? "<span class=\"none\">not measured</span>" : Num(slos.At(i).Prop(nameof(SloVerdict.Value))),
            report.Slos[i].Passed ? "<strong class=\"pass\">PASS</strong>" : "<strong class=\"fail\">FAIL</strong>",
        ], "The scenario sets no SLOs.");
        html.Append("</section>\n");
    }

    void RollbackPlan()
    {
        Section("rollback-plan", "Rollback plan", "Per boundary: what changes from the first variant to the last, how to undo it, and the metric to watch while it rolls out.");
        var steps = JsonPath.Root.Prop(nameof(LabReport.RollbackPlan));
        Table(["boundary", "change", "rollback", "watch"], report.RollbackPlan.Count, i =>
        [
            Str(steps.At(i).Prop(nameof(RollbackStep.Boundary))),
            Str(steps.At(i).Prop(nameof(RollbackStep.Change))),
            Str(steps.At(i).Prop(nameof(RollbackStep.Rollback))),
            Str(steps.At(i).Prop(nameof(RollbackStep.WatchMetric))),
        ], "The report has no rollback plan.");
        html.Append("</section>\n");
    }

    void Reproduce()
    {
        var root = JsonPath.Root;
        Section("reproduce", "How to reproduce",
            "The simulator is deterministic: the same command and seeds give the same numbers on any machine.");
        html.Append("<pre><code>").Append(Str(root.Prop(nameof(LabReport.Command)))).Append("</code></pre>\n")
            .Append("<p>Seeds: ").Append(Seeds()).Append(". Wall time of this run: ")
            .Append(Num(root.Prop(nameof(LabReport.ElapsedSeconds)))).Append(" s (not a result: it depends on the machine).</p>\n")
            .Append("<p>Every number in this deck is read from <code>results.json</code> beside it and marked with its path there; ")
            .Append("<code>variants.csv</code>, <code>per_seed.csv</code>, <code>sweep.csv</code> and <code>timeline.csv</code> hold the same numbers.</p>\n");
        var rows = root.Prop(nameof(LabReport.PerSeed));
        string[] columns =
        [
            nameof(VariantTotals.Oversells), nameof(VariantTotals.LostAcknowledgedPayments), nameof(VariantTotals.StaleReads),
            nameof(VariantTotals.Reads), nameof(VariantTotals.ReadYourWritesMisses), nameof(VariantTotals.LostEvents),
            nameof(VariantTotals.GhostEvents), nameof(VariantTotals.ReconciliationAttempts), nameof(VariantTotals.FailedOperations),
        ];
        Table(["variant", "seed", .. columns.Select(c => Label(LabReportJson.NameOf(c)))], report.PerSeed.Count, i =>
        [
            Str(rows.At(i).Prop(nameof(SeedRow.Variant))),
            Num(rows.At(i).Prop(nameof(SeedRow.Seed))),
            .. columns.Select(c => Num(rows.At(i).Prop(nameof(SeedRow.Metrics)).Prop(c))),
        ], "The report has no per-seed rows.", numeric: true);
        html.Append("</section>\n");
    }

    void Tail()
    {
        // Marks each chart rendered when its SVG has a non-empty box: what the headless-browser test reads back.
        html.Append("</main>\n<script>\nfor (const chart of document.querySelectorAll('svg.chart')) {\n")
            .Append("  const box = chart.getBBox();\n")
            .Append("  chart.setAttribute('data-rendered', box.width > 0 && box.height > 0 ? 'true' : 'false');\n}\n</script>\n")
            .Append("</body>\n</html>\n");
    }

    /// <summary>A number from results.json, printed as results.json prints it.</summary>
    string Num(JsonPath path)
    {
        var value = path.Resolve(json);
        if (value.ValueKind != JsonValueKind.Number)
        {
            throw new InvalidOperationException($"results.json's {path} is a {value.ValueKind}, not a number.");
        }
        return $"<span class=\"num\" data-json=\"{Html.Escape(path.Text)}\">{value.GetRawText()}</span>";
    }

    /// <summary>A string from results.json, escaped.</summary>
    string Str(JsonPath path)
    {
        var value = path.Resolve(json);
        if (value.ValueKind != JsonValueKind.String)
        {
            throw new InvalidOperationException($"results.json's {path} is a {value.ValueKind}, not a string.");
        }
        return $"<span data-json=\"{Html.Escape(path.Text)}\">{Html.Escape(value.GetString()!)}</span>";
    }

    string Seeds() => string.Join(", ", report.Seeds.Select((_, i) => Num(JsonPath.Root.Prop(nameof(LabReport.Seeds)).At(i))));

    string VariantName(int v) =>
        $"<span class=\"swatch\" style=\"background:{DeckCharts.VariantColor(v)}\"></span>{Str(Variants.At(v).Prop(nameof(VariantTotals.Variant)))}";

    int IndexOfVariant(string variant, int fallback)
    {
        for (int v = 0; v < report.Variants.Count; v++)
        {
            if (report.Variants[v].Variant == variant)
            {
                return v;
            }
        }
        return fallback;
    }

    void Section(string id, string title, string intro) =>
        html.Append("<section id=\"").Append(id).Append("\">\n<h2>").Append(title).Append("</h2>\n<p>").Append(intro).Append("</p>\n");

    /// <param name="header">Column titles; escaped here unless <paramref name="rawHeader"/> (already markup).</param>
    void Table(IReadOnlyList<string> header, int count, Func<int, IReadOnlyList<string>> row, string whenEmpty, bool numeric = false, bool rawHeader = false)
    {
        if (count == 0)
        {
            html.Append("<p class=\"no-chart\">").Append(whenEmpty).Append("</p>\n");
            return;
        }
        string cellClass = numeric ? " class=\"n\"" : "";
        html.Append("<table>\n<thead><tr>");
        foreach (string title in header)
        {
            html.Append("<th").Append(cellClass).Append('>').Append(rawHeader ? title : Html.Escape(title)).Append("</th>");
        }
        html.Append("</tr></thead>\n<tbody>\n");
        for (int i = 0; i < count; i++)
        {
            html.Append("<tr>");
            foreach (string cell in row(i))
            {
                html.Append("<td").Append(cellClass).Append('>').Append(cell).Append("</td>");
            }
            html.Append("</tr>\n");
        }
        html.Append("</tbody>\n</table>\n");
    }

    /// <summary>A chart, or when it has nothing to show, a sentence saying so.</summary>
    void Figure(Svg? chart, string whenEmpty)
    {
        if (chart is null)
        {
            html.Append("<p class=\"no-chart\">").Append(Html.Escape(whenEmpty)).Append("</p>\n");
            return;
        }
        html.Append("<figure>\n").Append(DeckCharts.Inline(chart, ++charts)).Append("\n</figure>\n");
    }

    /// <summary>A row title from a results.json name: <c>replication_lag_p95_ms</c> → <c>replication lag p95 (ms)</c>.</summary>
    static string Label(string jsonName)
    {
        string words = jsonName.Replace('_', ' ');
        return words.EndsWith(" ms", StringComparison.Ordinal) ? words[..^3] + " (ms)" : words;
    }

    /// <summary>The platform's services in the order of the architecture (orders, payments, inventory, catalog), then any others.</summary>
    static List<string> ServiceOrder(IEnumerable<string> services)
    {
        var known = Enum.GetNames<Service>().Select(s => s.ToLowerInvariant()).ToList();
        return [.. services.Distinct(StringComparer.Ordinal)
            .OrderBy(s => known.IndexOf(s) is int i and >= 0 ? i : int.MaxValue)
            .ThenBy(s => s, StringComparer.Ordinal)];
    }

    const string Style = """
        :root { --ink: #1b1b1b; --muted: #5b5b5b; --rule: #d6d6d6; --band: #f5f5f5; }
        * { box-sizing: border-box; }
        body { margin: 0; color: var(--ink); background: #fff; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
        main { max-width: 1120px; margin: 0 auto; padding: 24px 28px 64px; }
        h1 { font-size: 28px; margin: 0 0 8px; }
        h2 { font-size: 21px; margin: 40px 0 8px; padding-top: 12px; border-top: 2px solid var(--ink); }
        h3 { font-size: 16px; margin: 24px 0 4px; }
        .lede { font-size: 17px; color: var(--muted); margin-top: 0; }
        code, pre { font: 13px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; }
        pre { background: var(--band); padding: 10px 12px; overflow-x: auto; white-space: pre-wrap; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; }
        dl.facts dt, dl.variants dt { font-weight: 600; }
        dl.facts dd, dl.variants dd { margin: 0 0 4px; }
        nav { margin-top: 12px; font-size: 14px; }
        nav a { color: inherit; }
        table { border-collapse: collapse; margin: 12px 0; font-size: 14px; width: 100%; }
        th, td { border-bottom: 1px solid var(--rule); padding: 4px 10px 4px 0; text-align: left; vertical-align: top; }
        thead th { border-bottom: 2px solid var(--ink); }
        .n { text-align: right; font-variant-numeric: tabular-nums; }
        table.totals { width: auto; min-width: 50%; }
        .swatch { display: inline-block; width: 10px; height: 10px; margin-right: 6px; border-radius: 2px; }
        .none { color: var(--muted); }
        .pass { color: #006d4e; }
        .fail { color: #b0360b; }
        .no-chart { color: var(--muted); font-style: italic; }
        .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); gap: 16px; margin: 12px 0; }
        figure { margin: 0; }
        svg.chart { display: block; width: 100%; height: auto; }
        ul.faults { margin: 4px 0 0; }
        @media print {
          body { font-size: 11px; }
          main { max-width: none; padding: 0; }
          nav { display: none; }
          h2 { break-after: avoid; }
          figure, table { break-inside: avoid; }
          .charts { grid-template-columns: 1fr 1fr; }
        }

        """;
}
