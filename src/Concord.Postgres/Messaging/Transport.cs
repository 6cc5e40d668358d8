using Npgsql;

namespace Concord.Postgres.Messaging;

/// <summary>
/// Where a relay publishes. At least once: a relay may publish the same message again after a
/// crash, so consumers dedupe (<see cref="Inbox"/>). Messages of one partition key are published in
/// order. A broker adapter implements this same interface.
/// </summary>
public interface IMessageTransport
{
    Task PublishAsync(IReadOnlyList<OutboxMessage> messages, CancellationToken cancellationToken);
}

/// <summary>
/// The default transport: queues in a PostgreSQL database (<see cref="MessagingSchemas.Queues"/>),
/// no extra server. A router names the queues each message goes to.
/// </summary>
public sealed class PostgresQueueTransport(NpgsqlDataSource bus, Func<OutboxMessage, IReadOnlyList<string>> route) : IMessageTransport
{
    public async Task PublishAsync(IReadOnlyList<OutboxMessage> messages, CancellationToken cancellationToken)
    {
        var rows = messages.SelectMany(m => route(m).Select(queue => (queue, m))).ToList();
        if (rows.Count == 0)
        {
            return;
        }
        // One statement; WITH ORDINALITY keeps the given order, so queue positions follow it.
        await using var insert = bus.CreateCommand("""
            INSERT INTO queue_messages (queue, message_id, message_type, partition_key, payload)
            SELECT queue, id, type, key, payload
              FROM unnest(@queues, @ids, @types, @keys, @payloads) WITH ORDINALITY AS m(queue, id, type, key, payload, n)
             ORDER BY n
            """);
        insert.Parameters.AddWithValue("queues", rows.Select(r => r.queue).ToArray());
        insert.Parameters.AddWithValue("ids", rows.Select(r => r.m.Id).ToArray());
        insert.Parameters.AddWithValue("types", rows.Select(r => r.m.Type).ToArray());
        insert.Parameters.AddWithValue("keys", rows.Select(r => r.m.PartitionKey).ToArray());
        insert.Parameters.AddWithValue("payloads", rows.Select(r => r.m.Payload).ToArray());
        await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
