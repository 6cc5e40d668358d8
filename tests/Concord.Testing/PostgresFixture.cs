using Concord.Postgres.Local;
using Npgsql;

namespace Concord.Testing;

/// <summary>
/// One PostgreSQL server per test run, shared by every test class; each test asks for a database of
/// its own. CONCORD_TEST_PG (an Npgsql connection string to a superuser) uses an existing server
/// instead. Without either, every test fails with the install hint: never a silent skip.
/// A test assembly opts in with <c>[assembly: AssemblyFixture(typeof(PostgresFixture))]</c>.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public const string ConnectionStringVariable = "CONCORD_TEST_PG";

    LocalCluster? _cluster;
    string? _adminConnectionString;
    int _databases;

    /// <summary>The cluster this fixture started, or null when CONCORD_TEST_PG points at an outside server.</summary>
    public LocalCluster? Cluster => _cluster;

    public async ValueTask InitializeAsync()
    {
        var external = Environment.GetEnvironmentVariable(ConnectionStringVariable);
        if (!string.IsNullOrWhiteSpace(external))
        {
            _adminConnectionString = external;
            return;
        }
        try
        {
            _cluster = await LocalCluster.StartAsync(new LocalClusterOptions(), TestContext.Current.CancellationToken);
        }
        catch (PostgresNotFoundException e)
        {
            throw new InvalidOperationException($"{e.Message} Or set {ConnectionStringVariable} to a superuser connection string.", e);
        }
        _adminConnectionString = _cluster.Primary.ConnectionString();
    }

    /// <summary>A database name no other test of this run uses.</summary>
    public string NewDatabaseName() => $"test_{Environment.ProcessId}_{Interlocked.Increment(ref _databases)}";

    /// <summary>Creates a fresh, empty database and returns a superuser connection string to it.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = NewDatabaseName();
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;
    }

    public string AdminConnectionString =>
        _adminConnectionString ?? throw new InvalidOperationException("The PostgreSQL fixture is not initialized.");

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await _cluster.DisposeAsync();
        }
    }
}
