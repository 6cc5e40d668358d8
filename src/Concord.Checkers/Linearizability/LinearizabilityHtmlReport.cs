using System.Globalization;
using System.Net;
using System.Text;
using Concord.Checkers.Histories;

namespace Concord.Checkers.Linearizability;

/// <summary>
/// Renders a <see cref="LinearizabilityResult"/> as one self-contained HTML page: inline CSS and
/// an SVG timeline of the violation window, no scripts, nothing fetched from the network, so the
/// file can be attached to a bug report and opened anywhere.
/// </summary>
public static class LinearizabilityHtmlReport
{
    private const int PlotLeftPx = 70;
    private const int PlotWidthPx = 1000;
    private const int SlotPxMin = 16;
    private const int SlotPxMax = 160;
    private const int BarWidthPxMin = 6;
    private const int LabelOutsidePxMax = 260;
    private const int LabelCharsMin = 4;
    private const int LabelInsideCharsEnough = 12;
    private const int LaneHeightPx = 40;
    private const int BarHeightPx = 22;
    private const int TopPx = 28;
    private const double CharWidthPx = 6.6;
    private const int IndeterminateTailPx = 60;

    public static string Render(LinearizabilityResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var html = new StringBuilder();
        var verdictClass = result.Verdict switch
        {
            LinearizabilityVerdict.Linearizable => "ok",
            LinearizabilityVerdict.NotLinearizable => "bad",
            _ => "unknown",
        };
        var title = result.Verdict switch
        {
            LinearizabilityVerdict.Linearizable => "Linearizable",
            LinearizabilityVerdict.NotLinearizable => "Not linearizable",
            _ => "Unknown",
        };
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<title>").Append(Encode(title + (result.HistorySource is null ? "" : " — " + result.HistorySource))).Append("</title>")
            .Append("<style>").Append(Css).Append("</style></head><body>\n")
            .Append("<h1><span class=\"verdict ").Append(verdictClass).Append("\">").Append(title).Append("</span> ")
            .Append(Encode(result.HistorySource ?? "history")).Append("</h1>\n")
            .Append("<p>Model <code>").Append(Encode(result.ModelName)).Append("</code>, ")
            .Append(Invariant($"{result.Partitions.Count} partition(s) checked, {result.Steps} search steps."))
            .Append("</p>\n");
        if (result.UnknownReason is not null)
        {
            html.Append("<p class=\"note\">The check ran out of budget: ").Append(Encode(result.UnknownReason))
                .Append(". This is not a pass; rerun with a larger budget.</p>\n");
        }

        if (result.Violation is { } violation)
        {
            AppendViolation(html, violation);
        }

        AppendPartitions(html, result.Partitions);
        html.Append("</body></html>\n");
        return html.ToString();
    }

    private static void AppendViolation(StringBuilder html, LinearizabilityViolation violation)
    {
        var key = violation.PartitionKey is null ? "" : " for key <code>" + Encode(OperationValue.Of(violation.PartitionKey).ToString()) + "</code>";
        html.Append("<h2>Why").Append(key).Append("</h2>\n<p>")
            .Append(Invariant($"The longest linearizable prefix orders {violation.LongestPrefix.Count} operation(s), starting from state "))
            .Append("<code>").Append(Encode(violation.InitialState)).Append("</code> and ending in state <code>")
            .Append(Encode(violation.StateAfterPrefix)).Append("</code>. Then <b>").Append(Encode(violation.Blocked.ToString()))
            .Append("</b> must take effect before it returns, but none of the operations that could come next leads to a linearization.</p>\n");
        AppendTimeline(html, violation);
        html.Append("<h2>Operations that could come next</h2>\n<table><tr><th>operation</th><th>lines</th><th>why it fails</th></tr>\n");
        foreach (var stuck in violation.Stuck)
        {
            html.Append("<tr class=\"").Append(stuck.Operation == violation.Blocked ? "blocked" : "stuck").Append("\"><td>")
                .Append(Encode(stuck.Operation.ToString())).Append("</td><td>").Append(Encode(LineRange(stuck.Operation)))
                .Append("</td><td>").Append(Encode(stuck.Reason)).Append("</td></tr>\n");
        }

        html.Append("</table>\n<h2>End of the longest linearizable prefix</h2>\n<table><tr><th>order</th><th>operation</th><th>lines</th><th>state after</th></tr>\n");
        var firstShown = Math.Max(0, violation.LongestPrefix.Count - 20);
        for (var i = firstShown; i < violation.LongestPrefix.Count; i++)
        {
            var step = violation.LongestPrefix[i];
            html.Append(Invariant($"<tr><td>{i + 1}</td><td>")).Append(Encode(step.Operation.ToString())).Append("</td><td>")
                .Append(Encode(LineRange(step.Operation))).Append("</td><td><code>").Append(Encode(step.StateAfter)).Append("</code></td></tr>\n");
        }

        html.Append("</table>\n");
    }

    /// <summary>
    /// One lane per process. The x axis is the rank of each distinct event time, not the time
    /// itself (as Porcupine draws it): a 1 µs read among 1 s writes stays visible and labelled,
    /// and the order of events, which is all linearizability depends on, is exact.
    /// </summary>
    private static void AppendTimeline(StringBuilder html, LinearizabilityViolation violation)
    {
        var window = violation.Window;
        var orderOf = new Dictionary<int, int>();
        for (var i = 0; i < violation.LongestPrefix.Count; i++)
        {
            orderOf[violation.LongestPrefix[i].Operation.Id] = i + 1;
        }

        var stuckIds = violation.Stuck.Select(s => s.Operation.Id).ToHashSet();
        var processes = window.Select(o => o.Process).Distinct().Order().ToList();
        var times = window.Select(o => o.InvokeTime)
            .Concat(window.Where(o => !o.IsIndeterminate).Select(o => o.CompleteTime!.Value))
            .Distinct().Order().ToList();
        var slotPx = Math.Clamp(PlotWidthPx / Math.Max(1, times.Count - 1), SlotPxMin, SlotPxMax);
        var plotRightPx = PlotLeftPx + (slotPx * Math.Max(1, times.Count - 1));
        double X(long time) => PlotLeftPx + (times.BinarySearch(time) * (double)slotPx);

        var heightPx = TopPx + (processes.Count * LaneHeightPx) + 10;
        var widthPx = plotRightPx + IndeterminateTailPx + LabelOutsidePxMax;
        html.Append("<h2>Timeline</h2>\n<div class=\"scroll\">")
            .Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{widthPx}\" height=\"{heightPx}\" viewBox=\"0 0 {widthPx} {heightPx}\" role=\"img\">\n"))
            .Append("<style>").Append(SvgCss).Append("</style>\n")
            .Append(Invariant($"<text class=\"axis\" x=\"{PlotLeftPx}\" y=\"14\">time {times[0]}</text>"))
            .Append(Invariant($"<text class=\"axis\" x=\"{plotRightPx}\" y=\"14\" text-anchor=\"end\">{times[^1]}</text>\n"));
        for (var lane = 0; lane < processes.Count; lane++)
        {
            var middle = TopPx + (lane * LaneHeightPx) + (LaneHeightPx / 2);
            html.Append(Invariant($"<line class=\"lane\" x1=\"{PlotLeftPx}\" x2=\"{plotRightPx + IndeterminateTailPx}\" y1=\"{middle}\" y2=\"{middle}\"/>"))
                .Append(Invariant($"<text class=\"process\" x=\"{PlotLeftPx - 8}\" y=\"{middle + 4}\" text-anchor=\"end\">p{processes[lane]}</text>\n"));
        }

        var bars = window.Select(operation =>
        {
            var x1 = X(operation.InvokeTime);
            var x2 = operation.IsIndeterminate ? plotRightPx + IndeterminateTailPx : X(operation.CompleteTime!.Value);
            return (Operation: operation, X1: x1, Width: Math.Max(BarWidthPxMin, x2 - x1));
        }).ToList();

        // Bars first, then every label on top. A label that does not fit in its bar goes after it,
        // cut short before the next bar of the same process; the tooltip and tables have it in full.
        var labels = new StringBuilder();
        foreach (var (operation, x1, width) in bars)
        {
            var y = TopPx + (processes.IndexOf(operation.Process) * LaneHeightPx) + ((LaneHeightPx - BarHeightPx) / 2);
            var nextBarPx = bars.Where(b => b.Operation.Process == operation.Process && b.X1 > x1).Select(b => b.X1).DefaultIfEmpty(widthPx).Min();
            var kind = operation == violation.Blocked ? "blocked" : stuckIds.Contains(operation.Id) ? "stuck" : "linearized";
            var indeterminate = operation.IsIndeterminate ? " indeterminate" : "";
            var order = orderOf.TryGetValue(operation.Id, out var position) ? Invariant($", position {position} in the prefix") : "";
            html.Append("<g><title>").Append(Encode(operation + LineRange(operation, " (lines {0})") + order)).Append("</title>")
                .Append(Invariant($"<rect class=\"{kind}{indeterminate}\" x=\"{x1:F1}\" y=\"{y}\" width=\"{width:F1}\" height=\"{BarHeightPx}\" rx=\"3\"/></g>\n"));

            var label = Label(operation);
            var insideChars = (int)((width - 6) / CharWidthPx);
            if (label.Length <= insideChars || insideChars >= LabelInsideCharsEnough)
            {
                var shown = label.Length <= insideChars ? label : label[..(insideChars - 1)] + "…";
                labels.Append(Invariant($"<text class=\"label\" x=\"{x1 + 3:F1}\" y=\"{y + 15}\">")).Append(Encode(shown)).Append("</text>\n");
            }
            else
            {
                var outsideChars = (int)(Math.Min(LabelOutsidePxMax, nextBarPx - (x1 + width) - 8) / CharWidthPx);
                if (outsideChars >= LabelCharsMin)
                {
                    var shown = label.Length <= outsideChars ? label : label[..(outsideChars - 1)] + "…";
                    labels.Append(Invariant($"<text class=\"label outside {kind}\" x=\"{x1 + width + 3:F1}\" y=\"{y + 15}\">")).Append(Encode(shown)).Append("</text>\n");
                }
            }

            if (position > 0)
            {
                labels.Append(Invariant($"<text class=\"order\" x=\"{x1:F1}\" y=\"{y - 2}\">{position}</text>\n"));
            }
        }

        html.Append(labels).Append("</svg></div>\n<p class=\"legend\"><span class=\"key linearized\"></span> in the longest linearizable prefix (number: its position)")
            .Append(" <span class=\"key stuck\"></span> could come next but leads nowhere")
            .Append(" <span class=\"key blocked\"></span> must take effect before it returns, and cannot")
            .Append(" <span class=\"key indeterminate\"></span> indeterminate: may take effect any time after its invoke, or never.")
            .Append(" The x axis orders distinct event times; hover a bar for the operation and its lines.</p>\n");
    }

    private static void AppendPartitions(StringBuilder html, IReadOnlyList<PartitionResult> partitions)
    {
        html.Append("<h2>Partitions</h2>\n<table><tr><th>key</th><th>verdict</th><th>operations</th><th>steps</th><th>cached states</th><th>note</th></tr>\n");
        foreach (var partition in partitions)
        {
            html.Append("<tr><td>").Append(Encode(partition.Key is null ? "(no key)" : OperationValue.Of(partition.Key).ToString()))
                .Append("</td><td>").Append(partition.Verdict)
                .Append(Invariant($"</td><td>{partition.OperationCount}</td><td>{partition.Steps}</td><td>{partition.CachedStates}</td><td>"))
                .Append(Encode(partition.UnknownReason ?? "")).Append("</td></tr>\n");
        }

        html.Append("</table>\n");
    }

    private static string Label(Operation operation)
    {
        var text = new StringBuilder(operation.Function);
        if (!operation.Input.IsNil)
        {
            text.Append(' ').Append(operation.Input);
        }

        if (operation.IsAcknowledged && !operation.Output.Equals(operation.Input))
        {
            text.Append(" → ").Append(operation.Output);
        }

        return text.ToString();
    }

    private static string LineRange(Operation operation, string format = "{0}") =>
        operation.InvokeLine is { } invoke
            ? string.Format(CultureInfo.InvariantCulture, format, operation.CompleteLine is { } complete ? $"{invoke}-{complete}" : $"{invoke}-")
            : "";

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>Inside the SVG, so the timeline stays readable when copied out of the page.</summary>
    private const string SvgCss =
        ".lane{stroke:#eceff3}.process,.axis{font:12px system-ui,sans-serif;fill:#5b6475}" +
        "rect.linearized{fill:#c8e6c9;stroke:#2e7d32}rect.stuck{fill:#ffe0b2;stroke:#e65100}rect.blocked{fill:#ffcdd2;stroke:#c62828;stroke-width:2}" +
        "rect.indeterminate{stroke-dasharray:5 3;fill-opacity:.55}" +
        ".label{font:11px ui-monospace,Menlo,Consolas,monospace;fill:#1d2330}.label.outside{paint-order:stroke;stroke:#fff;stroke-width:3px}" +
        ".label.outside.blocked{fill:#c62828;font-weight:bold}.order{font:10px system-ui,sans-serif;fill:#2e7d32}";

    private const string Css =
        "body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em;color:#1d2330;max-width:1200px}" +
        "h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em}code{background:#f2f4f7;padding:0 3px;border-radius:3px}" +
        ".verdict{padding:2px 8px;border-radius:4px;color:#fff}.verdict.ok{background:#2e7d32}.verdict.bad{background:#c62828}.verdict.unknown{background:#8d6e00}" +
        ".note{background:#fff8e1;border-left:4px solid #8d6e00;padding:6px 10px}" +
        "table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #d6dae1;padding:3px 8px;text-align:left;vertical-align:top}th{background:#f2f4f7}" +
        "tr.blocked td{background:#fde7e7}tr.stuck td{background:#fff3e0}" +
        "svg{border:1px solid #d6dae1;background:#fff}.scroll{overflow-x:auto}" +
        ".legend{font-size:12px;color:#5b6475}.key{display:inline-block;width:14px;height:10px;border:1px solid;margin:0 3px 0 10px;vertical-align:middle}" +
        ".key.linearized{background:#c8e6c9;border-color:#2e7d32}.key.stuck{background:#ffe0b2;border-color:#e65100}" +
        ".key.blocked{background:#ffcdd2;border-color:#c62828}.key.indeterminate{border-style:dashed;border-color:#5b6475}";
}
