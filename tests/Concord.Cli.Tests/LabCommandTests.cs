namespace Concord.Cli.Tests;

public sealed class LabCommandTests : IDisposable
{
    readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("concord-lab-cli-");

    public void Dispose() => _dir.Delete(recursive: true);

    const string Tiny = """
        name: tiny
        seeds: [1]
        topology:
          regions:
            - { name: eu, servers: 3, customers: 2 }
            - { name: us, servers: 3, customers: 2 }
          links:
            - { between: [eu, us], latency_ms: 20 }
        workload: { duration_ms: 600 }
        boundaries: [inventory, likes]
        variants:
          - { name: before, inventory: lww, likes: lww }
          - { name: after, inventory: raft-cas, likes: crdt }
        slos:
          - { metric: oversells, max: 0, variant: after }
        """;

    [Fact]
    public async Task A_scenario_file_runs_and_writes_the_deck()
    {
        string file = Path.Combine(_dir.FullName, "tiny.yaml");
        await File.WriteAllTextAsync(file, Tiny, TestContext.Current.CancellationToken);
        string outDir = Path.Combine(_dir.FullName, "deck");

        var result = await Concord.RunAsync("lab", file, "--out", outDir, "--check-slos");

        Assert.True(result.ExitCode == 0, result.Error + result.Output);
        Assert.Contains("oversells", result.Output, StringComparison.Ordinal);
        Assert.Contains("SLO PASS  after: oversells", result.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(outDir, "index.html")));
        Assert.True(File.Exists(Path.Combine(outDir, "results.json")));
        Assert.True(File.Exists(Path.Combine(outDir, "variants.csv")));
    }

    [Fact]
    public async Task A_malformed_scenario_names_file_line_and_field_and_exits_2()
    {
        string file = Path.Combine(_dir.FullName, "bad.yaml");
        await File.WriteAllTextAsync(file, Tiny.Replace("latency_ms: 20", "latency_ms: fast", StringComparison.Ordinal), TestContext.Current.CancellationToken);

        var result = await Concord.RunAsync("lab", file, "--out", Path.Combine(_dir.FullName, "deck"));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(file + ":8:", result.Error, StringComparison.Ordinal);
        Assert.Contains("topology.links[0].latency_ms", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir.FullName, "deck")));
    }

    [Fact]
    public async Task An_unknown_scenario_lists_the_built_in_ones()
    {
        var result = await Concord.RunAsync("lab", "excercise");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("exercise", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Show_prints_a_built_in_scenario_that_loads_again()
    {
        var result = await Concord.RunAsync("lab", "failover", "--show");

        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("#", result.Output.TrimStart(), StringComparison.Ordinal);
        Assert.Contains("name: failover", result.Output, StringComparison.Ordinal);
    }
}
