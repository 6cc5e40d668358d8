using Npgsql;

namespace Concord.Postgres.Messaging;

/// <summary>
/// Takes messages off one PostgreSQL-backed queue and hands them to a handler, at least once and
/// in order per partition key. The handler does its work in its own database with
/// <see cref="Inbox.TryRecordAsync"/> in the same transaction; the message leaves the queue only
/// after the handler returns, so a crash in between redelivers it and the inbox skips it.
/// </summary>
/// <remarks>
/// A message whose handler throws stays at the head of its key (later messages of that key wait
/// behind it, other keys go on) and counts an attempt; after <c>attemptsMax</c> attempts it moves
/// to <c>queue_dead_letters</c> with the last error, so one poison message cannot stall its key forever.
/// </remarks>
/// <param name="handlerParallelism">
/// Handlers run at once within a round. A round claims at most one message per key, so running
/// them side by side keeps per-key order; it pays when handlers wait on their own database.
/// </param>
public sealed class QueueConsumer(NpgsqlDataSource bus, string queue, int batchSizeMax = 64, int attemptsMax = 5, Action<OutboxMessage, Exception>? onError = null,
    int handlerParallelism = 1)
{
    readonly int _handlerParallelism = handlerParallelism is >= 1 and <= 64
        ? handlerParallelism
        : throw new ArgumentOutOfRangeException(nameof(handlerParallelism), handlerParallelism, "handlerParallelism must be within [1, 64].");

    /// <summary>One round: claims the oldest message of each key, handles them (one per key, so in key order), removes the handled ones.</summary>
    public async Task<int> ConsumeBatchAsync(Func<OutboxMessage, CancellationToken, Task> handle, CancellationToken cancellationToken)
    {
        await using var connection = await bus.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var claimed = new List<(long Position, OutboxMessage Message)>();
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
            heads.Parameters.AddWithValue("queue", queue);
            heads.Parameters.AddWithValue("batch", batchSizeMax);
            await using var reader = await heads.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                claimed.Add((reader.GetInt64(0),
                    new OutboxMessage(reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetFieldValue<byte[]>(4))));
            }
        }

        var handled = new List<long>();
        var failed = new List<(long Position, string Error)>();
        var gate = new Lock();
        await Parallel.ForEachAsync(claimed, new ParallelOptions { MaxDegreeOfParallelism = _handlerParallelism, CancellationToken = cancellationToken },
            async (item, ct) =>
            {
                try
                {
                    await handle(item.Message, ct).ConfigureAwait(false);
                    lock (gate)
                    {
                        handled.Add(item.Position);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    onError?.Invoke(item.Message, e);
                    lock (gate)
                    {
                        failed.Add((item.Position, e.Message));
                    }
                }
            }).ConfigureAwait(false);
        await using (var ack = new NpgsqlCommand("DELETE FROM queue_messages WHERE position = ANY(@positions)", connection, transaction))
        {
            ack.Parameters.AddWithValue("positions", handled.ToArray());
            await ack.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        if (failed.Count > 0)
        {
            // Two statements: a row updated in a WITH clause cannot also be deleted by the same statement.
            await using var retry = new NpgsqlCommand("""
                UPDATE queue_messages SET attempts = attempts + 1 WHERE position = ANY(@positions);
                WITH dead AS (
                    DELETE FROM queue_messages WHERE position = ANY(@positions) AND attempts >= @max RETURNING *)
                INSERT INTO queue_dead_letters (queue, message_id, message_type, partition_key, payload, attempts, last_error)
                SELECT d.queue, d.message_id, d.message_type, d.partition_key, d.payload, d.attempts, f.error
                  FROM dead d JOIN unnest(@positions, @errors) AS f(position, error) ON f.position = d.position
                """, connection, transaction);
            retry.Parameters.AddWithValue("positions", failed.Select(f => f.Position).ToArray());
            retry.Parameters.AddWithValue("errors", failed.Select(f => f.Error).ToArray());
            retry.Parameters.AddWithValue("max", attemptsMax);
            await retry.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        MessagingMetrics.Consumed.Add(handled.Count, new KeyValuePair<string, object?>("queue", queue));
        return handled.Count;
    }

    /// <summary>
    /// Runs until cancelled: drains the queue, then sleeps until a NOTIFY on <c>concord_queue</c> or
    /// <paramref name="pollInterval"/>, whichever comes first. A failed round (the bus restarts) is
    /// reported to <paramref name="onRoundError"/> and retried after a backoff that doubles up to 32×
    /// <paramref name="failureBackoff"/>. A message whose handler throws stays at its key's head and is
    /// retried on the next wake-up or poll (see the class remarks for the dead-letter bound).
    /// </summary>
    public Task RunAsync(Func<OutboxMessage, CancellationToken, Task> handle, TimeSpan pollInterval, TimeSpan failureBackoff, TimeProvider time,
        Action<Exception>? onRoundError = null, CancellationToken cancellationToken = default)
    {
        return ListenLoop.RunAsync(bus, "concord_queue", async ct =>
        {
            while (await ConsumeBatchAsync(handle, ct).ConfigureAwait(false) > 0)
            {
            }
        }, pollInterval, failureBackoff, time, onRoundError, cancellationToken);
    }

    /// <summary>Messages waiting in the queue.</summary>
    public async Task<long> DepthAsync(CancellationToken cancellationToken)
    {
        await using var count = bus.CreateCommand("SELECT count(*) FROM queue_messages WHERE queue = @queue");
        count.Parameters.AddWithValue("queue", queue);
        return (long)(await count.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }
}
