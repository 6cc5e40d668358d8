using Npgsql;

namespace Concord.Postgres.Messaging;

public sealed record RelayOptions
{
    /// <summary>Messages claimed and published per round.</summary>
    public int BatchSizeMax { get; init; } = 256;

    /// <summary>How often to look even without a NOTIFY (a notification can be missed while reconnecting).</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Published rows are kept this long (for audits and replays), then pruned.</summary>
    public TimeSpan Retention { get; init; } = TimeSpan.FromDays(1);

    /// <summary>Pause after a failed round (the transport is down, the database restarts), doubling up to 32×.</summary>
    public TimeSpan FailureBackoff { get; init; } = TimeSpan.FromMilliseconds(200);

    public void Validate()
    {
        if (BatchSizeMax is < 1 or > 10_000)
        {
            throw new ArgumentOutOfRangeException(nameof(BatchSizeMax), BatchSizeMax, "BatchSizeMax must be within [1, 10000].");
        }
        if (PollInterval <= TimeSpan.Zero || Retention < TimeSpan.Zero || FailureBackoff <= TimeSpan.Zero)
        {
            throw new ArgumentException("PollInterval and FailureBackoff must be positive and Retention not negative.");
        }
    }
}

/// <summary>
/// Publishes a database's outbox. Safe to run as several instances: a round claims the oldest
/// unpublished message of each partition key with <c>FOR UPDATE SKIP LOCKED</c>, and only then
/// that key's later messages, so two relays never work on one key at once and each key's messages
/// go out in order. A round publishes, then marks the rows published and commits; a crash in
/// between publishes them again (at least once), never loses them.
/// </summary>
public sealed class OutboxRelay
{
    /// <summary>How long a relay about to sleep waits for open writers before it polls instead.</summary>
    static readonly TimeSpan WriterWaitMax = TimeSpan.FromMilliseconds(100);

    readonly NpgsqlDataSource _database;
    readonly IMessageTransport _transport;
    readonly RelayOptions _options;
    readonly TimeProvider _time;

    public OutboxRelay(NpgsqlDataSource database, IMessageTransport transport, RelayOptions options, TimeProvider time)
    {
        options.Validate();
        _database = database;
        _transport = transport;
        _options = options;
        _time = time;
    }

    /// <summary>One round: claim, publish, mark. Returns how many messages were published.</summary>
    public async Task<int> PublishBatchAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

        // Heads: the oldest unpublished row of each key that no other relay holds.
        var keys = new List<string>();
        await using (var heads = new NpgsqlCommand("""
            SELECT o.partition_key, extract(epoch FROM clock_timestamp() - o.created_at)
              FROM outbox o
             WHERE o.published_at IS NULL
               AND NOT EXISTS (SELECT 1 FROM outbox e
                                WHERE e.partition_key = o.partition_key AND e.published_at IS NULL AND e.position < o.position)
             ORDER BY o.position
             LIMIT @batch
               FOR UPDATE SKIP LOCKED
            """, connection, transaction))
        {
            heads.Parameters.AddWithValue("batch", _options.BatchSizeMax);
            await using var reader = await heads.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var first = true;
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                keys.Add(reader.GetString(0));
                if (first)
                {
                    MessagingMetrics.OutboxLag.Record((double)reader.GetDecimal(1));
                    first = false;
                }
            }
        }
        if (keys.Count == 0)
        {
            return 0;
        }

        // Then the claimed keys' messages in order. No other relay can hold these rows: for them
        // they are not heads while our head is unpublished.
        var positions = new List<long>();
        var messages = new List<OutboxMessage>();
        await using (var claim = new NpgsqlCommand("""
            SELECT position, message_id, message_type, partition_key, payload
              FROM outbox
             WHERE partition_key = ANY(@keys) AND published_at IS NULL
             ORDER BY position
             LIMIT @batch
               FOR UPDATE
            """, connection, transaction))
        {
            claim.Parameters.AddWithValue("keys", keys.ToArray());
            claim.Parameters.AddWithValue("batch", _options.BatchSizeMax);
            await using var reader = await claim.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                positions.Add(reader.GetInt64(0));
                messages.Add(new OutboxMessage(reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetFieldValue<byte[]>(4)));
            }
        }

        await _transport.PublishAsync(messages, cancellationToken).ConfigureAwait(false);

        await using (var mark = new NpgsqlCommand("UPDATE outbox SET published_at = @now WHERE position = ANY(@positions)", connection, transaction))
        {
            mark.Parameters.AddWithValue("now", _time.GetUtcNow());
            mark.Parameters.AddWithValue("positions", positions.ToArray());
            await mark.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        MessagingMetrics.Published.Add(messages.Count);
        return messages.Count;
    }

    /// <summary>Deletes published rows older than the retention period; returns how many.</summary>
    public async Task<int> PruneAsync(CancellationToken cancellationToken)
    {
        await using var prune = _database.CreateCommand("DELETE FROM outbox WHERE published_at < @before");
        prune.Parameters.AddWithValue("before", _time.GetUtcNow() - _options.Retention);
        return await prune.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs until cancelled: drains the outbox, then sleeps until a NOTIFY on <c>concord_outbox</c>
    /// or the poll interval, whichever comes first; prunes once per poll interval at most. Any failure
    /// (database, transport) is reported to <paramref name="onError"/> and retried after a backoff.
    /// </summary>
    public Task RunAsync(Action<Exception>? onError = null, CancellationToken cancellationToken = default)
    {
        var lastPrune = DateTimeOffset.MinValue;
        return ListenLoop.RunAsync(_database, "concord_outbox", async ct =>
        {
            while (await PublishBatchAsync(ct).ConfigureAwait(false) > 0)
            {
            }
            if (_time.GetUtcNow() - lastPrune >= _options.PollInterval)
            {
                await PruneAsync(ct).ConfigureAwait(false);
                lastPrune = _time.GetUtcNow();
            }
        }, _options.PollInterval, _options.FailureBackoff, _time, onError, cancellationToken, new WaitRegistration(RegisterAsync, UnregisterAsync));
    }

    /// <summary>
    /// Tells writers a relay is about to sleep, so they NOTIFY, then waits out every writer that may
    /// have looked before it did (see 0003_relay_waits_out_writers_without_a_lock.sql); the loop then
    /// drains once more. False when a transaction stayed open past the wait: the loop then polls
    /// again instead of sleeping.
    /// </summary>
    static async Task<bool> RegisterAsync(NpgsqlConnection listener, CancellationToken cancellationToken)
    {
        await using (var waits = new NpgsqlCommand("SELECT outbox_relay_waits()", listener))
        {
            await waits.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        // A statement of its own, after the registration committed: it waits for the transactions
        // running at its start, which include every writer that may have missed the registration.
        await using var barrier = new NpgsqlCommand("SELECT outbox_relay_waits_out_writers(@timeout_ms)", listener);
        barrier.Parameters.AddWithValue("timeout_ms", (int)WriterWaitMax.TotalMilliseconds);
        return (bool)(await barrier.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    static async Task UnregisterAsync(NpgsqlConnection listener, CancellationToken cancellationToken)
    {
        await using var wakes = new NpgsqlCommand("SELECT outbox_relay_wakes()", listener);
        await wakes.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>What a loop does on its listening connection before it sleeps and after it wakes.</summary>
/// <remarks><c>BeforeSleep</c> answers whether the loop may sleep; false sends it round once more.</remarks>
internal sealed record WaitRegistration(Func<NpgsqlConnection, CancellationToken, Task<bool>> BeforeSleep, Func<NpgsqlConnection, CancellationToken, Task> AfterWake);

/// <summary>
/// The wake-up loop relays and consumers share: drain, then sleep until a NOTIFY on a channel or the
/// poll interval (a notification can be missed while reconnecting), with a doubling backoff (up to
/// 32×) after a failed round.
/// </summary>
internal static class ListenLoop
{
    public static async Task RunAsync(NpgsqlDataSource database, string channel, Func<CancellationToken, Task> drain, TimeSpan pollInterval,
        TimeSpan failureBackoff, TimeProvider time, Action<Exception>? onError, CancellationToken cancellationToken, WaitRegistration? registration = null)
    {
        if (pollInterval <= TimeSpan.Zero || failureBackoff <= TimeSpan.Zero)
        {
            throw new ArgumentException("The poll interval and the failure backoff must be positive.");
        }
        var failures = 0;
        NpgsqlConnection? listener = null;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    if (listener is null)
                    {
                        listener = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                        await using var listen = new NpgsqlCommand("LISTEN " + channel, listener);
                        await listen.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    }
                    await drain(cancellationToken).ConfigureAwait(false);
                    var maySleep = true;
                    if (registration is not null)
                    {
                        maySleep = await registration.BeforeSleep(listener, cancellationToken).ConfigureAwait(false);
                        await drain(cancellationToken).ConfigureAwait(false);
                    }
                    failures = 0; // only once the registration, if any, succeeded
                    if (!maySleep)
                    {
                        continue;
                    }
                    await listener.WaitAsync(pollInterval, cancellationToken).ConfigureAwait(false);
                    if (registration is not null)
                    {
                        await registration.AfterWake(listener, cancellationToken).ConfigureAwait(false);
                    }
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                {
                    onError?.Invoke(e);
                    await CloseAsync(listener, registration).ConfigureAwait(false);
                    listener = null;
                    failures++;
                    await Task.Delay(failureBackoff * Math.Min(32, 1 << Math.Min(failures - 1, 5)), time, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            await CloseAsync(listener, registration).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Returns the listening connection to its pool without its LISTEN (or its registration): a pool
    /// that skips the reset on reuse (No Reset On Close, as the commerce host's does) would otherwise
    /// hand a request a connection whose backend keeps receiving, and holding up, every notification
    /// on the channel.
    /// </summary>
    static async Task CloseAsync(NpgsqlConnection? listener, WaitRegistration? registration)
    {
        if (listener is null)
        {
            return;
        }
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            if (registration is not null)
            {
                await registration.AfterWake(listener, timeout.Token).ConfigureAwait(false);
            }
            await using var unlisten = new NpgsqlCommand("UNLISTEN *", listener);
            await unlisten.ExecuteNonQueryAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or OperationCanceledException)
        {
            // A broken connection is not pooled again.
        }
        await listener.DisposeAsync().ConfigureAwait(false);
    }
}
