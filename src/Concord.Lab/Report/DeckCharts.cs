using System.Globalization;
using System.Text.RegularExpressions;
using Concord.Core;
using Concord.Lab.Results;
using ScottPlot;

namespace Concord.Lab.Report;

/// <summary>
/// The deck's charts, drawn by ScottPlot and returned as SVG to inline into index.html. Each variant
/// keeps one colour on every chart (the first, usually <c>before</c>, vermillion; the second, usually
/// <c>after</c>, blue; Okabe–Ito colours, readable by colour-blind readers and in grey print).
/// </summary>
internal static partial class DeckCharts
{
    // Sizes in CSS pixels at which the page shows them: narrow charts sit two abreast, wide ones alone,
    // so the fonts below are close to the size they are read at.
    const int NarrowWidth = 540;
    const int NarrowHeight = 320;
    const int WideWidth = 1040;
    const int WideHeight = 380;
    const string FontName = "DejaVu Sans";

    static readonly string[] VariantPalette = ["#D55E00", "#0072B2", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"];

    /// <summary>The colour of the variant at <paramref name="index"/> in the report, on every chart and table.</summary>
    public static string VariantColor(int index) => VariantPalette[index % VariantPalette.Length];

    /// <summary>One bar per variant, its value printed on top.</summary>
    public static Svg VariantBars(string title, string yLabel, IReadOnlyList<string> variants, IReadOnlyList<double> values)
    {
        var plot = NewPlot(title, yLabel);
        var bars = new List<Bar>();
        for (int v = 0; v < variants.Count; v++)
        {
            bars.Add(new Bar { Position = v, Value = values[v], FillColor = Color.FromHex(VariantColor(v)), Label = LabReportJson.NumberText(values[v]) });
        }
        ShowLabelsOnTop(plot, bars);
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, variants.Count).Select(i => (double)i)], [.. variants]);
        plot.Axes.Bottom.Label.Text = "variant";
        return Render(plot, title, wide: false);
    }

    /// <summary>Groups (e.g. services) along x, one bar per variant in each; a missing value leaves a gap.</summary>
    public static Svg GroupedBars(string title, string xLabel, string yLabel, IReadOnlyList<string> groups, IReadOnlyList<string> variants,
        Func<int, int, double?> value)
    {
        var plot = NewPlot(title, yLabel);
        var bars = new List<Bar>();
        int stride = variants.Count + 1;
        for (int g = 0; g < groups.Count; g++)
        {
            for (int v = 0; v < variants.Count; v++)
            {
                if (value(g, v) is double y)
                {
                    bars.Add(new Bar { Position = (g * stride) + v, Value = y, FillColor = Color.FromHex(VariantColor(v)), Label = LabReportJson.NumberText(y) });
                }
            }
        }
        ShowLabelsOnTop(plot, bars);
        double center = (variants.Count - 1) / 2.0;
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, groups.Count).Select(g => (g * stride) + center)], [.. groups]);
        plot.Axes.Bottom.Label.Text = xLabel;
        AddVariantLegend(plot, variants);
        return Render(plot, title, wide: false);
    }

    /// <summary>The quorum sweep: read p95 latency against stale-read rate, one series per N, each point labelled with its R and W.</summary>
    public static Svg Sweep(IReadOnlyList<SweepPoint> points)
    {
        const string title = "Quorum sweep: read latency vs stale reads";
        var plot = NewPlot(title, "stale-read rate");
        plot.Axes.Bottom.Label.Text = "read p95 latency (ms)";
        string[] seriesColors = ["#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"];
        var byN = points.GroupBy(p => p.N).OrderBy(g => g.Key).ToList();
        for (int s = 0; s < byN.Count; s++)
        {
            var color = Color.FromHex(seriesColors[s % seriesColors.Length]);
            var series = byN[s].ToList();
            var scatter = plot.Add.ScatterPoints(series.Select(p => p.ReadP95Ms).ToArray(), series.Select(p => p.StaleReadRate).ToArray(), color);
            scatter.MarkerSize = 8;
            scatter.LegendText = string.Create(CultureInfo.InvariantCulture, $"N = {byN[s].Key}");
            foreach (var p in series)
            {
                var label = plot.Add.Text(string.Create(CultureInfo.InvariantCulture, $"R{p.R} W{p.W}"), p.ReadP95Ms, p.StaleReadRate);
                label.LabelFontSize = 10;
                label.LabelFontName = FontName;
                label.LabelFontColor = color;
                label.OffsetX = 5;
                label.OffsetY = -5;
            }
        }
        plot.Axes.Margins(horizontal: 0.15, vertical: 0.12); // room for the labels right of the points
        plot.ShowLegend(Edge.Right);
        return Render(plot, title, wide: true);
    }

    /// <summary>Acknowledged, failed and stale operations per bucket over simulated time; each fault's interval shaded and named.</summary>
    public static Svg Timeline(VariantTimeline timeline, int variantIndex)
    {
        string title = $"Failover timeline: {timeline.Variant}";
        var plot = NewPlot(title, "operations per bucket");
        plot.Axes.Bottom.Label.Text = "simulated time (ms)";
        double top = timeline.Buckets.Max(b => Math.Max(b.Acknowledged, Math.Max(b.Failed, b.StaleReads)));
        foreach (var fault in timeline.Faults)
        {
            var span = plot.Add.HorizontalSpan(fault.StartMs, fault.EndMs, Color.FromHex("#000000").WithAlpha(0.12));
            span.LegendText = "";
            var label = plot.Add.Text(fault.Label, fault.StartMs, top);
            label.LabelFontSize = 10;
            label.LabelFontName = FontName;
            label.OffsetX = 3;
        }
        double[] xs = [.. timeline.Buckets.Select(b => b.StartMs)];
        AddLine(plot, xs, [.. timeline.Buckets.Select(b => (double)b.Acknowledged)], VariantColor(variantIndex), "acknowledged", LinePattern.Solid);
        AddLine(plot, xs, [.. timeline.Buckets.Select(b => (double)b.Failed)], "#000000", "failed or timed out", LinePattern.Dashed);
        AddLine(plot, xs, [.. timeline.Buckets.Select(b => (double)b.StaleReads)], "#E69F00", "stale reads", LinePattern.Dotted);
        plot.Axes.Margins(bottom: 0);
        plot.ShowLegend(Edge.Right);
        return Render(plot, title, wide: true);
    }

    static Plot NewPlot(string title, string yLabel)
    {
        var plot = new Plot();
        plot.Font.Set(FontName);
        plot.Title(title, size: 17);
        plot.YLabel(yLabel, size: 14);
        plot.Axes.Bottom.Label.FontSize = 14;
        plot.Axes.Bottom.TickLabelStyle.FontSize = 13;
        plot.Axes.Left.TickLabelStyle.FontSize = 13;
        plot.Legend.FontSize = 13;
        return plot;
    }

    /// <summary>Bars from zero with their values on top, room above the tallest label, and whole-number ticks for counts.</summary>
    static void ShowLabelsOnTop(Plot plot, List<Bar> bars)
    {
        foreach (var bar in bars)
        {
            bar.LabelOnTop = true;
        }
        var barPlot = plot.Add.Bars(bars);
        barPlot.ValueLabelStyle.FontSize = 13;
        barPlot.ValueLabelStyle.FontName = FontName;
        plot.Axes.Margins(bottom: 0, top: 0.15);
        if (bars.All(b => b.Value == Math.Floor(b.Value)))
        {
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        }
    }

    static void AddVariantLegend(Plot plot, IReadOnlyList<string> variants)
    {
        for (int v = 0; v < variants.Count; v++)
        {
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = variants[v], FillColor = Color.FromHex(VariantColor(v)) });
        }
        plot.ShowLegend(Alignment.UpperRight);
    }

    static void AddLine(Plot plot, double[] xs, double[] ys, string hex, string legend, LinePattern pattern)
    {
        var line = plot.Add.ScatterLine(xs, ys, Color.FromHex(hex));
        line.LineWidth = 2;
        line.LinePattern = pattern;
        line.LegendText = legend;
    }

    static Svg Render(Plot plot, string title, bool wide)
    {
        int width = wide ? WideWidth : NarrowWidth;
        int height = wide ? WideHeight : NarrowHeight;
        return new(plot.GetSvgXml(width, height), title, width, height);
    }

    /// <summary>
    /// A chart's SVG made fit to sit inline in HTML beside other charts: no XML declaration or
    /// namespace URLs (the HTML parser knows SVG), a viewBox so it scales to the page, a class the
    /// render check finds it by, and its ids (clip paths) prefixed with the chart's number, or every
    /// chart would clip by the first chart's rectangles.
    /// </summary>
    public static string Inline(Svg chart, int number)
    {
        string prefix = string.Create(CultureInfo.InvariantCulture, $"chart{number}-");
        string svg = XmlDeclaration().Replace(chart.Markup, "");
        svg = NamespaceAttribute().Replace(svg, "");
        svg = IdAttribute().Replace(svg, m => $"id=\"{prefix}{m.Groups[1].Value}\"");
        svg = IdReference().Replace(svg, m => $"{m.Groups[1].Value}#{prefix}{m.Groups[2].Value}");
        string attributes = string.Create(CultureInfo.InvariantCulture,
            $"<svg class=\"chart\" viewBox=\"0 0 {chart.Width} {chart.Height}\" role=\"img\" aria-label=\"{Html.Escape(chart.Title)}\"");
        int open = svg.IndexOf("<svg", StringComparison.Ordinal);
        if (open < 0)
        {
            Invariant.Fail("ScottPlot's SVG has no <svg> element.");
        }
        return (svg[..open] + attributes + svg[(open + "<svg".Length)..]).Trim();
    }

    [GeneratedRegex(@"<\?xml[^>]*\?>")]
    private static partial Regex XmlDeclaration();

    [GeneratedRegex(@"\s+xmlns(:\w+)?=""[^""]*""")]
    private static partial Regex NamespaceAttribute();

    [GeneratedRegex(@"\bid=""([^""]+)""")]
    private static partial Regex IdAttribute();

    [GeneratedRegex(@"(url\(|href="")#([^)""]+)")]
    private static partial Regex IdReference();
}

/// <summary>A chart as inline SVG markup, and the title that names it to screen readers.</summary>
internal sealed record Svg(string Markup, string Title, int Width, int Height);
