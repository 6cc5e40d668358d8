using System.Text.Json;

namespace Concord.Cli.Tests;

public sealed class BenchCommandTests
{
    [Fact]
    public async Task Bench_core_reports_checksum_throughput_next_to_a_memory_copy_as_json()
    {
        var result = await Concord.RunAsync("bench", "core", "--json", "--seconds", "0.1");
        Assert.Equal(0, result.ExitCode);
        var results = JsonDocument.Parse(result.Output).RootElement.GetProperty("results");
        var copy = results.GetProperty("memory_copy_gb_per_s").GetDouble();
        var hash = results.GetProperty("checksum_xxhash3_64_gb_per_s").GetDouble();
        Assert.True(copy > 0 && hash > 0);
        // The ratio is computed before the two rates are rounded to 2 decimals, so allow for that rounding.
        double ratio = results.GetProperty("checksum_to_memory_copy_ratio").GetDouble();
        double slack = (0.005 / copy * ratio) + (0.005 / copy) + 0.001;
        Assert.InRange(ratio, (hash / copy) - slack, (hash / copy) + slack);
        Assert.True(results.GetProperty("gcounter_64_replicas_merges_per_s").GetDouble() > 0);
    }

    [Fact]
    public async Task Bench_checker_times_every_recorded_history()
    {
        var result = await Concord.RunAsync("bench", "checker", "--json", "--histories", Path.Combine(AppContext.BaseDirectory, "TestData"));
        Assert.Equal(0, result.ExitCode);
        var results = JsonDocument.Parse(result.Output).RootElement.GetProperty("results");
        Assert.Equal(54, results.GetProperty("histories").GetInt32());
        Assert.Equal(12, results.GetProperty("verdicts").GetProperty("Linearizable").GetInt32());
    }

    [Fact]
    public async Task Bench_cas_compares_quorum_CAS_Paxos_LWT_and_Raft_CAS_in_one_and_three_regions()
    {
        var result = await Concord.RunAsync("bench", "cas", "--json");
        Assert.Equal(0, result.ExitCode);
        var results = JsonDocument.Parse(result.Output).RootElement.GetProperty("results");
        foreach (var scenario in new[] { "one_region_3_servers_3_clients", "three_regions_1_server_1_client_each" })
        {
            var rows = results.GetProperty(scenario);
            Assert.Equal("not-linearizable", rows.GetProperty("quorum-cas").GetProperty("linearizability").GetString());
            foreach (var protocol in new[] { "lwt-paxos-v1", "lwt-read-in-prepare", "raft-cas" })
            {
                Assert.Equal("linearizable", rows.GetProperty(protocol).GetProperty("linearizability").GetString());
            }

            double P50(string protocol) => rows.GetProperty(protocol).GetProperty("cas_ms").GetProperty("p50").GetDouble();
            Assert.True(P50("lwt-paxos-v1") > P50("lwt-read-in-prepare") && P50("lwt-read-in-prepare") > P50("quorum-cas"), scenario);
        }
    }

    [Fact]
    public async Task Bench_checker_without_histories_is_a_usage_error()
    {
        var result = await Concord.RunAsync("bench", "checker", "--histories", "/nonexistent");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--histories", result.Error, StringComparison.Ordinal);
    }
}
