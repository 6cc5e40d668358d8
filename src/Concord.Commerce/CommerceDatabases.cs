using Concord.Postgres.Migrations;
using Npgsql;

namespace Concord.Commerce;

/// <summary>The four services; each owns one database and never reads another's tables.</summary>
public enum CommerceService
{
    Orders,
    Payments,
    Inventory,
    Catalog,
}

/// <summary>
/// Creates a service's database with two roles, least privilege: <c>concord_owner</c> owns the schema
/// and runs migrations; <c>concord_app</c>, the role the service logs in as, gets only the grants its
/// migrations give it (e.g. no UPDATE on the ledger, INSERT-only on the audit log).
/// Roles are cluster-wide in PostgreSQL, so one pair serves every service database of a cluster.
/// </summary>
public static class CommerceDatabases
{
    public const string OwnerRole = "concord_owner";
    public const string AppRole = "concord_app";

    public static MigrationSet Migrations(CommerceService service) =>
        MigrationSet.FromEmbeddedResources(typeof(CommerceDatabases).Assembly, $"{service}.Migrations");

    /// <summary>The bus database's migrations (see <see cref="ProvisionBusAsync"/>).</summary>
    public static MigrationSet BusMigrations() =>
        MigrationSet.FromEmbeddedResources(typeof(CommerceDatabases).Assembly, "Bus.Migrations");

    /// <summary>
    /// Creates <paramref name="database"/> if missing, owned by the owner role, applies the service's
    /// migrations as that role, and returns a connection string for the application role.
    /// </summary>
    /// <param name="adminConnectionString">A superuser (or CREATEROLE + CREATEDB) connection.</param>
    /// <param name="appPassword">The application role's password, set when the role is created.</param>
    public static Task<string> ProvisionAsync(string adminConnectionString, string database, CommerceService service,
        string appPassword, CancellationToken cancellationToken = default) =>
        ProvisionAsync(adminConnectionString, database, Migrations(service), appPassword, cancellationToken);

    /// <summary>
    /// The bus: the database holding the PostgreSQL-backed queues the services' relays publish to
    /// and their consumers read (no broker to run). Provisioned like a service database.
    /// </summary>
    public static Task<string> ProvisionBusAsync(string adminConnectionString, string database, string appPassword,
        CancellationToken cancellationToken = default) =>
        ProvisionAsync(adminConnectionString, database, BusMigrations(), appPassword, cancellationToken);

    static async Task<string> ProvisionAsync(string adminConnectionString, string database, MigrationSet migrations, string appPassword,
        CancellationToken cancellationToken)
    {
        await using (var admin = new NpgsqlConnection(adminConnectionString))
        {
            await admin.OpenAsync(cancellationToken).ConfigureAwait(false);
            // Roles and databases have no IF NOT EXISTS; two provisioners racing are serialized here.
            await ExecuteAsync(admin, "SELECT pg_advisory_lock(hashtext('concord_provisioning'))", cancellationToken).ConfigureAwait(false);
            try
            {
                await EnsureRolesAsync(admin, appPassword, cancellationToken).ConfigureAwait(false);
                if (!await DatabaseExistsAsync(admin, database, cancellationToken).ConfigureAwait(false))
                {
                    var quoted = QuoteIdentifier(database);
                    await ExecuteAsync(admin, $"CREATE DATABASE {quoted} OWNER {OwnerRole}", cancellationToken).ConfigureAwait(false);
                    await ExecuteAsync(admin, $"REVOKE ALL ON DATABASE {quoted} FROM PUBLIC; GRANT CONNECT ON DATABASE {quoted} TO {AppRole}",
                        cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                await ExecuteAsync(admin, "SELECT pg_advisory_unlock(hashtext('concord_provisioning'))", CancellationToken.None).ConfigureAwait(false);
            }
        }

        var ownerConnection = new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = database }.ConnectionString;
        await MigrationRunner.ApplyAsync(ownerConnection, migrations, cancellationToken, asRole: OwnerRole).ConfigureAwait(false);

        return new NpgsqlConnectionStringBuilder(adminConnectionString)
        {
            Database = database,
            Username = AppRole,
            Password = appPassword,
        }.ConnectionString;
    }

    static async Task EnsureRolesAsync(NpgsqlConnection admin, string appPassword, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"""
            DO $$
            BEGIN
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{OwnerRole}') THEN
                    CREATE ROLE {OwnerRole} NOLOGIN;
                END IF;
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{AppRole}') THEN
                    CREATE ROLE {AppRole} LOGIN PASSWORD {QuoteLiteral(appPassword)};
                END IF;
            END
            $$
            """, admin);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    static async Task<bool> DatabaseExistsAsync(NpgsqlConnection admin, string database, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT EXISTS (SELECT FROM pg_database WHERE datname = @name)", admin);
        command.Parameters.AddWithValue("name", database);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    static string QuoteIdentifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    static string QuoteLiteral(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}
