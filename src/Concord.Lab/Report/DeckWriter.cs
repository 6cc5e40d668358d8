using System.Text;
using System.Text.Json;
using Concord.Lab.Results;

namespace Concord.Lab.Report;

/// <summary>
/// Writes a lab report as a deck: results.json, the CSV files and a self-contained index.html.
/// results.json is written first and the CSV files and the page are rendered from it, so every
/// number they show is results.json's number (see README.md in this folder).
/// </summary>
public static class DeckWriter
{
    /// <summary>Writes the deck into <paramref name="outDir"/> (created if missing; the deck's files in it are replaced).</summary>
    /// <returns>The report as results.json holds it: doubles rounded by the deck's rule. Print summaries from this one.</returns>
    public static LabReport Write(LabReport report, string outDir)
    {
        ArgumentNullException.ThrowIfNull(report);
        var rounded = ReportRounding.Round(report);
        string resultsJson = LabReportJson.Serialize(rounded);
        using var document = JsonDocument.Parse(resultsJson);
        var json = document.RootElement;

        Directory.CreateDirectory(outDir);
        var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
        File.WriteAllText(Path.Combine(outDir, "results.json"), resultsJson + "\n", utf8);
        File.WriteAllText(Path.Combine(outDir, "variants.csv"), DeckCsv.Variants(json), utf8);
        File.WriteAllText(Path.Combine(outDir, "per_seed.csv"), DeckCsv.PerSeed(json), utf8);
        string sweepPath = Path.Combine(outDir, "sweep.csv");
        if (DeckCsv.Sweep(json) is { } sweep)
        {
            File.WriteAllText(sweepPath, sweep, utf8);
        }
        else
        {
            File.Delete(sweepPath); // a sweep from an earlier run in the same folder would belie this one
        }
        File.WriteAllText(Path.Combine(outDir, "timeline.csv"), DeckCsv.Timeline(rounded, json), utf8);
        File.WriteAllText(Path.Combine(outDir, "index.html"), DeckHtml.Render(rounded, json), utf8);
        return rounded;
    }
}
