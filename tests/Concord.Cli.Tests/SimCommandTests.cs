using System.Text.Json;
using System.Text.RegularExpressions;

namespace Concord.Cli.Tests;

public sealed class SimCommandTests
{
    [Fact]
    public async Task A_seed_replays_a_run_exactly_and_another_seed_differs()
    {
        static string Trace(string output) => Regex.Match(output, "trace=([0-9a-f]{16})").Groups[1].Value;
        var first = await Concord.RunAsync("sim", "run", "quorum", "--n", "3", "--r", "1", "--w", "1", "--ops", "500", "--seed", "42");
        var again = await Concord.RunAsync("sim", "run", "quorum", "--n", "3", "--r", "1", "--w", "1", "--ops", "500", "--seed", "42");
        var other = await Concord.RunAsync("sim", "run", "quorum", "--n", "3", "--r", "1", "--w", "1", "--ops", "500", "--seed", "43");
        Assert.Equal(16, Trace(first.Output).Length);
        Assert.Equal(Trace(first.Output), Trace(again.Output));
        Assert.NotEqual(Trace(first.Output), Trace(other.Output));
        Assert.Equal(first.Output, again.Output);
    }

    [Fact]
    public async Task The_quorum_sweep_covers_every_r_and_w_and_finds_stale_reads_only_without_overlap()
    {
        var result = await Concord.RunAsync("sim", "sweep", "quorum", "--n", "3", "--ops", "400", "--json");
        Assert.Equal(0, result.ExitCode);
        var rows = JsonDocument.Parse(result.Output).RootElement.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(18, rows.Count); // R, W in 1..3, with and without the partition
        Assert.All(rows.Where(r => r.GetProperty("quorums_overlap").GetBoolean()), r => Assert.Equal(0, r.GetProperty("stale_reads").GetInt32()));
        Assert.Contains(rows, r => r.GetProperty("r").GetInt32() == 1 && r.GetProperty("w").GetInt32() == 1 && r.GetProperty("stale_reads").GetInt32() > 0);
    }

    [Theory]
    [InlineData("sweep", "quorum", "--n", "0,3", "--n takes replication factors")]
    [InlineData("run", "quorum", "--r", "5", "cannot exceed --n")]
    [InlineData("run", "quorum", "--ops", "0", "--ops must be an integer")]
    public async Task Bad_simulation_options_are_usage_errors(string verb, string protocol, string option, string value, string expected)
    {
        var result = await Concord.RunAsync("sim", verb, protocol, option, value);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(expected, result.Error, StringComparison.Ordinal);
    }
}
