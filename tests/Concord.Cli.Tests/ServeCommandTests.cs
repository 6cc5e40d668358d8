using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;

namespace Concord.Cli.Tests;

public sealed partial class ServeCommandTests
{
    [GeneratedRegex(@"Listening on (http://\S+)")]
    private static partial Regex ListeningOn();

    [Fact]
    public async Task Serve_without_pg_starts_a_local_cluster_serves_every_service_and_cleans_up_on_cancel()
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var output = new SynchronizedWriter();
        var error = new StringWriter();
        var serving = ConcordCli.RunAsync(["serve", "--urls", "http://127.0.0.1:0"], output, error, stop.Token);

        var deadline = DateTime.UtcNow.AddSeconds(120);
        Match listening;
        while (!(listening = ListeningOn().Match(output.Text)).Success)
        {
            Assert.False(serving.IsCompleted, $"serve exited early: {output.Text}{error}");
            Assert.True(DateTime.UtcNow < deadline, "serve did not start listening within 120 s");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
        Assert.Contains("throwaway PostgreSQL cluster", output.Text, StringComparison.Ordinal);
        Assert.Contains("Inventory database concord_inventory ready", output.Text, StringComparison.Ordinal);

        using var client = new HttpClient { BaseAddress = new Uri(listening.Groups[1].Value) };
        var openApi = await client.GetAsync("/openapi/v1.json", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, openApi.StatusCode);
        var sku = await client.PostAsJsonAsync("/inventory/skus", new { sku = "SERVE-1", onHand = 3 }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Created, sku.StatusCode);
        var product = await client.PostAsJsonAsync("/catalog/products", new { sku = "SERVE-1", name = "Mug", priceMinor = 900, currency = "EUR" },
            TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Created, product.StatusCode);
        var stuck = await client.GetAsync("/sagas?stuck=true", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, stuck.StatusCode);

        var clusterDirectory = Regex.Match(output.Text, @"Throwaway cluster under (\S+)").Groups[1].Value;
        Assert.True(Directory.Exists(clusterDirectory), output.Text);

        await stop.CancelAsync();
        Assert.Equal(0, await serving);
        Assert.False(Directory.Exists(clusterDirectory), "serve left its throwaway cluster behind");
    }

    [Theory]
    [InlineData("--urls", "ftp://x", "--urls must be an http(s) URL")]
    [InlineData("--pg", "Host=127.0.0.1;Nonsense Key=1", "--pg is not a valid connection string")]
    public async Task Bad_serve_arguments_are_usage_errors(string option, string value, string expected)
    {
        var result = await Concord.RunAsync("serve", option, value);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(expected, result.Error, StringComparison.Ordinal);
    }

    /// <summary>The server writes from its own task while the test polls.</summary>
    sealed class SynchronizedWriter : StringWriter
    {
        readonly Lock _lock = new();

        public string Text
        {
            get
            {
                lock (_lock)
                {
                    return ToString();
                }
            }
        }

        public override void Write(char value)
        {
            lock (_lock)
            {
                base.Write(value);
            }
        }

        public override void Write(string? value)
        {
            lock (_lock)
            {
                base.Write(value);
            }
        }

        public override Task WriteLineAsync(string? value)
        {
            lock (_lock)
            {
                base.WriteLine(value);
            }
            return Task.CompletedTask;
        }
    }
}
