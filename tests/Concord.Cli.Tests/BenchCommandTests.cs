using System.Text.Json;
using Concord.Cli.Commands;
using Concord.Postgres.Local;
using Npgsql;

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
    public async Task Bench_orders_on_a_given_server_measures_every_cell_and_leaves_no_database_behind()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await LocalCluster.StartAsync(new LocalClusterOptions(), ct);
        var admin = cluster.Primary.ConnectionString();
        // A leftover of an earlier run (say, one killed midway) must not bias or break this one.
        await ExecuteAsync(admin, "CREATE DATABASE bench_full");
        await ExecuteAsync(new NpgsqlConnectionStringBuilder(admin) { Database = "bench_full" }.ConnectionString, "CREATE TABLE leftover (x int)");

        var result = await Concord.RunAsync("bench", "orders", "--json", "--seconds", "0.1", "--pg", admin);

        Assert.True(result.ExitCode == 0, result.Error);
        var results = JsonDocument.Parse(result.Output).RootElement.GetProperty("results");
        Assert.EndsWith("(--pg)", results.GetProperty("database_server").GetString(), StringComparison.Ordinal);
        var rows = results.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal([1, 8, 32], rows.Select(r => r.GetProperty("concurrency").GetInt32()));
        foreach (var row in rows)
        {
            foreach (var variant in new[] { "full", "bare", "idempotency_only", "audit_only" })
            {
                Assert.True(row.GetProperty(variant).GetProperty("orders_per_second").GetDouble() > 0, variant);
            }
            Assert.Equal(JsonValueKind.Number, row.GetProperty("integrity_cost_pct").ValueKind);
            // The server's CPU is read from its postmaster's /proc entry, which a --pg server need not have.
            Assert.Equal(JsonValueKind.Null, row.GetProperty("integrity_cpu_ms_per_order").GetProperty("database_ms").ValueKind);
        }
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync(ct);
        await using var left = new NpgsqlCommand("SELECT count(*) FROM pg_database WHERE datname LIKE 'bench\\_%'", connection);
        Assert.Equal(0L, await left.ExecuteScalarAsync(ct));
    }

    [Theory]
    [InlineData("Host=127.0.0.1;Nonsense Key=1", "--pg is not a valid connection string")]
    [InlineData("Host=127.0.0.1;Port=1;Username=postgres;Timeout=2", "Cannot use the PostgreSQL server")]
    public async Task Bench_orders_with_an_unusable_server_is_a_usage_error(string pg, string message)
    {
        var result = await Concord.RunAsync("bench", "orders", "--seconds", "0.1", "--pg", pg);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_json_a_result_prints_as_one_path_and_value_per_leaf()
    {
        var results = JsonDocument.Parse("""
            {"cell_seconds": 8, "note": "a text",
             "results": [{"concurrency": 1, "full": {"p95_ms": 2.5}, "quartiles": [1.5, 3]},
                         {"concurrency": 8, "full": {"p95_ms": 7}, "quartiles": [2, 4]}],
             "matrix": [[1, 2], [3]]}
            """).RootElement;

        var lines = BenchCommands.Flatten("", results).Select(l => $"{l.Path} {l.Value}");

        Assert.Equal(
        [
            "cell_seconds 8", "note a text",
            "results[concurrency=1].full.p95_ms 2.5", "results[concurrency=1].quartiles [1.5, 3]",
            "results[concurrency=8].full.p95_ms 7", "results[concurrency=8].quartiles [2, 4]",
            "matrix[0] [1, 2]", "matrix[1] [3]",
        ], lines);
    }

    [Fact]
    public async Task Bench_checker_without_histories_is_a_usage_error()
    {
        var result = await Concord.RunAsync("bench", "checker", "--histories", "/nonexistent");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--histories", result.Error, StringComparison.Ordinal);
    }

    static async Task ExecuteAsync(string connectionString, string sql)
    {
        // Unpooled: the bench drops these databases WITH (FORCE), which would leave a pooled
        // connection dead for the next user of the same connection string in this process.
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }
}
