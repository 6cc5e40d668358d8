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
}

/// <summary>
/// Receives one service's saga commands from its queue and answers each through that service's
/// outbox. One transaction in the service's own database holds, together: the inbox record (a
/// redelivered message changes nothing), the command's answer under its idempotency key (a retried
/// command gets the first answer again, refusals included), the effect, and the reply. So under
/// at-least-once delivery and saga retries an effect happens once and its reply goes out if and only
/// if the effect committed.
/// </summary>
public sealed class SagaCommandConsumer(string name, NpgsqlDataSource database, ISagaCommandExecutor executor, HybridLogicalClock clock)
{
    static readonly MessageCodec Codec = SagaWire.CreateCodec();

    /// <summary>The inbox's consumer name and the audit log's actor (<c>saga:{name}</c>).</summary>
    public string Name { get; } = name;

    public async Task HandleAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        var decoded = Codec.Decode(message.Payload);
        var command = decoded.Body as OrderCommand
            ?? throw new InvalidOperationException($"Message {message.Id} of type {message.Type} is not an order saga command.");
        var sagaId = decoded.Envelope.CorrelationId;
        var key = command.IdempotencyKey;
        var undo = key.EndsWith(":undo", StringComparison.Ordinal);
        if ((!undo && !key.EndsWith(":do", StringComparison.Ordinal)) || !key.StartsWith(sagaId + ":", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Message {message.Id}: idempotency key '{key}' is not {{sagaId}}:{{step}}:{{do|undo}} of saga {sagaId}.");
        }

        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (!await Inbox.TryRecordAsync(connection, transaction, Name, message.Id, cancellationToken).ConfigureAwait(false))
        {
            return; // handled before: its effect and its reply committed then
        }
        // One round trip: stamp the transaction for the audit log, take the saga's lock, read the
        // answers recorded for this step. The lock serializes one saga's commands whichever consumer
        // or host runs them, so "has the undo run?" and the undo itself never interleave.
        var undoKey = key[..key.LastIndexOf(':')] + ":undo";
        SagaCommandResult? result = null;
        var undone = false;
        await using (var prepare = new NpgsqlBatch(connection, transaction))
        {
            prepare.BatchCommands.Add(new NpgsqlBatchCommand("SELECT set_config('concord.hlc', $1, true), set_config('concord.actor', $2, true)")
            {
                Parameters = { new() { Value = ((long)clock.Now().Pack()).ToString(System.Globalization.CultureInfo.InvariantCulture) }, new() { Value = "saga:" + Name } },
            });
            prepare.BatchCommands.Add(new NpgsqlBatchCommand("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))") { Parameters = { new() { Value = sagaId } } });
            prepare.BatchCommands.Add(new NpgsqlBatchCommand("SELECT idempotency_key, outcome, reason FROM saga_command_results WHERE idempotency_key = ANY($1)")
            {
                Parameters = { new() { Value = new[] { key, undoKey } } },
            });
            await using var reader = await prepare.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (reader.GetString(0) == key)
                {
                    result = new SagaCommandResult(reader.GetString(1) == "succeeded", reader.IsDBNull(2) ? null : reader.GetString(2));
                }
                else
                {
                    undone = true;
                }
            }
        }

        var replayed = result is not null;
        if (result is null)
        {
            if (!undo && undone)
            {
                // The tombstone rule: the undo ran first (the saga gave up on this step), so the late "do" must not take effect.
                result = SagaCommandResult.Refused("already compensated: the undo of this step ran first");
            }
            else
            {
                await transaction.SaveAsync("effect", cancellationToken).ConfigureAwait(false);
                result = await executor.ExecuteAsync(connection, transaction, command, cancellationToken).ConfigureAwait(false);
                if (!result.Succeeded)
                {
                    await transaction.RollbackAsync("effect", cancellationToken).ConfigureAwait(false);
                }
            }
            await using var record = new NpgsqlCommand(
                "INSERT INTO saga_command_results (idempotency_key, saga_id, outcome, reason) VALUES (@key, @saga, @outcome, @reason)", connection, transaction);
            record.Parameters.AddWithValue("key", key);
            record.Parameters.AddWithValue("saga", sagaId);
            record.Parameters.AddWithValue("outcome", result.Succeeded ? "succeeded" : "failed");
            record.Parameters.AddWithValue("reason", (object?)result.Reason ?? DBNull.Value);
            await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        var reply = new SagaReply(key, result.Succeeded ? ReplyOutcome.Succeeded : ReplyOutcome.Failed, result.Reason);
        await Outbox.AppendAsync(connection, transaction, ReplyMessage(message.Id, decoded.Envelope, reply), cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        SagaMetrics.RecordCommand(Name, result.Succeeded, replayed);
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
