using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace Concord.Postgres.Idempotency;

public sealed record IdempotencyOptions
{
    /// <summary>How long a key is remembered; a replay after that runs the request again.</summary>
    public TimeSpan KeyLifetime { get; init; } = TimeSpan.FromHours(24);

    /// <summary>
    /// How long a claimed key with no response counts as in flight. After that the claimant is
    /// presumed dead (its transaction never committed, or the response would be there), and a
    /// retry may take the key over.
    /// </summary>
    public TimeSpan InFlightLease { get; init; } = TimeSpan.FromSeconds(30);

    public void Validate()
    {
        if (KeyLifetime <= TimeSpan.Zero || KeyLifetime > TimeSpan.FromDays(30))
        {
            throw new ArgumentOutOfRangeException(nameof(KeyLifetime), KeyLifetime, "KeyLifetime must be within (0, 30 days].");
        }
        if (InFlightLease <= TimeSpan.Zero || InFlightLease >= KeyLifetime)
        {
            throw new ArgumentOutOfRangeException(nameof(InFlightLease), InFlightLease, "InFlightLease must be positive and shorter than KeyLifetime.");
        }
    }
}

/// <summary>A response as sent, kept so that a replay sends the same bytes.</summary>
public sealed record StoredResponse(int Status, IReadOnlyDictionary<string, string> Headers, byte[] Body);

/// <summary>What claiming a key found.</summary>
public abstract record IdempotencyClaim
{
    private IdempotencyClaim() { }

    /// <summary>The key is new (or taken over after its lease ran out): run the request, then complete it with this token.</summary>
    public sealed record Started(Guid ClaimToken) : IdempotencyClaim;

    /// <summary>The same request completed before: send this response again.</summary>
    public sealed record Replay(StoredResponse Response) : IdempotencyClaim;

    /// <summary>The key was first used with a different request.</summary>
    public sealed record Mismatch : IdempotencyClaim;

    /// <summary>The first request with this key is still running.</summary>
    public sealed record InFlight : IdempotencyClaim;
}

/// <summary>
/// Idempotency keys on PostgreSQL (table <c>idempotency_keys</c>), with the semantics payment APIs use.
/// A request first <see cref="ClaimAsync">claims</see> its key in a transaction of its own, so that a
/// concurrent duplicate sees it in flight. The request's own transaction then <see cref="CompleteAsync">
/// records the response</see> together with its effects: either both commit or neither does, so a
/// crash between them leaves no effect and no response, and the key can be taken over once its lease
/// ends.
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

    public async Task<IdempotencyClaim> ClaimAsync(string scope, string key, byte[] fingerprint, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var token = Guid.NewGuid();
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

        await using (var insert = new NpgsqlCommand("""
            INSERT INTO idempotency_keys (scope, key, fingerprint, claim_token, created_at, expires_at)
            VALUES (@scope, @key, @fingerprint, @token, @now, @expires)
            ON CONFLICT (scope, key) DO NOTHING
            """, connection, transaction))
        {
            AddKey(insert, scope, key);
            insert.Parameters.AddWithValue("fingerprint", fingerprint);
            insert.Parameters.AddWithValue("token", token);
            insert.Parameters.AddWithValue("now", now);
            insert.Parameters.AddWithValue("expires", now + _options.KeyLifetime);
            if (await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1)
            {
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return new IdempotencyClaim.Started(token);
            }
        }

        await using var select = new NpgsqlCommand("""
            SELECT fingerprint, response_status, response_headers, response_body, created_at, expires_at
              FROM idempotency_keys WHERE scope = @scope AND key = @key FOR UPDATE
            """, connection, transaction);
        AddKey(select, scope, key);
        byte[] storedFingerprint;
        StoredResponse? response = null;
        DateTimeOffset createdAt, expiresAt;
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                // Swept between our insert and select: claim again, a bounded recursion in practice.
                await reader.DisposeAsync().ConfigureAwait(false);
                await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                return await ClaimAsync(scope, key, fingerprint, cancellationToken).ConfigureAwait(false);
            }
            storedFingerprint = reader.GetFieldValue<byte[]>(0);
            if (!reader.IsDBNull(1))
            {
                var headers = JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(2)) ?? [];
                response = new StoredResponse(reader.GetInt16(1), headers, reader.GetFieldValue<byte[]>(3));
            }
            createdAt = reader.GetFieldValue<DateTimeOffset>(4);
            expiresAt = reader.GetFieldValue<DateTimeOffset>(5);
        }

        IdempotencyClaim claim;
        if (expiresAt <= now)
        {
            // Expired but not yet swept: the key starts a new life.
            await using var restart = new NpgsqlCommand("""
                UPDATE idempotency_keys
                   SET fingerprint = @fingerprint, claim_token = @token, created_at = @now, expires_at = @expires,
                       response_status = NULL, response_headers = NULL, response_body = NULL, completed_at = NULL
                 WHERE scope = @scope AND key = @key
                """, connection, transaction);
            AddKey(restart, scope, key);
            restart.Parameters.AddWithValue("fingerprint", fingerprint);
            restart.Parameters.AddWithValue("token", token);
            restart.Parameters.AddWithValue("now", now);
            restart.Parameters.AddWithValue("expires", now + _options.KeyLifetime);
            await restart.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            claim = new IdempotencyClaim.Started(token);
        }
        else if (!storedFingerprint.AsSpan().SequenceEqual(fingerprint))
        {
            claim = new IdempotencyClaim.Mismatch();
        }
        else if (response is not null)
        {
            claim = new IdempotencyClaim.Replay(response);
        }
        else if (now - createdAt < _options.InFlightLease)
        {
            claim = new IdempotencyClaim.InFlight();
        }
        else
        {
            await using var takeOver = new NpgsqlCommand(
                "UPDATE idempotency_keys SET created_at = @now, claim_token = @token WHERE scope = @scope AND key = @key", connection, transaction);
            AddKey(takeOver, scope, key);
            takeOver.Parameters.AddWithValue("token", token);
            takeOver.Parameters.AddWithValue("now", now);
            await takeOver.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            claim = new IdempotencyClaim.Started(token);
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return claim;
    }

    /// <summary>
    /// Records the response inside the request's own transaction. Throws if the key is no longer
    /// this request's to complete (it was taken over after the lease ran out), so that the caller's
    /// transaction rolls back instead of applying the effects twice.
    /// </summary>
    public async Task CompleteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string scope, string key,
        Guid claimToken, StoredResponse response, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            UPDATE idempotency_keys
               SET response_status = @status, response_headers = @headers, response_body = @body, completed_at = @now
             WHERE scope = @scope AND key = @key AND claim_token = @token AND response_status IS NULL
            """, connection, transaction);
        AddKey(command, scope, key);
        command.Parameters.AddWithValue("token", claimToken);
        command.Parameters.AddWithValue("status", (short)response.Status);
        command.Parameters.AddWithValue("headers", NpgsqlDbType.Jsonb, JsonSerializer.Serialize(response.Headers));
        command.Parameters.AddWithValue("body", response.Body);
        command.Parameters.AddWithValue("now", _time.GetUtcNow());
        if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) != 1)
        {
            throw new IdempotencyKeyLostException(scope, key);
        }
    }

    /// <summary>Forgets a claimed key whose request failed without effects, so the client may retry it at once.</summary>
    public async Task AbandonAsync(string scope, string key, Guid claimToken, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(
            "DELETE FROM idempotency_keys WHERE scope = @scope AND key = @key AND claim_token = @token AND response_status IS NULL");
        AddKey(command, scope, key);
        command.Parameters.AddWithValue("token", claimToken);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
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

    static void AddKey(NpgsqlCommand command, string scope, string key)
    {
        command.Parameters.AddWithValue("scope", scope);
        command.Parameters.AddWithValue("key", key);
    }
}

/// <summary>The key was taken over by a retry after this request's lease ran out; its effects must not commit.</summary>
public sealed class IdempotencyKeyLostException(string scope, string key)
    : Exception($"Idempotency key '{key}' ({scope}) was taken over by a retry after its in-flight lease ran out.");
