using System.Diagnostics;
using AngleSharp.Html.Parser;

namespace Concord.Lab.Tests.Report;

/// <summary>
/// The deck in a real browser: Debian's chromium, headless, loads index.html from disk, takes a
/// screenshot and hands back the DOM after the page's own script has marked each chart rendered
/// (its SVG has a non-empty bounding box). Without chromium this fails rather than skips: the deck
/// is the product, and .ci/run installs the browser.
/// </summary>
public sealed class ChromiumDeckTests(DeckFixture deck) : IClassFixture<DeckFixture>
{
    const string Chromium = "/usr/bin/chromium";
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Every_chart_renders_in_headless_chromium()
    {
        // The deck plus one empty chart, the negative control: the render check must mark it not rendered.
        string page = Path.Combine(deck.Directory, "index-with-control.html");
        await File.WriteAllTextAsync(page, deck.Html.Replace("</main>",
            "<figure><svg class=\"chart\" id=\"control\" aria-label=\"empty control\" width=\"10\" height=\"10\"></svg></figure></main>",
            StringComparison.Ordinal), TestContext.Current.CancellationToken);

        string dom = (await RunChromiumAsync(page, "--dump-dom")).StandardOutput;

        var rendered = new HtmlParser().ParseDocument(dom);
        Assert.Equal("false", rendered.GetElementById("control")?.GetAttribute("data-rendered"));
        var charts = rendered.QuerySelectorAll("svg.chart:not(#control)");
        Assert.Equal(deck.Page.QuerySelectorAll("svg.chart").Length, charts.Length);
        Assert.All(charts, chart => Assert.True(chart.GetAttribute("data-rendered") == "true",
            $"chart '{chart.GetAttribute("aria-label")}' did not render (data-rendered={chart.GetAttribute("data-rendered") ?? "missing: the script did not run"})"));
    }

    [Fact]
    public async Task Chromium_takes_a_screenshot_of_the_deck()
    {
        string screenshot = Path.Combine(deck.Directory, "deck.png");

        await RunChromiumAsync(deck.IndexPath, $"--screenshot={screenshot}", "--window-size=1280,2400");

        Assert.True(File.Exists(screenshot), "chromium wrote no screenshot");
        byte[] png = await File.ReadAllBytesAsync(screenshot, TestContext.Current.CancellationToken);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        // A blank 1280×2400 page compresses to a few kilobytes; text, tables and charts do not.
        Assert.True(png.Length > 50_000, $"the screenshot is only {png.Length} bytes: the page looks blank");
    }

    async Task<(string StandardOutput, string StandardError)> RunChromiumAsync(string page, params string[] action)
    {
        Assert.True(File.Exists(Chromium),
            $"{Chromium} is missing: the deck test needs Debian's chromium. Install it with `apt-get install -y chromium` (.ci/run does this when it is missing).");
        string profile = Directory.CreateTempSubdirectory("concord-chromium-").FullName;
        try
        {
            var info = new ProcessStartInfo(Chromium)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (string argument in (string[])["--headless", "--no-sandbox", "--disable-gpu", $"--user-data-dir={profile}", .. action, new Uri(page).AbsoluteUri])
            {
                info.ArgumentList.Add(argument);
            }
            using var chromium = Process.Start(info)!;
            var stdout = chromium.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            var stderr = chromium.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            deadline.CancelAfter(Timeout);
            try
            {
                await chromium.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                chromium.Kill(entireProcessTree: true);
                Assert.Fail($"chromium did not finish within {Timeout.TotalSeconds} s and was killed; stderr: {Tail(await stderr)}");
            }
            string error = await stderr;
            Assert.True(chromium.ExitCode == 0, $"chromium exited with {chromium.ExitCode}: {Tail(error)}");
            return (await stdout, error);
        }
        finally
        {
            Directory.Delete(profile, recursive: true);
        }
    }

    static string Tail(string text) => text.Length <= 2_000 ? text : "…" + text[^2_000..];
}
