using Npgsql;

namespace Concord.Postgres.Migrations;

public sealed record MigrationReport(IReadOnlyList<Migration> Applied, IReadOnlyList<Migration> AlreadyApplied);

/// <summary>
/// Applies a <see cref="MigrationSet"/> at start-up. Under a session advisory lock, so that two
/// instances starting together cannot race: the second waits, then finds everything applied.
/// Each applied file is recorded with its checksum; a file edited after it was applied stops
/// start-up (the database no longer matches what the file says), as does an applied version whose
/// file is gone.
/// </summary>
public static class MigrationRunner
{
    const string HistoryTable = "concord_schema_migrations";

    /// <param name="asRole">A role to SET ROLE to first, so that the schema's objects belong to it (the schema owner).</param>
    public static async Task<MigrationReport> ApplyAsync(string connectionString, MigrationSet set, CancellationToken cancellationToken = default,
        string? asRole = null)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        if (asRole is not null)
        {
            await ExecuteAsync(connection, $"SET ROLE \"{asRole.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", cancellationToken).ConfigureAwait(false);
        }

        // One lock per database; hashtext gives a stable bigint key from the table name.
        await ExecuteAsync(connection, $"SELECT pg_advisory_lock(hashtext('{HistoryTable}'))", cancellationToken).ConfigureAwait(false);
        try
        {
            await ExecuteAsync(connection, $"""
                CREATE TABLE IF NOT EXISTS {HistoryTable} (
                    version     integer     PRIMARY KEY CHECK (version > 0),
                    name        text        NOT NULL,
                    checksum    text        NOT NULL,
                    applied_at  timestamptz NOT NULL DEFAULT now(),
                    applied_by  text        NOT NULL DEFAULT current_user
                )
                """, cancellationToken).ConfigureAwait(false);

            var recorded = await ReadRecordedAsync(connection, cancellationToken).ConfigureAwait(false);
            var byVersion = set.Migrations.ToDictionary(m => m.Version);
            foreach (var (version, (name, checksum)) in recorded)
            {
                if (!byVersion.TryGetValue(version, out var migration))
                {
                    throw new MigrationException(
                        $"The database has migration {version:D4}_{name} applied, but no such file exists; was it deleted or renamed? Restore it.");
                }
                if (migration.Checksum != checksum)
                {
                    throw new MigrationException(
                        $"{migration.Source} was edited after it was applied (recorded checksum {checksum[..12]}…, file now {migration.Checksum[..12]}…). " +
                        "Applied migrations are immutable: restore the file and put the change in a new migration.");
                }
            }

            var applied = new List<Migration>();
            foreach (var migration in set.Migrations.Where(m => !recorded.ContainsKey(m.Version)))
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    await using (var command = new NpgsqlCommand(migration.Sql, connection, transaction))
                    {
                        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    }
                    await using (var record = new NpgsqlCommand(
                        $"INSERT INTO {HistoryTable} (version, name, checksum) VALUES (@version, @name, @checksum)", connection, transaction))
                    {
                        record.Parameters.AddWithValue("version", migration.Version);
                        record.Parameters.AddWithValue("name", migration.Name);
                        record.Parameters.AddWithValue("checksum", migration.Checksum);
                        await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    }
                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (PostgresException e)
                {
                    throw new MigrationException($"{migration.Source} failed and was rolled back: {e.MessageText} (SQLSTATE {e.SqlState}).", e);
                }
                applied.Add(migration);
            }
            return new MigrationReport(applied, [.. set.Migrations.Where(m => recorded.ContainsKey(m.Version))]);
        }
        finally
        {
            await ExecuteAsync(connection, $"SELECT pg_advisory_unlock(hashtext('{HistoryTable}'))", CancellationToken.None).ConfigureAwait(false);
        }
    }

    static async Task<Dictionary<int, (string Name, string Checksum)>> ReadRecordedAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT version, name, checksum FROM {HistoryTable}", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var recorded = new Dictionary<int, (string, string)>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            recorded[reader.GetInt32(0)] = (reader.GetString(1), reader.GetString(2));
        }
        return recorded;
    }

    static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
