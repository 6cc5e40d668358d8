using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace Concord.Postgres.Idempotency;

public sealed record IdempotencyOptions
{
    /// <summary>How long a key is remembered; a replay after that runs the request again.</summary>
    public TimeSpan KeyLifetime { get; init; } = TimeSpan.FromHours(24);

    public void Validate()
    {
        if (KeyLifetime <= TimeSpan.Zero || KeyLifetime > TimeSpan.FromDays(30))
        {
            throw new ArgumentOutOfRangeException(nameof(KeyLifetime), KeyLifetime, "KeyLifetime must be within (0, 30 days].");
        }
    }
}

/// <summary>A response as sent, kept so that a replay sends the same bytes.</summary>
public sealed record StoredResponse(int Status, IReadOnlyDictionary<string, string> Headers, byte[] Body);

/// <summary>What claiming a key found.</summary>
public abstract record IdempotencyClaim
{
    private IdempotencyClaim() { }

    /// <summary>The key is new (or expired): run the request, then record its response with <see cref="IdempotencyKeys.CompletionCommand"/>.</summary>
    public sealed record Started : IdempotencyClaim;

    /// <summary>The same request completed before: send this response again.</summary>
    public sealed record Replay(StoredResponse Response) : IdempotencyClaim;

    /// <summary>The key was first used with a different request.</summary>
    public sealed record Mismatch : IdempotencyClaim;

    /// <summary>The first request with this key is still running.</summary>
    public sealed record InFlight : IdempotencyClaim;
}

/// <summary>
/// Idempotency keys on PostgreSQL (table <c>idempotency_keys</c>), with the semantics payment APIs use,
/// worked entirely inside the request's own transaction:
/// <list type="number">
/// <item><see cref="ClaimAsync"/> takes a transaction-scoped advisory lock on the key. If another
/// transaction holds it, that request is in flight. Otherwise a stored row means a replay (same
/// fingerprint) or a misuse (different fingerprint).</item>
/// <item>Only successes are stored: a refused request changed nothing, so running it again is safe
/// and gives a fresh answer (the stock may have been replenished, the body corrected).</item>
/// <item><see cref="CompletionCommand"/> inserts the row, with the response, in the same transaction as
/// the request's effects: both commit or neither does.</item>
/// </list>
/// A crash mid-request rolls back the effects and releases the lock with the connection, so a retry
/// simply runs again: there is no in-flight row to clean up and no lease to wait out. The
/// primary key stays the final guard: two lock holders can never both insert a key.
/// </summary>
public sealed class IdempotencyKeys
{
    readonly NpgsqlDataSource _dataSource;
    readonly TimeProvider _time;
    readonly IdempotencyOptions _options;

    public IdempotencyKeys(NpgsqlDataSource dataSource, TimeProvider time, IdempotencyOptions options)
    {
        options.Validate();
        _dataSource = dataSource;
        _time = time;
        _options = options;
    }

    /// <param name="first">
    /// A statement of the caller's to run first, in the same round trip (say, the statement that
    /// stamps the transaction for the audit log); its results are skipped.
    /// </param>
    public async Task<IdempotencyClaim> ClaimAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string scope, string key,
        byte[] fingerprint, NpgsqlBatchCommand? first, CancellationToken cancellationToken)
    {
        // The lock first, in a statement of its own: under READ COMMITTED each statement takes a
        // fresh snapshot, so the read after it sees the row of a request that committed (and so
        // released the lock) just before we took it. One statement for both would read with a
        // snapshot taken before the lock and miss it. Two statements, one batch: one round trip.
        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("SELECT pg_try_advisory_xact_lock(hashtextextended($1 || chr(10) || $2, 0))") { Parameters = { new() { Value = scope }, new() { Value = key } } },
                new NpgsqlBatchCommand("""
                    SELECT fingerprint, response_status, response_headers, response_body, expires_at
                      FROM idempotency_keys WHERE scope = $1 AND key = $2
                    """) { Parameters = { new() { Value = scope }, new() { Value = key } } },
            },
        };
        byte[]? storedFingerprint = null;
        StoredResponse? response = null;
        DateTimeOffset expiresAt = default;
        if (first is not null)
        {
            batch.BatchCommands.Insert(0, first);
        }
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            if (first is not null)
            {
                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            }
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var locked = reader.GetBoolean(0);
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            if (!locked)
            {
                return new IdempotencyClaim.InFlight();
            }
            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                storedFingerprint = reader.GetFieldValue<byte[]>(0);
                var headers = JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(2)) ?? [];
                response = new StoredResponse(reader.GetInt16(1), headers, reader.GetFieldValue<byte[]>(3));
                expiresAt = reader.GetFieldValue<DateTimeOffset>(4);
            }
        }

        if (storedFingerprint is null)
        {
            return new IdempotencyClaim.Started();
        }
        if (expiresAt <= _time.GetUtcNow())
        {
            // Expired but not yet swept: the key starts a new life.
            await using var forget = new NpgsqlCommand("DELETE FROM idempotency_keys WHERE scope = @scope AND key = @key", connection, transaction);
            forget.Parameters.AddWithValue("scope", scope);
            forget.Parameters.AddWithValue("key", key);
            await forget.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return new IdempotencyClaim.Started();
        }
        return storedFingerprint.AsSpan().SequenceEqual(fingerprint)
            ? new IdempotencyClaim.Replay(response!)
            : new IdempotencyClaim.Mismatch();
    }

    /// <summary>
    /// The statement that records the response. Run it in the request's transaction, which must hold
    /// the key's lock (see <see cref="ClaimAsync"/>); sent in one batch with COMMIT it costs no
    /// round trip of its own.
    /// </summary>
    public NpgsqlBatchCommand CompletionCommand(string scope, string key, byte[] fingerprint, StoredResponse response)
    {
        var now = _time.GetUtcNow();
        return new NpgsqlBatchCommand("""
            INSERT INTO idempotency_keys (scope, key, fingerprint, response_status, response_headers, response_body, created_at, expires_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            """)
        {
            Parameters =
            {
                new() { Value = scope },
                new() { Value = key },
                new() { Value = fingerprint },
                new() { Value = (short)response.Status },
                new() { Value = JsonSerializer.Serialize(response.Headers), NpgsqlDbType = NpgsqlDbType.Jsonb },
                new() { Value = response.Body },
                new() { Value = now },
                new() { Value = now + _options.KeyLifetime },
            },
        };
    }

    /// <summary>Deletes expired keys; returns how many. Bounded per call so one sweep never holds locks for long.</summary>
    public async Task<int> SweepExpiredAsync(int batchSizeMax = 10_000, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand("""
            DELETE FROM idempotency_keys WHERE ctid IN (
                SELECT ctid FROM idempotency_keys WHERE expires_at <= @now LIMIT @limit)
            """);
        command.Parameters.AddWithValue("now", _time.GetUtcNow());
        command.Parameters.AddWithValue("limit", batchSizeMax);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
