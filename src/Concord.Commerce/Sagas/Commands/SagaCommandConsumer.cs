using Concord.Core.Clocks;
using Concord.Messaging.Envelopes;
using Concord.Messaging.Sagas;
using Concord.Messaging.Sagas.Orders;
using Concord.Postgres.Messaging;
using Npgsql;

namespace Concord.Commerce.Sagas.Commands;

/// <summary>A service's side of the order saga: the effect of each command it receives, inside the caller's transaction.</summary>
public interface ISagaCommandExecutor
{
    /// <summary>
    /// Applies <paramref name="command"/> in <paramref name="transaction"/>. Returns a refusal for a
    /// business reason (out of stock, insufficient funds), after which the caller rolls the effect
    /// back to a savepoint; throws for anything worth retrying (a deadlock, a lost connection).
    /// Undo commands succeed when there is nothing to undo.
    /// </summary>
    Task<SagaCommandResult> ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, OrderCommand command, CancellationToken cancellationToken);

    /// <summary>
    /// Before a batch's effects run in one transaction: locks whatever several sagas' commands share
    /// (stock rows, ledger accounts) in one global order, so two batches never wait on each other in
    /// a cycle; the per-command locks that follow then find it already held. Called after the
    /// sagas' own locks. A single command cannot form a cycle with itself, so this may do nothing for one.
    /// </summary>
    Task LockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<OrderCommand> commands, CancellationToken cancellationToken);
}

/// <summary>
/// Receives one service's saga commands from its queue and answers each through that service's
/// outbox. One transaction in the service's own database holds, for a whole claimed batch: the inbox
/// records (a redelivered message changes nothing), each command's answer under its idempotency key
/// (a retried command gets the first answer again, refusals included), the effects, and the replies.
/// So under at-least-once delivery and saga retries an effect happens once and its reply goes out if
/// and only if the effect committed; and a batch costs one commit, not one per message.
/// </summary>
public sealed class SagaCommandConsumer(string name, NpgsqlDataSource database, ISagaCommandExecutor executor, HybridLogicalClock clock)
{
    static readonly MessageCodec Codec = SagaWire.CreateCodec();

    /// <summary>The inbox's consumer name and the audit log's actor (<c>saga:{name}</c>).</summary>
    public string Name { get; } = name;

    sealed record Received(OutboxMessage Message, Envelope Envelope, OrderCommand Command)
    {
        public string SagaId => Envelope.CorrelationId;

        public string Key => Command.IdempotencyKey;

        public bool Undo => Key.EndsWith(":undo", StringComparison.Ordinal);

        public string UndoKey => Key[..Key.LastIndexOf(':')] + ":undo";
    }

    /// <summary>
    /// Handles a claimed batch (<see cref="QueueConsumer"/>: at most one message per saga) in one
    /// transaction. Throws if any message cannot be handled (undecodable, a deadlock, a transient
    /// failure): nothing commits, and the queue retries the messages one at a time.
    /// </summary>
    public async Task HandleAsync(IReadOnlyList<OutboxMessage> messages, CancellationToken cancellationToken)
    {
        // Saga order: the advisory locks below, and the rows each effect locks, are taken in one
        // order by every batch (the executor's LockAsync covers rows shared across sagas).
        var received = messages.Select(Decode).OrderBy(r => r.SagaId, StringComparer.Ordinal).ToList();
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var fresh = await Inbox.TryRecordManyAsync(connection, transaction, Name, [.. received.Select(r => r.Message.Id)], cancellationToken).ConfigureAwait(false);
        // A redelivery was handled before: its effect and its reply committed then.
        received = [.. received.Where(r => fresh.Contains(r.Message.Id))];
        if (received.Count == 0)
        {
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        // One round trip: stamp the transaction for the audit log, take the sagas' locks (sorted),
        // read the answers recorded for these steps. A saga's lock serializes its commands whichever
        // consumer or host runs them, so "has the undo run?" and the undo itself never interleave.
        var answers = new Dictionary<string, SagaCommandResult>(StringComparer.Ordinal);
        await using (var prepare = new NpgsqlBatch(connection, transaction))
        {
            prepare.BatchCommands.Add(Http.RequestTransaction.StampCommand(clock, "saga:" + Name));
            prepare.BatchCommands.Add(new NpgsqlBatchCommand(LockInOrderSql) { Parameters = { new() { Value = received.Select(r => r.SagaId).ToArray() } } });
            prepare.BatchCommands.Add(new NpgsqlBatchCommand("SELECT idempotency_key, outcome, reason FROM saga_command_results WHERE idempotency_key = ANY($1)")
            {
                Parameters = { new() { Value = received.SelectMany(r => new[] { r.Key, r.UndoKey }).Distinct().ToArray() } },
            });
            await using var reader = await prepare.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                answers[reader.GetString(0)] = new SagaCommandResult(reader.GetString(1) == "succeeded", reader.IsDBNull(2) ? null : reader.GetString(2));
            }
        }
        await executor.LockAsync(connection, transaction, [.. received.Where(r => !answers.ContainsKey(r.Key)).Select(r => r.Command)], cancellationToken)
            .ConfigureAwait(false);

        var recorded = new List<(Received Command, SagaCommandResult Result)>();
        var replies = new List<OutboxMessage>(received.Count);
        var outcomes = new List<(bool Succeeded, bool Replayed)>(received.Count);
        foreach (var r in received)
        {
            var replayed = answers.TryGetValue(r.Key, out var result);
            if (result is null)
            {
                if (!r.Undo && answers.ContainsKey(r.UndoKey))
                {
                    // The tombstone rule: the undo ran first (the saga gave up on this step), so the late "do" must not take effect.
                    result = SagaCommandResult.Refused("already compensated: the undo of this step ran first");
                }
                else
                {
                    await transaction.SaveAsync("effect", cancellationToken).ConfigureAwait(false);
                    result = await executor.ExecuteAsync(connection, transaction, r.Command, cancellationToken).ConfigureAwait(false);
                    if (!result.Succeeded)
                    {
                        await transaction.RollbackAsync("effect", cancellationToken).ConfigureAwait(false);
                    }
                }
                answers[r.Key] = result;
                recorded.Add((r, result));
            }
            var reply = new SagaReply(r.Key, result.Succeeded ? ReplyOutcome.Succeeded : ReplyOutcome.Failed, result.Reason);
            replies.Add(ReplyMessage(r.Message.Id, r.Envelope, reply));
            outcomes.Add((result.Succeeded, replayed));
        }
        if (recorded.Count > 0)
        {
            await using var record = new NpgsqlCommand("""
                INSERT INTO saga_command_results (idempotency_key, saga_id, outcome, reason)
                SELECT * FROM unnest(@keys, @sagas, @outcomes, @reasons)
                """, connection, transaction);
            record.Parameters.AddWithValue("keys", recorded.Select(x => x.Command.Key).ToArray());
            record.Parameters.AddWithValue("sagas", recorded.Select(x => x.Command.SagaId).ToArray());
            record.Parameters.AddWithValue("outcomes", recorded.Select(x => x.Result.Succeeded ? "succeeded" : "failed").ToArray());
            record.Parameters.AddWithValue("reasons", recorded.Select(x => x.Result.Reason).ToArray());
            await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await Outbox.AppendManyAsync(connection, transaction, replies, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        foreach (var (succeeded, replayed) in outcomes)
        {
            SagaMetrics.RecordCommand(Name, succeeded, replayed);
        }
    }

    /// <summary>Advisory locks on names, sorted by the hash that is each lock's identity (the one global order).</summary>
    const string LockInOrderSql =
        "SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtextextended(s, 0) AS h FROM unnest($1::text[]) AS s ORDER BY h) AS sorted";

    /// <summary>
    /// Takes transaction-scoped advisory locks on <paramref name="names"/> in one global order, so
    /// transactions that lock overlapping sets this way never wait on each other in a cycle.
    /// </summary>
    public static async Task LockInOrderAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyCollection<string> names,
        CancellationToken cancellationToken)
    {
        if (names.Count == 0)
        {
            return;
        }
        await using var lockNames = new NpgsqlCommand(LockInOrderSql, connection, transaction) { Parameters = { new() { Value = names.ToArray() } } };
        await lockNames.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    static Received Decode(OutboxMessage message)
    {
        var decoded = Codec.Decode(message.Payload);
        var command = decoded.Body as OrderCommand
            ?? throw new InvalidOperationException($"Message {message.Id} of type {message.Type} is not an order saga command.");
        var received = new Received(message, decoded.Envelope, command);
        var key = command.IdempotencyKey;
        if ((!received.Undo && !key.EndsWith(":do", StringComparison.Ordinal)) || !key.StartsWith(received.SagaId + ":", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Message {message.Id}: idempotency key '{key}' is not {{sagaId}}:{{step}}:{{do|undo}} of saga {received.SagaId}.");
        }
        return received;
    }

    OutboxMessage ReplyMessage(string messageId, Envelope command, SagaReply reply)
    {
        // One reply per command message (its id, not the envelope's): a redelivery never gets here (inbox), a re-sent command has its own message id.
        var envelope = new Envelope
        {
            Id = "reply:" + messageId,
            Type = SagaReply.MessageType,
            SchemaVersion = 1,
            PartitionKey = command.PartitionKey,
            CorrelationId = command.CorrelationId,
            CausationId = command.Id,
            Timestamp = clock.Now(),
        };
        return new OutboxMessage(envelope.Id, envelope.Type, envelope.PartitionKey, Codec.Encode(new Message(envelope, reply)));
    }

    static async Task<SagaCommandResult?> RecordedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string key, CancellationToken cancellationToken)
    {
        await using var select = new NpgsqlCommand("SELECT outcome, reason FROM saga_command_results WHERE idempotency_key = @key", connection, transaction);
        select.Parameters.AddWithValue("key", key);
        await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? new SagaCommandResult(reader.GetString(0) == "succeeded", reader.IsDBNull(1) ? null : reader.GetString(1))
            : null;
    }

    /// <summary>True when <paramref name="key"/> was answered with success in this database (e.g. "was the authorization made?").</summary>
    public static async Task<bool> SucceededAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string key, CancellationToken cancellationToken) =>
        await RecordedAsync(connection, transaction, key, cancellationToken).ConfigureAwait(false) is { Succeeded: true };
}
