using Concord.Commerce;
using Concord.Testing;
using Npgsql;

namespace Concord.Commerce.Tests;

/// <summary>A freshly provisioned service database for one test, reached as the application role.</summary>
internal sealed record CommerceDatabase(string AppConnectionString, string AdminConnectionString)
{
    public const string AppPassword = "app-password-for-tests";

    public static async Task<CommerceDatabase> ProvisionAsync(PostgresFixture fixture, CommerceService service)
    {
        var name = fixture.NewDatabaseName();
        var app = await CommerceDatabases.ProvisionAsync(fixture.AdminConnectionString, name, service, AppPassword, TestContext.Current.CancellationToken);
        var admin = new NpgsqlConnectionStringBuilder(fixture.AdminConnectionString) { Database = name }.ConnectionString;
        return new CommerceDatabase(app, admin);
    }

    /// <summary>Runs the statements in one transaction as the application role and commits.</summary>
    public Task ExecuteAsApp(params string[] statements) => Execute(AppConnectionString, statements);

    public Task ExecuteAsAdmin(params string[] statements) => Execute(AdminConnectionString, statements);

    public async Task<T> ScalarAsApp<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(AppConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    static async Task Execute(string connectionString, string[] statements)
    {
        var cancel = TestContext.Current.CancellationToken;
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancel);
        await using var transaction = await connection.BeginTransactionAsync(cancel);
        foreach (var sql in statements)
        {
            await using var command = new NpgsqlCommand(sql, connection, transaction);
            await command.ExecuteNonQueryAsync(cancel);
        }
        await transaction.CommitAsync(cancel);
    }
}
