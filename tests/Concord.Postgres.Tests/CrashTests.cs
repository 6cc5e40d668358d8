using System.Globalization;
using Concord.Core.Randomness;
using Concord.Postgres.Messaging;
using Concord.Postgres.Migrations;
using Concord.Testing;
using Npgsql;

namespace Concord.Postgres.Tests;

/// <summary>
/// Real crashes: a worker process records payments and announces them, relays and consumes, and is
/// SIGKILLed at random injected points (between commit and publish, mid-relay, mid-consume); then
/// it is restarted, and at the end a recovery run drains everything. With the outbox nothing is
/// lost, nothing is a ghost and no effect happens twice. With dual writes the same harness finds
/// lost or ghost events — the proof that it can see them.
/// </summary>
public sealed class CrashTests(PostgresFixture fixture)
{
    static CancellationToken Cancel => TestContext.Current.CancellationToken;

    sealed record Outcome(int Crashes, int Committed, int Lost, int Ghosts, int DuplicateEffects, ulong Seed)
    {
        public override string ToString() =>
            $"seed={Seed}: {Crashes} crashes, {Committed} committed, {Lost} lost, {Ghosts} ghosts, {DuplicateEffects} duplicate effects";
    }

    static readonly string[] CrashPoints =
        ["before-commit", "after-commit", "before-publish", "mid-relay", "mid-consume-before-commit", "mid-consume-after-commit"];

    [Fact]
    public async Task With_the_outbox_110_crashes_lose_nothing_invent_nothing_and_apply_nothing_twice()
    {
        var outcome = await RunAsync("outbox", crashesWanted: 110, seed: 20261126);
        TestContext.Current.TestOutputHelper?.WriteLine(outcome.ToString());
        Assert.True(outcome.Crashes >= 110, outcome.ToString());
        Assert.True(outcome.Lost == 0 && outcome.Ghosts == 0 && outcome.DuplicateEffects == 0, outcome.ToString());
        Assert.True(outcome.Committed > 100, outcome.ToString());
    }

    [Fact]
    public async Task With_dual_writes_the_same_harness_finds_lost_or_ghost_events()
    {
        var outcome = await RunAsync("dual-write", crashesWanted: 90, seed: 20261127);
        TestContext.Current.TestOutputHelper?.WriteLine(outcome.ToString());
        Assert.True(outcome.Crashes >= 90, outcome.ToString());
        Assert.True(outcome.Lost + outcome.Ghosts > 0, outcome.ToString());
        Assert.Equal(0, outcome.DuplicateEffects); // the inbox still dedupes what does arrive
    }

    async Task<Outcome> RunAsync(string mode, int crashesWanted, ulong seed)
    {
        var serviceDb = await fixture.CreateDatabaseAsync();
        var busDb = await fixture.CreateDatabaseAsync();
        await MigrationRunner.ApplyAsync(serviceDb, MessagingSchemas.OutboxAndInbox, Cancel);
        await MigrationRunner.ApplyAsync(busDb, MessagingSchemas.Queues, Cancel);
        await using (var service = new NpgsqlConnection(serviceDb))
        {
            await service.OpenAsync(Cancel);
            await using var create = new NpgsqlCommand(
                "CREATE TABLE payments (id int PRIMARY KEY); CREATE TABLE ledger_effects (message_id text NOT NULL)", service);
            await create.ExecuteNonQueryAsync(Cancel);
        }

        var random = new SeededRandom(seed).Derive(mode);
        const int perRun = 4;
        var (crashes, nextId, runs) = (0, 1, 0);
        while (crashes < crashesWanted)
        {
            Assert.True(++runs <= crashesWanted * 3, $"seed={seed}: too many runs without reaching the crash points");
            var point = CrashPoints[random.NextInt(CrashPoints.Length)];
            var after = random.NextInt(1, 4);
            var exit = await RunWorkerAsync(mode, serviceDb, busDb, nextId, perRun, point, after);
            if (exit != 0)
            {
                Assert.True(exit == CrashWorkerProcess.Killed, $"seed={seed}: worker exited with {exit}, not SIGKILL");
                crashes++;
            }
            nextId += perRun;
        }
        Assert.Equal(0, await RunWorkerAsync("recover", serviceDb, busDb, 0, 0, "none", 0));

        await using var db = NpgsqlDataSource.Create(serviceDb);
        var committed = (await ReadAsync(db, "SELECT 'payment-' || id FROM payments")).ToHashSet();
        var effects = await ReadAsync(db, "SELECT message_id FROM ledger_effects");
        var applied = effects.ToHashSet();
        return new Outcome(
            crashes,
            committed.Count,
            Lost: committed.Count(id => !applied.Contains(id)),
            Ghosts: applied.Count(id => !committed.Contains(id)),
            DuplicateEffects: effects.Count - applied.Count,
            seed);
    }

    static Task<int> RunWorkerAsync(string mode, string serviceDb, string busDb, int firstId, int count, string point, int after) =>
        CrashWorkerProcess.RunAsync(
            [mode, serviceDb, busDb, firstId.ToString(CultureInfo.InvariantCulture), count.ToString(CultureInfo.InvariantCulture), point,
             after.ToString(CultureInfo.InvariantCulture)],
            TimeSpan.FromSeconds(60));

    static async Task<List<string>> ReadAsync(NpgsqlDataSource db, string sql)
    {
        await using var command = db.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync(Cancel);
        var values = new List<string>();
        while (await reader.ReadAsync(Cancel))
        {
            values.Add(reader.GetString(0));
        }
        return values;
    }
}
