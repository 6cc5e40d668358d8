using System.Globalization;
using Concord.Commerce.Sagas;
using Concord.Core.Randomness;
using Concord.Testing;
using Npgsql;

namespace Concord.Commerce.Tests.Sagas;

/// <summary>
/// Real crashes in the middle of sagas: the crash worker runs the order saga's host side (start,
/// relay, execute commands, feed replies, fire timers) over real Orders, Inventory, Payments and bus
/// databases, and SIGKILLs itself at random points — after a saga starts, before and in the middle
/// of a relay round, before and after a command or reply commits but before the bus acknowledges
/// it, after timers fire. Each run starts a few new sagas and resumes the unfinished ones; a last
/// run finishes everything. Then every saga must be Confirmed or Compensated and the cross-service
/// invariants must hold with no effect applied twice.
/// </summary>
[Collection(nameof(SagaCrashTests))]
public sealed class SagaCrashTests(PostgresFixture fixture)
{
    static CancellationToken Cancel => TestContext.Current.CancellationToken;

    static readonly string[] CrashPoints =
        ["after-start", "before-publish", "mid-relay", "before-command", "command-handled", "before-reply", "reply-handled", "timers-fired"];

    /// <summary>
    /// Three lanes, each with its own four databases and worker, run side by side (a worker mostly
    /// waits on PostgreSQL); 15 crashes each. With the outbox and dual-write crash tests
    /// (tests/Concord.Postgres.Tests/CrashTests.cs: 110 and 90) the suite injects 245.
    /// </summary>
    [Fact]
    public async Task Forty_five_crashes_mid_saga_leave_every_saga_settled_and_every_invariant_true()
    {
        const ulong seed = 20261128;
        var lanes = await Task.WhenAll(Enumerable.Range(0, 3).Select(lane => RunLaneAsync(seed, lane, 15)));
        foreach (var lane in lanes)
        {
            TestContext.Current.TestOutputHelper?.WriteLine(lane.Summary);
            Assert.True(lane.Report.Holds, lane.Summary);
            Assert.Equal(lane.Report.Sagas, lane.Report.Completed + lane.Report.Compensated);
        }
        // Both endings happen (a lane on a starved machine may see only timeouts, so counted over all lanes).
        Assert.True(lanes.Sum(l => l.Report.Completed) > 0 && lanes.Sum(l => l.Report.Compensated) > 0, string.Join("\n", lanes.Select(l => l.Summary)));
        Assert.True(lanes.Sum(l => l.Crashes) >= 45);
        Assert.Equal(CrashPoints.Length, lanes.SelectMany(l => l.HitPoints).Distinct().Count());
    }

    sealed record Lane(int Crashes, IReadOnlySet<string> HitPoints, SagaInvariantReport Report, string Summary);

    async Task<Lane> RunLaneAsync(ulong seed, int lane, int crashesWanted)
    {
        const int sagasPerRun = 3;
        var databases = new Dictionary<CommerceService, CommerceDatabase>();
        foreach (var service in new[] { CommerceService.Orders, CommerceService.Inventory, CommerceService.Payments })
        {
            databases[service] = await CommerceDatabase.ProvisionAsync(fixture, service);
        }
        var bus = await CommerceDatabases.ProvisionBusAsync(fixture.AdminConnectionString, fixture.NewDatabaseName(), CommerceDatabase.AppPassword, Cancel);
        var customer = Guid.NewGuid();
        await databases[CommerceService.Orders].ExecuteAsApp($"INSERT INTO customers (id, email, name) VALUES ('{customer}', 'crash-{lane}@example.com', 'Crash Test')");
        // Enough stock for most orders, not all: late orders compensate for lack of stock, every fourth for lack of money.
        await databases[CommerceService.Inventory].ExecuteAsApp("INSERT INTO stock (sku, on_hand) VALUES ('MUG-1', 300), ('TEE-1', 60)");
        await databases[CommerceService.Payments].ExecuteAsApp(
            "INSERT INTO accounts (id, currency, floor_minor) VALUES ('world', 'EUR', -1000000000000), ('rich', 'EUR', 0), ('poor', 'EUR', 0)",
            "INSERT INTO transfers (id, currency, kind) VALUES ('00000000-0000-4000-8000-000000000001', 'EUR', 'deposit')",
            """
            INSERT INTO postings (transfer_id, account_id, currency, side, amount_minor) VALUES
                ('00000000-0000-4000-8000-000000000001', 'rich', 'EUR', 'credit', 100000000),
                ('00000000-0000-4000-8000-000000000001', 'world', 'EUR', 'debit', 100000000)
            """);

        string[] Args(int first, int count, string point, int after) =>
        [
            "saga", databases[CommerceService.Orders].AppConnectionString, databases[CommerceService.Inventory].AppConnectionString,
            databases[CommerceService.Payments].AppConnectionString, bus, customer.ToString(),
            first.ToString(CultureInfo.InvariantCulture), count.ToString(CultureInfo.InvariantCulture), point, after.ToString(CultureInfo.InvariantCulture),
        ];
        var random = new SeededRandom(seed).Derive("saga-crashes-" + lane.ToString(CultureInfo.InvariantCulture));
        var (crashes, next, runs) = (0, 0, 0);
        var hitPoints = new HashSet<string>();
        while (crashes < crashesWanted)
        {
            Assert.True(++runs <= crashesWanted * 3, $"seed={seed}: too many runs without reaching the crash points");
            var point = CrashPoints[random.NextInt(CrashPoints.Length)];
            // A run reaches "after-start" once per saga it starts: a later hit would never come, and the run would end without a crash.
            var after = random.NextInt(1, point == "after-start" ? sagasPerRun + 1 : 6);
            var exit = await CrashWorkerProcess.RunAsync(Args(next, sagasPerRun, point, after), TimeSpan.FromSeconds(150));
            if (exit == CrashWorkerProcess.Killed)
            {
                crashes++;
                hitPoints.Add(point);
            }
            next += sagasPerRun;
        }
        Assert.Equal(0, await CrashWorkerProcess.RunAsync(Args(next, 0, "none", 0), TimeSpan.FromSeconds(150)));

        await using var orders = NpgsqlDataSource.Create(databases[CommerceService.Orders].AppConnectionString);
        await using var inventory = NpgsqlDataSource.Create(databases[CommerceService.Inventory].AppConnectionString);
        await using var payments = NpgsqlDataSource.Create(databases[CommerceService.Payments].AppConnectionString);
        var report = await SagaInvariants.CheckAsync(orders, inventory, payments, Cancel);
        var reasons = new List<string>();
        await using (var select = orders.CreateCommand("""
            SELECT count(*) || ' × ' || left(state ->> 'failureReason', 80) FROM saga_instances WHERE status = 'compensated'
             GROUP BY state ->> 'failureReason' ORDER BY count(*) DESC LIMIT 4
            """))
        await using (var reader = await select.ExecuteReaderAsync(Cancel))
        {
            while (await reader.ReadAsync(Cancel))
            {
                reasons.Add(reader.GetString(0));
            }
        }
        var summary = $"seed={seed} lane {lane}: {crashes} crashes in {runs} runs at {string.Join(", ", hitPoints.Order())}; {report}; compensated for: {string.Join(" | ", reasons)}";
        return new Lane(crashes, hitPoints, report, summary);
    }
}

/// <summary>
/// Three crash workers at once load the machine: run them alone, after the other test classes, so
/// timing-sensitive tests beside them (races, timeouts) are not starved, nor the workers by them.
/// </summary>
[CollectionDefinition(nameof(SagaCrashTests), DisableParallelization = true)]
public sealed class SagaCrashTestsCollection;

