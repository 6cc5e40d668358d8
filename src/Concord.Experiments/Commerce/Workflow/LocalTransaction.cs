using Concord.Core;
using Concord.Messaging.Envelopes;
using Concord.Messaging.Sagas;

namespace Concord.Experiments.Commerce.Workflow;

/// <summary>
/// One local database transaction of a service node, staged in memory: the rows it writes, the
/// events it publishes, and what it tells the observer and the caller once it commits (or fails
/// to). <see cref="ServiceNode"/> decides how it reaches disk and the bus: in one durable write
/// with an outbox, or as a dual write in two steps with a window in between.
/// </summary>
internal sealed class LocalTransaction(IReadOnlyDictionary<string, object> committed)
{
    readonly Dictionary<string, object?> _writes = new(StringComparer.Ordinal);

    /// <summary>Rows written (null: deleted), in write order.</summary>
    public IReadOnlyDictionary<string, object?> Writes => _writes;

    /// <summary>True once the transaction changes business data (not only inbox or answer bookkeeping).</summary>
    public bool ChangesBusinessData { get; private set; }

    /// <summary>Events for the bus, in publication order.</summary>
    public List<(NodeId To, Message Message)> Events { get; } = [];

    /// <summary>Idempotency keys whose effect this transaction applies (reported to the observer at commit).</summary>
    public List<string> Effects { get; } = [];

    /// <summary>Sagas whose state this transaction writes, with the timer to arm once it commits.</summary>
    public List<(string SagaId, SagaStatus Status, SagaTimer? Timer, long DueAtMs)> Sagas { get; } = [];

    /// <summary>Direct answers (not events) sent once the transaction commits: acknowledgements, the customer's reply.</summary>
    public List<(NodeId To, WorkflowMessage Message)> OnCommit { get; } = [];

    /// <summary>Direct answers sent if the COMMIT fails.</summary>
    public List<(NodeId To, WorkflowMessage Message)> OnRollback { get; } = [];

    /// <summary>The row as this transaction sees it: its own write, else the committed value.</summary>
    public T? Read<T>(string key)
        where T : class
    {
        if (_writes.TryGetValue(key, out object? written))
        {
            return (T?)written;
        }

        return committed.TryGetValue(key, out object? value) ? (T)value : null;
    }

    public void Write(string key, object value)
    {
        ArgumentNullException.ThrowIfNull(value);
        _writes[key] = value;
        ChangesBusinessData = true;
    }

    /// <summary>Messaging bookkeeping (inbox marks, recorded answers, outbox rows): written with the data, but not business data.</summary>
    public void WriteBookkeeping(string key, object value)
    {
        ArgumentNullException.ThrowIfNull(value);
        _writes[key] = value;
    }

    public void Publish(NodeId to, Message message)
    {
        Invariant.Assert(message.Envelope.Id.Length > 0);
        Events.Add((to, message));
    }

    public void Effect(string idempotencyKey) => Effects.Add(idempotencyKey);
}
