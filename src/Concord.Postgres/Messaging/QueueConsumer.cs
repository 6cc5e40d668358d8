using Npgsql;

namespace Concord.Postgres.Messaging;

/// <summary>
/// Takes messages off one PostgreSQL-backed queue and hands them to a handler in batches, at least
/// once and in order per partition key. A round claims the oldest message of each key (so a batch
/// never holds two messages of one key), gives the whole batch to the handler, which does all their
/// work in ONE transaction of its own database with <see cref="Inbox.TryRecordManyAsync"/> in it,
/// and then removes the handled messages from the queue with one statement. The messages leave the
/// queue only after the handler returns, so a crash in between redelivers them and the inbox skips them.
/// </summary>
/// <remarks>
/// If the batch handler throws (one message hits a deadlock, a bug, a poison payload), the round
/// falls back to handing the messages over one at a time, each in a batch of its own, so one bad
/// message cannot hold back the others. A message whose own handling throws stays at the head of its
/// key (later messages of that key wait behind it, other keys go on) and counts an attempt; after
/// <c>attemptsMax</c> attempts it moves to <c>queue_dead_letters</c> with the last error, so one
/// poison message cannot stall its key forever. A failed whole batch counts no attempt against
/// the messages in it.
/// </remarks>
public sealed class QueueConsumer
{
    readonly NpgsqlDataSource _bus;
    readonly string _queue;
    readonly int _batchSizeMax;
    readonly int _attemptsMax;
    readonly Action<OutboxMessage, Exception>? _onError;

    public QueueConsumer(NpgsqlDataSource bus, string queue, int batchSizeMax = 64, int attemptsMax = 5, Action<OutboxMessage, Exception>? onError = null)
    {
        if (batchSizeMax is < 1 or > 10_000)
        {
            throw new ArgumentOutOfRangeException(nameof(batchSizeMax), batchSizeMax, "batchSizeMax must be within [1, 10000].");
        }
        if (attemptsMax < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(attemptsMax), attemptsMax, "attemptsMax must be at least 1.");
        }
        _bus = bus;
        _queue = queue;
        _batchSizeMax = batchSizeMax;
        _attemptsMax = attemptsMax;
        _onError = onError;
    }

    /// <summary>
    /// One round: claims the oldest message of each key, hands them to <paramref name="handle"/> as one
    /// batch (one at a time if the batch fails), removes the handled ones. Returns how many were handled.
    /// </summary>
    public async Task<int> ConsumeBatchAsync(Func<IReadOnlyList<OutboxMessage>, CancellationToken, Task> handle, CancellationToken cancellationToken)
    {
        await using var connection = await _bus.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var positions = new List<long>();
        var claimed = new List<OutboxMessage>();
        await using (var heads = new NpgsqlCommand("""
            SELECT q.position, q.message_id, q.message_type, q.partition_key, q.payload
              FROM queue_messages q
             WHERE q.queue = @queue
               AND NOT EXISTS (SELECT 1 FROM queue_messages e
                                WHERE e.queue = q.queue AND e.partition_key = q.partition_key AND e.position < q.position)
             ORDER BY q.position
             LIMIT @batch
               FOR UPDATE SKIP LOCKED
            """, connection, transaction))
        {
            heads.Parameters.AddWithValue("queue", _queue);
            heads.Parameters.AddWithValue("batch", _batchSizeMax);
            await using var reader = await heads.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                positions.Add(reader.GetInt64(0));
                claimed.Add(new OutboxMessage(reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetFieldValue<byte[]>(4)));
            }
        }
        if (claimed.Count == 0)
        {
            return 0;
        }

        var handled = new List<long>();
        var failed = new List<(long Position, string Error)>();
        try
        {
            await handle(claimed, cancellationToken).ConfigureAwait(false);
            handled = positions;
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested && claimed.Count > 1)
        {
            // Which message failed is unknown, and the handler's transaction rolled back: try each alone.
            for (var i = 0; i < claimed.Count; i++)
            {
                try
                {
                    await handle([claimed[i]], cancellationToken).ConfigureAwait(false);
                    handled.Add(positions[i]);
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                {
                    _onError?.Invoke(claimed[i], e);
                    failed.Add((positions[i], e.Message));
                }
            }
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            _onError?.Invoke(claimed[0], e);
            failed.Add((positions[0], e.Message));
        }

        await using (var settle = new NpgsqlBatch(connection, transaction))
        {
            if (handled.Count > 0)
            {
                settle.BatchCommands.Add(new NpgsqlBatchCommand("DELETE FROM queue_messages WHERE position = ANY($1)") { Parameters = { new() { Value = handled.ToArray() } } });
            }
            if (failed.Count > 0)
            {
                // Two statements: a row updated in a WITH clause cannot also be deleted by the same statement.
                var failedPositions = failed.Select(f => f.Position).ToArray();
                settle.BatchCommands.Add(new NpgsqlBatchCommand("UPDATE queue_messages SET attempts = attempts + 1 WHERE position = ANY($1)")
                {
                    Parameters = { new() { Value = failedPositions } },
                });
                settle.BatchCommands.Add(new NpgsqlBatchCommand("""
                    WITH dead AS (
                        DELETE FROM queue_messages WHERE position = ANY($1) AND attempts >= $3 RETURNING *)
                    INSERT INTO queue_dead_letters (queue, message_id, message_type, partition_key, payload, attempts, last_error)
                    SELECT d.queue, d.message_id, d.message_type, d.partition_key, d.payload, d.attempts, f.error
                      FROM dead d JOIN unnest($1, $2) AS f(position, error) ON f.position = d.position
                    """)
                {
                    Parameters = { new() { Value = failedPositions }, new() { Value = failed.Select(f => f.Error).ToArray() }, new() { Value = _attemptsMax } },
                });
            }
            await settle.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        MessagingMetrics.Consumed.Add(handled.Count, new KeyValuePair<string, object?>("queue", _queue));
        return handled.Count;
    }

    /// <summary>
    /// Runs until cancelled: drains the queue, then sleeps until a NOTIFY on <c>concord_queue</c> or
    /// <paramref name="pollInterval"/>, whichever comes first. A failed round (the bus restarts) is
    /// reported to <paramref name="onRoundError"/> and retried after a backoff that doubles up to 32×
    /// <paramref name="failureBackoff"/>. A message whose handler throws stays at its key's head and is
    /// retried on the next wake-up or poll (see the class remarks for the dead-letter bound).
    /// </summary>
    public Task RunAsync(Func<IReadOnlyList<OutboxMessage>, CancellationToken, Task> handle, TimeSpan pollInterval, TimeSpan failureBackoff, TimeProvider time,
        Action<Exception>? onRoundError = null, CancellationToken cancellationToken = default)
    {
        return ListenLoop.RunAsync(_bus, "concord_queue", async ct =>
        {
            while (await ConsumeBatchAsync(handle, ct).ConfigureAwait(false) > 0)
            {
            }
        }, pollInterval, failureBackoff, time, onRoundError, cancellationToken);
    }

    /// <summary>Messages waiting in the queue.</summary>
    public async Task<long> DepthAsync(CancellationToken cancellationToken)
    {
        await using var count = _bus.CreateCommand("SELECT count(*) FROM queue_messages WHERE queue = @queue");
        count.Parameters.AddWithValue("queue", _queue);
        return (long)(await count.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }
}
