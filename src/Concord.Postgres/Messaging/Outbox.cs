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
        message.Validate();
        await using var insert = new NpgsqlCommand(
            "INSERT INTO outbox (message_id, message_type, partition_key, payload) VALUES (@id, @type, @key, @payload)", connection, transaction);
        insert.Parameters.AddWithValue("id", message.Id);
        insert.Parameters.AddWithValue("type", message.Type);
        insert.Parameters.AddWithValue("key", message.PartitionKey);
        insert.Parameters.AddWithValue("payload", message.Payload);
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
        CancellationToken cancellationToken)
    {
        await using var insert = new NpgsqlCommand(
            "INSERT INTO inbox (consumer, message_id) VALUES (@consumer, @id) ON CONFLICT DO NOTHING", connection, transaction);
        insert.Parameters.AddWithValue("consumer", consumer);
        insert.Parameters.AddWithValue("id", messageId);
        var first = await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
        if (!first)
        {
            MessagingMetrics.InboxDuplicates.Add(1, new KeyValuePair<string, object?>("consumer", consumer));
        }
        return first;
    }
}
