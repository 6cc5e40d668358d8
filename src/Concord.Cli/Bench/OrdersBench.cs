using System.Diagnostics;
using System.Net.Http.Json;
using Concord.Commerce;
using Concord.Commerce.Http;
using Concord.Commerce.Orders;
using Concord.Postgres.Local;
using Microsoft.AspNetCore.Builder;
using Npgsql;

namespace Concord.Cli.Bench;

/// <summary>
/// <c>concord bench orders</c>: POST /orders over real HTTP on loopback against a throwaway local
/// cluster (or the server <c>--pg</c> names), with 1, 8 and 32 concurrent clients, on four hosts
/// measured in the same run and interleaved: <c>full</c> (idempotency key claimed and recorded,
/// audit triggers on), <c>bare</c> (neither), and each feature alone, so the cost of each shows. All
/// keep every schema invariant: the deferred total check is the product, not an optional feature.
/// Creation has no version check to switch off; versions guard updates.
/// </summary>
internal static class OrdersBench
{
    static readonly int[] Concurrencies = [1, 8, 32];

    /// <summary>The databases the bench creates, one per host; on a server of the user's, dropped before and after.</summary>
    static readonly (string Variant, string Database, bool Idempotency, bool Audit)[] Variants =
    [
        ("full", "bench_full", true, true),
        ("bare", "bench_bare", false, false),
        ("idempotency_only", "bench_idempotency", true, false),
        ("audit_only", "bench_audit", false, true),
    ];

    /// <param name="admin">A superuser connection string of the server to measure; null starts a throwaway local cluster.</param>
    /// <param name="appPassword">The application role's password (used to create the role if the server has none).</param>
    public static async Task<Dictionary<string, object>> RunAsync(string? admin, string appPassword, TimeSpan cellDuration, Action<string> progress, CancellationToken ct)
    {
        var external = admin is not null;
        await using var cluster = external ? null : await LocalCluster.StartAsync(new LocalClusterOptions(), ct);
        admin ??= cluster!.Primary.ConnectionString();
        var hosts = new Dictionary<string, BenchHost>();
        try
        {
            if (external)
            {
                await DropDatabasesAsync(admin, ct); // a fresh start on a server that ran the bench before
            }
            foreach (var (variant, database, idempotency, audit) in Variants)
            {
                hosts[variant] = await StartHostAsync(admin, database, appPassword, idempotency, audit, ct);
            }
            var results = await MeasureAsync(hosts, cluster?.Primary.PostmasterPid, cellDuration, progress, ct);
            results["database_server"] = external
                ? $"{new NpgsqlConnectionStringBuilder(admin).Host} (--pg)"
                : "a throwaway local cluster on this machine's cores";
            return results;
        }
        finally
        {
            foreach (var host in hosts.Values)
            {
                await host.DisposeAsync();
            }
            NpgsqlConnection.ClearAllPools();
            if (external && hosts.Count > 0)
            {
                await DropDatabasesAsync(admin, CancellationToken.None);
            }
        }
    }

    static async Task DropDatabasesAsync(string admin, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync(ct);
        foreach (var (_, database, _, _) in Variants)
        {
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {database} WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync(ct);
        }
    }

    static async Task<Dictionary<string, object>> MeasureAsync(Dictionary<string, BenchHost> hosts, int? postmasterPid, TimeSpan cellDuration,
        Action<string> progress, CancellationToken ct)
    {
        // Warm up every variant's own path before measuring: a fresh host's throughput keeps climbing
        // while the JIT moves its hot code to the optimized tier, and the code only one variant runs
        // (the key's claim, the audit-free inserts) warms up only in that variant's rounds.
        progress("warming up");
        var warmUp = TimeSpan.FromSeconds(Math.Min(3, cellDuration.TotalSeconds));
        foreach (var host in hosts.Values)
        {
            await RunRoundAsync(host, 8, warmUp, postmasterPid: null, ct);
        }
        var results = new List<object>();
        foreach (var concurrency in Concurrencies)
        {
            progress($"{concurrency} concurrent clients");
            var names = hosts.Keys.ToList();
            foreach (var name in names)
            {
                await RunRoundAsync(hosts[name], concurrency, TimeSpan.FromMilliseconds(200), postmasterPid: null, ct); // pool and caches at this concurrency
            }
            // Short rounds, interleaved, each starting with the next variant, so drift (caches,
            // autovacuum, whatever else the two cores run) hits every variant alike. A cost is the
            // median over rounds of the throughput ratio within the round: one disturbed round
            // cannot move it, as it would move a ratio of totals.
            const int rounds = 8;
            var samples = names.ToDictionary(name => name, _ => new List<Round>());
            for (var round = 0; round < rounds; round++)
            {
                for (var i = 0; i < names.Count; i++)
                {
                    var name = names[(round + i) % names.Count];
                    samples[name].Add(await RunRoundAsync(hosts[name], concurrency, cellDuration / rounds, postmasterPid, ct));
                }
            }
            List<double> RoundCosts(string variant) => [.. Enumerable.Range(0, rounds)
                .Select(r => 100 * (1 - (samples[variant][r].OrdersPerSecond / samples["bare"][r].OrdersPerSecond))).Order()];
            double Cost(string variant) => Math.Round(Measure.Median(RoundCosts(variant)), 1);
            var row = new Dictionary<string, object> { ["concurrency"] = concurrency };
            var summaries = samples.ToDictionary(s => s.Key, s => Summarize(s.Value));
            foreach (var (name, summary) in summaries)
            {
                row[name] = summary;
            }
            row["integrity_cost_pct"] = Cost("full");
            // The spread the median came from: how far one round's cost strays from another's.
            var fullCosts = RoundCosts("full");
            row["integrity_cost_pct_quartiles"] = new[] { Math.Round(Measure.Quantile(fullCosts, 0.25), 1), Math.Round(Measure.Quantile(fullCosts, 0.75), 1) };
            row["idempotency_cost_pct"] = Cost("idempotency_only");
            row["audit_cost_pct"] = Cost("audit_only");
            // Where the integrity features' CPU goes: full minus bare, per order, on each side.
            var (full, bare) = (summaries["full"].CpuMsPerOrder, summaries["bare"].CpuMsPerOrder);
            row["integrity_cpu_ms_per_order"] = new CpuPerOrder(Math.Round(full.AppMs - bare.AppMs, 3),
                full.DatabaseMs is { } f && bare.DatabaseMs is { } b ? Math.Round(f - b, 3) : null);
            results.Add(row);
        }
        return new Dictionary<string, object>
        {
            ["cell_seconds"] = cellDuration.TotalSeconds,
            ["full"] = "idempotency key claimed and recorded with the order; audit rows written by trigger",
            ["bare"] = "no idempotency key; audit triggers disabled",
            ["idempotency_only"] = "idempotency key on; audit triggers disabled",
            ["audit_only"] = "no idempotency key; audit triggers on",
            ["target_integrity_cost_pct_max"] = 25,
            ["cost"] = "1 - median over 8 interleaved rounds of (variant orders/s ÷ bare orders/s in the same round)",
            ["cpu_ms_per_order"] = "median over rounds of the CPU time each side spent per order while the variant ran alone: app = this process " +
                "(the host and the bench's HTTP clients), database = the PostgreSQL server (postmaster and backends; Linux only)",
            ["results"] = results,
        };
    }

    sealed record Round(long Orders, double Seconds, List<double> LatenciesMs, TimeSpan AppCpu, TimeSpan? DatabaseCpu)
    {
        public double OrdersPerSecond => Orders / Seconds;
    }

    sealed record CpuPerOrder(double AppMs, double? DatabaseMs);

    sealed record Summary(double OrdersPerSecond, double P50Ms, double P95Ms, double P99Ms, CpuPerOrder CpuMsPerOrder);

    static Summary Summarize(List<Round> rounds)
    {
        var latencies = rounds.SelectMany(r => r.LatenciesMs).Order().ToList();
        double? database = rounds.All(r => r.DatabaseCpu is not null)
            ? Math.Round(Measure.Median(rounds.Select(r => r.DatabaseCpu!.Value.TotalMilliseconds / r.Orders)), 3)
            : null;
        return new Summary(
            Math.Round(rounds.Sum(r => r.Orders) / rounds.Sum(r => r.Seconds), 1),
            Math.Round(Measure.Quantile(latencies, 0.50), 2),
            Math.Round(Measure.Quantile(latencies, 0.95), 2),
            Math.Round(Measure.Quantile(latencies, 0.99), 2),
            new CpuPerOrder(Math.Round(Measure.Median(rounds.Select(r => r.AppCpu.TotalMilliseconds / r.Orders)), 3), database));
    }

    static async Task<Round> RunRoundAsync(BenchHost host, int concurrency, TimeSpan duration, int? postmasterPid, CancellationToken ct)
    {
        var latencies = new List<double>[concurrency];
        var cpuBefore = ProcessCpu.Read(postmasterPid);
        var start = Stopwatch.GetTimestamp();
        var workers = Enumerable.Range(0, concurrency).Select(async worker =>
        {
            var mine = latencies[worker] = [];
            while (Stopwatch.GetElapsedTime(start) < duration)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/orders") { Content = JsonContent.Create(host.Order) };
                if (host.Idempotency)
                {
                    request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString("N"));
                }
                var sent = Stopwatch.GetTimestamp();
                using var response = await host.Client.SendAsync(request, ct);
                if (!response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"POST /orders failed during the bench: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
                }
                mine.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
            }
        });
        await Task.WhenAll(workers);
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var cpuAfter = ProcessCpu.Read(postmasterPid);
        var all = latencies.SelectMany(l => l).ToList();
        return new Round(all.Count, seconds, all, cpuAfter.App - cpuBefore.App, cpuAfter.Server - cpuBefore.Server);
    }

    sealed class BenchHost(WebApplication app, HttpClient client, PlaceOrderRequest order, bool idempotency) : IAsyncDisposable
    {
        public HttpClient Client => client;
        public PlaceOrderRequest Order => order;
        public bool Idempotency => idempotency;

        public async ValueTask DisposeAsync()
        {
            client.Dispose();
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    static async Task<BenchHost> StartHostAsync(string admin, string database, string appPassword, bool idempotency, bool audit, CancellationToken ct)
    {
        var app = await CommerceDatabases.ProvisionAsync(admin, database, CommerceService.Orders, appPassword, ct);
        if (!audit)
        {
            await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(admin) { Database = database }.ConnectionString);
            await connection.OpenAsync(ct);
            await using var disable = new NpgsqlCommand(
                """
                DO $$
                DECLARE t record;
                BEGIN
                    FOR t IN SELECT tgrelid::regclass AS tbl, tgname FROM pg_trigger WHERE tgname LIKE '%\_audit\_%' LOOP
                        EXECUTE format('ALTER TABLE %s DISABLE TRIGGER %I', t.tbl, t.tgname);
                    END LOOP;
                END
                $$
                """, connection);
            await disable.ExecuteNonQueryAsync(ct);
        }
        var host = CommerceHost.Build(new CommerceHostOptions
        {
            ConnectionStrings = new Dictionary<CommerceService, string> { [CommerceService.Orders] = app },
            Urls = "http://127.0.0.1:0",
            IdempotencyKeysEnabled = idempotency,
        });
        await host.StartAsync(ct);
        var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = new Uri(host.Urls.Single()) };
        var customer = await (await client.PostAsJsonAsync("/orders/customers", new { email = $"bench@{database}.example", name = "Bench" }, ct))
            .Content.ReadFromJsonAsync<CustomerView>(ct) ?? throw new InvalidOperationException("Could not create the bench customer.");
        var order = new PlaceOrderRequest(customer.Id, "EUR", [new OrderLineRequest("MUG-1", 2, 900), new OrderLineRequest("TEA-7", 1, 450)]);
        return new BenchHost(host, client, order, idempotency);
    }
}
