using System.Diagnostics.Metrics;
using Concord.Postgres.Migrations;
using Npgsql;

namespace Concord.Postgres.Messaging;

/// <summary>A message as the outbox, the transports and the inbox see it: an id, a type, an ordering key and opaque bytes.</summary>
public sealed record OutboxMessage(string Id, string Type, string PartitionKey, byte[] Payload)
{
    public const int IdLengthMax = 200;

    public void Validate()
    {
        if (string.IsNullOrEmpty(Id) || Id.Length > IdLengthMax)
        {
            throw new ArgumentException($"A message id is 1–{IdLengthMax} characters; got '{Id}'.");
        }
        if (string.IsNullOrEmpty(Type) || string.IsNullOrEmpty(PartitionKey))
        {
            throw new ArgumentException($"Message {Id} needs a type and a partition key.");
        }
    }
}

/// <summary>The tables this namespace works on, as migration sets a service applies to its own database (outbox, inbox) and to the bus (queues).</summary>
public static class MessagingSchemas
{
    /// <summary><c>outbox</c> and <c>inbox</c>: belong in each service's own database, beside the data they announce.</summary>
    public static MigrationSet OutboxAndInbox => MigrationSet.FromEmbeddedResources(typeof(MessagingSchemas).Assembly, "Messaging.Outbox");

    /// <summary><c>queue_messages</c>: the PostgreSQL-backed transport's database.</summary>
    public static MigrationSet Queues => MigrationSet.FromEmbeddedResources(typeof(MessagingSchemas).Assembly, "Messaging.Queues");
}

/// <summary>Instruments for OpenTelemetry (meter <c>Concord.Messaging</c>); a host exports them with its own provider.</summary>
public static class MessagingMetrics
{
    public const string MeterName = "Concord.Messaging";
    internal static readonly Meter Meter = new(MeterName);
    internal static readonly Counter<long> Published = Meter.CreateCounter<long>("concord.outbox.published", "{message}", "Messages the relay published");
    internal static readonly Counter<long> InboxDuplicates = Meter.CreateCounter<long>("concord.inbox.duplicates", "{message}", "Redelivered messages the inbox skipped");
    internal static readonly Counter<long> Consumed = Meter.CreateCounter<long>("concord.queue.consumed", "{message}", "Messages consumers handled");
    internal static readonly Histogram<double> OutboxLag = Meter.CreateHistogram<double>("concord.outbox.lag", "s", "Age of the oldest unpublished outbox row when a relay round starts");
}

/// <summary>The transactional outbox: events are rows written in the caller's transaction.</summary>
public static class Outbox
{
    /// <summary>
    /// Appends <paramref name="message"/> in the caller's transaction: it is published if and only
    /// if that transaction commits. A relay wakes on the commit (NOTIFY) or its next poll.
    /// </summary>
    public static async Task AppendAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, OutboxMessage message, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection, transaction) { BatchCommands = { Command(message) } };
        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The statement that appends <paramref name="message"/>, for a batch the caller sends anyway:
    /// with the transaction's other statements, or with its <c>COMMIT</c>, so the outbox row costs
    /// no round trip of its own.
    /// </summary>
    public static NpgsqlBatchCommand Command(OutboxMessage message)
    {
        message.Validate();
        return new NpgsqlBatchCommand("INSERT INTO outbox (message_id, message_type, partition_key, payload) VALUES ($1, $2, $3, $4)")
        {
            Parameters =
            {
                new NpgsqlParameter<string> { TypedValue = message.Id },
                new NpgsqlParameter<string> { TypedValue = message.Type },
                new NpgsqlParameter<string> { TypedValue = message.PartitionKey },
                new NpgsqlParameter<byte[]> { TypedValue = message.Payload },
            },
        };
    }

    /// <summary>Appends <paramref name="messages"/> in the caller's transaction with one statement, in the given order (their relay order within a key).</summary>
    public static async Task AppendManyAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<OutboxMessage> messages,
        CancellationToken cancellationToken)
    {
        if (messages.Count == 0)
        {
            return;
        }
        if (messages.Count == 1)
        {
            await AppendAsync(connection, transaction, messages[0], cancellationToken).ConfigureAwait(false);
            return;
        }
        foreach (var message in messages)
        {
            message.Validate();
        }
        await using var insert = new NpgsqlCommand("""
            INSERT INTO outbox (message_id, message_type, partition_key, payload)
            SELECT id, type, key, payload FROM unnest(@ids, @types, @keys, @payloads) WITH ORDINALITY AS m(id, type, key, payload, n) ORDER BY n
            """, connection, transaction);
        insert.Parameters.AddWithValue("ids", messages.Select(m => m.Id).ToArray());
        insert.Parameters.AddWithValue("types", messages.Select(m => m.Type).ToArray());
        insert.Parameters.AddWithValue("keys", messages.Select(m => m.PartitionKey).ToArray());
        insert.Parameters.AddWithValue("payloads", messages.Select(m => m.Payload).ToArray());
        await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>
/// The idempotent inbox: a consumer records each message id in the same transaction as the
/// message's effects, so on at-least-once delivery the effects happen exactly once.
/// </summary>
public static class Inbox
{
    /// <summary>True the first time <paramref name="consumer"/> sees <paramref name="messageId"/>; false for a redelivery, whose effects must be skipped.</summary>
    public static async Task<bool> TryRecordAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string consumer, string messageId,
        CancellationToken cancellationToken) =>
        (await TryRecordManyAsync(connection, transaction, consumer, [messageId], cancellationToken).ConfigureAwait(false)).Count == 1;

    /// <summary>
    /// Records a batch's message ids in one statement. Returns the ids seen for the first time (a
    /// message's effects are applied only if its id is in the set); the others are redeliveries, and
    /// an id given twice counts once.
    /// </summary>
    public static async Task<IReadOnlySet<string>> TryRecordManyAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string consumer,
        IReadOnlyCollection<string> messageIds, CancellationToken cancellationToken)
    {
        // Sorted, so two batches sharing ids take the inbox's unique-index locks in one order (no deadlock).
        var ids = messageIds.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        await using var insert = new NpgsqlCommand("""
            INSERT INTO inbox (consumer, message_id) SELECT @consumer, id FROM unnest(@ids) WITH ORDINALITY AS m(id, n) ORDER BY n
            ON CONFLICT DO NOTHING
            RETURNING message_id
            """, connection, transaction);
        insert.Parameters.AddWithValue("consumer", consumer);
        insert.Parameters.AddWithValue("ids", ids);
        var first = new HashSet<string>(StringComparer.Ordinal);
        await using (var reader = await insert.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                first.Add(reader.GetString(0));
            }
        }
        if (first.Count < messageIds.Count)
        {
            MessagingMetrics.InboxDuplicates.Add(messageIds.Count - first.Count, new KeyValuePair<string, object?>("consumer", consumer));
        }
        return first;
    }
}
