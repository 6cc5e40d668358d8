using System.Text.Json;
using AngleSharp.Dom;
using AngleSharp.Html.Dom.Events;
using AngleSharp.Html.Parser;
using Concord.Lab.Report;
using Concord.Lab.Results;

namespace Concord.Lab.Tests.Report;

/// <summary>The sample report's deck, written once per test class into a temporary folder.</summary>
public sealed class DeckFixture : IDisposable
{
    public DeckFixture()
        : this(SampleReport.Create())
    {
    }

    internal DeckFixture(LabReport report)
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("concord-deck-").FullName;
        Written = DeckWriter.Write(report, Directory);
        Html = File.ReadAllText(IndexPath);
        ParseErrors = [];
        var parser = new HtmlParser();
        parser.Error += (_, e) =>
        {
            var error = (HtmlErrorEvent)e;
            // AngleSharp compares an SVG end tag to its camel-cased start tag case-sensitively; HTML
            // compares them case-insensitively, so </clipPath> is well-formed (browsers agree).
            int at = Math.Clamp(error.Position.Position - 1, 0, Html.Length);
            if (!Html.AsSpan(at).StartsWith("</clipPath>", StringComparison.Ordinal))
            {
                ParseErrors.Add($"{error.Position}: {error.Message}: {Html.AsSpan(at, Math.Min(80, Html.Length - at))}");
            }
        };
        Page = parser.ParseDocument(Html);
        Results = JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory, "results.json")));
    }

    public string Directory { get; }

    public string IndexPath => Path.Combine(Directory, "index.html");

    /// <summary>What <see cref="DeckWriter.Write"/> returned: the report as results.json holds it.</summary>
    public LabReport Written { get; }

    public string Html { get; }

    public IDocument Page { get; }

    public List<string> ParseErrors { get; }

    public JsonDocument Results { get; }

    public string Read(string name) => File.ReadAllText(Path.Combine(Directory, name));

    public void Dispose()
    {
        Results.Dispose();
        Page.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
