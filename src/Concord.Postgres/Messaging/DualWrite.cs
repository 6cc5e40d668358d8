namespace Concord.Postgres.Messaging;

/// <summary>
/// THE ANTI-PATTERN, kept so the lab and the crash tests can show what it costs: commit the
/// change, then publish the event directly. A crash between the two loses the event; publishing
/// first and then failing to commit sends a ghost event for a change that never happened. Use
/// <see cref="Outbox"/> and <see cref="OutboxRelay"/> instead.
/// </summary>
public static class DualWrite
{
    public static Task PublishAfterCommitAsync(IMessageTransport transport, OutboxMessage message, CancellationToken cancellationToken) =>
        transport.PublishAsync([message], cancellationToken);
}
