using Concord.Postgres.Local;
using Concord.Testing;
using Npgsql;

namespace Concord.Postgres.Tests;

public sealed class LocalClusterTests(PostgresFixture fixture)
{
    static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Each_test_database_is_a_real_and_separate_database()
    {
        var first = await fixture.CreateDatabaseAsync();
        var second = await fixture.CreateDatabaseAsync();
        Assert.NotEqual(new NpgsqlConnectionStringBuilder(first).Database, new NpgsqlConnectionStringBuilder(second).Database);

        await Execute(first, "CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL); INSERT INTO t VALUES (1, 'one')");
        Assert.Equal("one", await Scalar<string>(first, "SELECT v FROM t WHERE id = 1"));
        var inSecond = await Scalar<long>(second, "SELECT count(*) FROM information_schema.tables WHERE table_name = 't'");
        Assert.Equal(0, inSecond);
    }

    [Fact]
    public async Task The_server_enforces_constraints()
    {
        var db = await fixture.CreateDatabaseAsync();
        await Execute(db, "CREATE TABLE stock (sku text PRIMARY KEY, on_hand int NOT NULL CHECK (on_hand >= 0))");
        await Execute(db, "INSERT INTO stock VALUES ('A', 1)");
        var error = await Assert.ThrowsAsync<PostgresException>(() => Execute(db, "UPDATE stock SET on_hand = on_hand - 2"));
        Assert.Equal(PostgresErrorCodes.CheckViolation, error.SqlState);
    }

    [Fact]
    public async Task A_standby_streams_the_primarys_writes_and_refuses_its_own()
    {
        var cluster = fixture.Cluster ?? throw new InvalidOperationException(
            "Starting a standby needs the local cluster this fixture starts; unset CONCORD_TEST_PG to run this test.");
        var standby = await cluster.AddStandbyAsync(Cancel);
        Assert.Equal(PostgresRole.Standby, standby.Role);
        Assert.True(await Scalar<bool>(standby.ConnectionString(), "SELECT pg_is_in_recovery()"));

        var primary = cluster.Primary.ConnectionString();
        await Execute(primary, "CREATE TABLE IF NOT EXISTS replicated (id int PRIMARY KEY); INSERT INTO replicated VALUES (42)");
        var lsn = await Scalar<object>(primary, "SELECT pg_current_wal_lsn()::text");

        // Wait (bounded) until the standby has replayed past the primary's LSN at commit.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await Scalar<bool>(standby.ConnectionString(), $"SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn"))
        {
            Assert.True(DateTime.UtcNow < deadline, "the standby did not replay the write within 30 s");
            await Task.Delay(20, Cancel);
        }
        Assert.Equal(1, await Scalar<long>(standby.ConnectionString(), "SELECT count(*) FROM replicated WHERE id = 42"));

        var refused = await Assert.ThrowsAsync<PostgresException>(() => Execute(standby.ConnectionString(), "INSERT INTO replicated VALUES (43)"));
        Assert.Equal(PostgresErrorCodes.ReadOnlySqlTransaction, refused.SqlState);
    }

    [Fact]
    public async Task A_cluster_can_be_reopened_from_its_directory_and_destroyed_without_leftovers()
    {
        var cluster = await LocalCluster.StartAsync(new LocalClusterOptions { DeleteOnDispose = false }, Cancel);
        var pid = cluster.Primary.PostmasterPid;
        try
        {
            Assert.NotNull(pid);
            var reopened = LocalCluster.Open(cluster.Directory);
            Assert.NotNull(reopened);
            Assert.Equal(cluster.Primary.Port, reopened.Primary.Port);
            Assert.True(reopened.Primary.IsRunning);
            await reopened.DestroyAsync();
        }
        finally
        {
            if (Directory.Exists(cluster.Directory))
            {
                await cluster.DestroyAsync(); // a failed assertion above must not leave a server running
            }
        }
        Assert.False(Directory.Exists(cluster.Directory));
        Assert.False(ProcessExists(pid!.Value));
        Assert.Null(LocalCluster.Open(cluster.Directory));
    }

    [Fact]
    public async Task Missing_binaries_fail_with_the_install_hint()
    {
        var saved = Environment.GetEnvironmentVariable(PostgresBinaries.BinDirectoryVariable);
        try
        {
            Environment.SetEnvironmentVariable(PostgresBinaries.BinDirectoryVariable, "/nonexistent/pg/bin");
            var error = await Assert.ThrowsAsync<PostgresNotFoundException>(() => LocalCluster.StartAsync(new LocalClusterOptions(), Cancel));
            Assert.Contains("apt-get install postgresql", error.Message);
            Assert.Contains("/nonexistent/pg/bin", error.Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable(PostgresBinaries.BinDirectoryVariable, saved);
        }
    }

    static bool ProcessExists(int pid)
    {
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    static async Task Execute(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Cancel);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Cancel);
    }

    static async Task<T> Scalar<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Cancel);
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync(Cancel))!;
    }
}
