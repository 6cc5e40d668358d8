using Concord.Postgres.Migrations;
using Concord.Testing;
using Npgsql;

namespace Concord.Postgres.Tests;

public sealed class MigrationRunnerTests(PostgresFixture fixture) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("concord-migrations-").FullName;

    static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    void Write(string fileName, string sql) => File.WriteAllText(Path.Combine(_dir, fileName), sql);

    [Fact]
    public async Task Applies_pending_migrations_in_order_once()
    {
        var db = await fixture.CreateDatabaseAsync();
        Write("0001_create_stock.sql", "CREATE TABLE stock (sku text PRIMARY KEY, on_hand int NOT NULL CHECK (on_hand >= 0));");
        Write("0002_seed.sql", "INSERT INTO stock VALUES ('A', 3);");

        var first = await MigrationRunner.ApplyAsync(db, MigrationSet.FromDirectory(_dir), Cancel);
        Assert.Equal([1, 2], first.Applied.Select(m => m.Version));

        Write("0003_add_reserved.sql", "ALTER TABLE stock ADD COLUMN reserved int NOT NULL DEFAULT 0 CHECK (reserved >= 0);");
        var second = await MigrationRunner.ApplyAsync(db, MigrationSet.FromDirectory(_dir), Cancel);
        Assert.Equal([3], second.Applied.Select(m => m.Version));
        Assert.Equal([1, 2], second.AlreadyApplied.Select(m => m.Version));

        Assert.Equal(1L, await Scalar(db, "SELECT count(*) FROM stock"));
        Assert.Equal(3L, await Scalar(db, "SELECT count(*) FROM concord_schema_migrations"));
    }

    [Fact]
    public async Task Concurrent_instances_serialize_on_the_advisory_lock()
    {
        var db = await fixture.CreateDatabaseAsync();
        // pg_sleep makes the first runner hold the lock while the others queue behind it.
        Write("0001_slow.sql", "SELECT pg_sleep(0.3); CREATE TABLE once (id int PRIMARY KEY);");
        Write("0002_count.sql", "CREATE TABLE applied_count (n int); INSERT INTO applied_count VALUES (1);");
        var set = MigrationSet.FromDirectory(_dir);

        var reports = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => MigrationRunner.ApplyAsync(db, set, Cancel), Cancel)));

        Assert.Single(reports, r => r.Applied.Count == 2);
        Assert.Equal(3, reports.Count(r => r.Applied.Count == 0 && r.AlreadyApplied.Count == 2));
        Assert.Equal(1L, await Scalar(db, "SELECT count(*) FROM applied_count"));
    }

    [Fact]
    public async Task A_file_edited_after_it_was_applied_stops_start_up()
    {
        var db = await fixture.CreateDatabaseAsync();
        Write("0001_create.sql", "CREATE TABLE t (id int PRIMARY KEY);");
        await MigrationRunner.ApplyAsync(db, MigrationSet.FromDirectory(_dir), Cancel);

        Write("0001_create.sql", "CREATE TABLE t (id bigint PRIMARY KEY);");
        Write("0002_more.sql", "CREATE TABLE u (id int);");
        var error = await Assert.ThrowsAsync<MigrationException>(() => MigrationRunner.ApplyAsync(db, MigrationSet.FromDirectory(_dir), Cancel));
        Assert.Contains("0001_create.sql was edited after it was applied", error.Message);
        Assert.Equal(0L, await Scalar(db, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'u'"));
    }

    [Fact]
    public async Task A_deleted_applied_file_stops_start_up()
    {
        var db = await fixture.CreateDatabaseAsync();
        Write("0001_a.sql", "CREATE TABLE a (id int);");
        Write("0002_b.sql", "CREATE TABLE b (id int);");
        await MigrationRunner.ApplyAsync(db, MigrationSet.FromDirectory(_dir), Cancel);
        File.Delete(Path.Combine(_dir, "0002_b.sql"));

        var error = await Assert.ThrowsAsync<MigrationException>(() => MigrationRunner.ApplyAsync(db, MigrationSet.FromDirectory(_dir), Cancel));
        Assert.Contains("0002_b", error.Message);
        Assert.Contains("no such file", error.Message);
    }

    [Fact]
    public async Task A_failing_migration_rolls_back_whole_and_is_not_recorded()
    {
        var db = await fixture.CreateDatabaseAsync();
        Write("0001_ok.sql", "CREATE TABLE ok (id int);");
        Write("0002_broken.sql", "CREATE TABLE half (id int); INSERT INTO nowhere VALUES (1);");

        var error = await Assert.ThrowsAsync<MigrationException>(() => MigrationRunner.ApplyAsync(db, MigrationSet.FromDirectory(_dir), Cancel));
        Assert.Contains("0002_broken.sql failed and was rolled back", error.Message);
        Assert.Contains("nowhere", error.Message);
        Assert.Equal(0L, await Scalar(db, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'half'"));
        Assert.Equal(1L, await Scalar(db, "SELECT count(*) FROM concord_schema_migrations"));
    }

    [Theory]
    [InlineData("create.sql", "named NNNN_snake_case_name.sql")]
    [InlineData("0002_gap.sql", "without gaps; expected 0001")]
    [InlineData("0001_empty.sql", "empty")]
    public void Malformed_sets_are_rejected_at_load_with_the_file_named(string fileName, string expected)
    {
        Write(fileName, fileName.Contains("empty", StringComparison.Ordinal) ? "  " : "SELECT 1;");
        var error = Assert.Throws<MigrationException>(() => MigrationSet.FromDirectory(_dir));
        Assert.Contains(expected, error.Message);
        Assert.Contains(fileName, error.Message);
    }

    [Fact]
    public void Duplicate_versions_are_rejected_at_load()
    {
        Write("0001_a.sql", "SELECT 1;");
        Write("0001_b.sql", "SELECT 2;");
        var error = Assert.Throws<MigrationException>(() => MigrationSet.FromDirectory(_dir));
        Assert.Contains("used twice", error.Message);
    }

    static async Task<long> Scalar(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Cancel);
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync(Cancel))!;
    }
}
