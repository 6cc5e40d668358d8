using System.Collections.Immutable;
using System.Globalization;
using Concord.Core;
using Concord.Core.Clocks;
using Concord.Messaging.Envelopes;
using Concord.Messaging.Sagas;
using Concord.Messaging.Sagas.Orders;
using Concord.Simulation.Nodes;

namespace Concord.Experiments.Commerce.Workflow;

/// <summary>
/// A service's server: the Orders service with the saga runtime, Inventory, Payments, or several
/// of them on a small topology (<see cref="ServiceDirectory"/>). The object is the process's
/// volatile state; <c>_committed</c> mirrors the node's durable rows, so a restart rebuilds it
/// from <see cref="DurableState"/> and loses only what was in flight.
/// </summary>
/// <remarks>
/// How a <see cref="LocalTransaction"/> reaches disk and the bus is the point of the experiment:
/// <list type="bullet">
/// <item><b>Outbox</b>: rows, inbox mark, recorded answer and outbox rows in one durable write; the
/// relay sends the outbox a moment later and again until the consumer acknowledges.</item>
/// <item><b>Dual write, commit first</b>: the rows commit; the events leave in a second step
/// <see cref="WorkflowSettings.PublishDelayUs"/> later. A crash in between loses them.</item>
/// <item><b>Dual write, publish first</b>: the events leave; the COMMIT follows a moment later and
/// may fail, or the process dies first. Either way the events announced work that never happened.</item>
/// </list>
/// While a dual write is between its halves the node handles nothing else (one connection, one
/// transaction at a time): inputs wait in a volatile queue, lost with the process if it dies.
/// </remarks>
internal sealed partial class ServiceNode(WorkflowWorld world, NodeId self) : INode<WorkflowMessage>
{
    const long RelayPollTag = 1;
    const long RelayWakeTag = 2;
    const long SecondHalfTag = 3;
    const long FirstSagaTimerTag = 1_000;
    const string OutboxPrefix = "outbox/";
    const string InboxPrefix = "inbox/";
    const string AnswerPrefix = "answer/";

    readonly Dictionary<string, object> _committed = new(StringComparer.Ordinal);

    // Outbox mode: rows not yet acknowledged, in commit order, and when each was last sent (volatile).
    readonly SortedDictionary<long, OutboxRow> _outbox = [];
    readonly Dictionary<string, long> _outboxSeqByMessage = new(StringComparer.Ordinal);
    readonly Dictionary<long, long> _lastSentUs = [];
    long _nextOutboxSeq;
    bool _relayWakeArmed;

    // Dual write: the second half of the transaction in progress, and the inputs waiting for it.
    PendingDualWrite? _pending;
    readonly Queue<(NodeId From, WorkflowMessage? Message, long TimerTag)> _waiting = new();

    WorkflowTruth Truth => world.Truth;

    bool Outbox => world.Mode == WorkflowMode.Outbox;

    /// <summary>Consumers keep an inbox and recorded answers: the outbox's consumers do, unless a negative control turns it off.</summary>
    bool Deduplicates => Outbox && world.Settings.OutboxConsumersDeduplicate;

    public void Start(NodeContext<WorkflowMessage> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (self == world.Services.Inventory)
        {
            foreach (SkuSpec sku in world.Skus)
            {
                SkuStock stock = new(sku.Stock, 0, 0);
                _committed[SkuKey(sku.Sku)] = stock;
                context.WriteDurable(SkuKey(sku.Sku), stock);
            }
        }

        Boot(context);
    }

    public void OnRestart(DurableState durable, NodeContext<WorkflowMessage> context)
    {
        ArgumentNullException.ThrowIfNull(durable);
        ArgumentNullException.ThrowIfNull(context);
        for (int i = 0; i < durable.Keys.Count; i++)
        {
            string key = durable.Keys[i];
            bool stored = durable.TryGet(key, out object? value);
            Invariant.Assert(stored);
            _committed[key] = value!;
        }

        foreach (KeyValuePair<string, object> row in durable.WithPrefix(OutboxPrefix))
        {
            var outboxRow = (OutboxRow)row.Value;
            _outbox.Add(outboxRow.Seq, outboxRow);
            _outboxSeqByMessage.Add(outboxRow.Delivery.MessageId, outboxRow.Seq);
            _nextOutboxSeq = Math.Max(_nextOutboxSeq, outboxRow.Seq + 1);
        }

        RearmSagaTimers(context);
        Boot(context);
    }

    void Boot(NodeContext<WorkflowMessage> context)
    {
        if (Outbox && world.Services.Hosts(self))
        {
            // The relay's poll: a missed wake-up (the process died right after a commit) costs one poll.
            context.SetTimer(world.Settings.RelayPollUs, RelayPollTag);
        }
    }

    public void OnMessage(NodeId from, WorkflowMessage message, NodeContext<WorkflowMessage> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_pending is not null)
        {
            _waiting.Enqueue((from, message, 0));
            return;
        }

        Dispatch(from, message, context);
    }

    public void OnTimer(TimerId timer, long tag, NodeContext<WorkflowMessage> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (tag == SecondHalfTag)
        {
            FinishDualWrite(context);
            while (_pending is null && _waiting.TryDequeue(out var input))
            {
                if (input.Message is { } message)
                {
                    Dispatch(input.From, message, context);
                }
                else
                {
                    DispatchTimer(input.TimerTag, context);
                }
            }

            return;
        }

        if (_pending is not null)
        {
            _waiting.Enqueue((default, null, tag));
            return;
        }

        DispatchTimer(tag, context);
    }

    void Dispatch(NodeId from, WorkflowMessage message, NodeContext<WorkflowMessage> context)
    {
        switch (message)
        {
            case PlaceOrderRequest request:
                StartSaga(from, request, context);
                break;
            case BusDelivery delivery:
                Consume(from, delivery, context);
                break;
            case BusAck ack:
                Acknowledged(ack.MessageId, context);
                break;
            default:
                throw new InvariantViolationException($"{self} cannot handle {message.GetType().Name}");
        }
    }

    void DispatchTimer(long tag, NodeContext<WorkflowMessage> context)
    {
        switch (tag)
        {
            case RelayPollTag:
                Relay(context);
                context.SetTimer(world.Settings.RelayPollUs, RelayPollTag);
                break;
            case RelayWakeTag:
                _relayWakeArmed = false;
                Relay(context);
                break;
            default:
                Invariant.Assert(tag >= FirstSagaTimerTag, "unknown timer tag");
                SagaTimerFired(tag, context);
                break;
        }
    }

    /// <summary>An event arrived. With an outbox, the inbox mark commits with the effect, so a redelivery is recognised and only acknowledged.</summary>
    void Consume(NodeId from, BusDelivery delivery, NodeContext<WorkflowMessage> context)
    {
        Truth.Delivered(delivery.PublicationId, self);
        var transaction = new LocalTransaction(_committed);
        if (Outbox)
        {
            transaction.OnCommit.Add((from, new BusAck(delivery.MessageId)));
        }

        if (Deduplicates)
        {
            string inboxKey = InboxPrefix + delivery.MessageId;
            if (_committed.ContainsKey(inboxKey))
            {
                context.Send(from, new BusAck(delivery.MessageId));
                return;
            }

            transaction.WriteBookkeeping(inboxKey, InboxMark.Instance);
        }

        switch (delivery.Message.Body)
        {
            case OrderCommand command:
                ExecuteCommand(delivery, command, transaction, context);
                break;
            case StepReplied reply:
                Invariant.Assert(self == world.Services.Orders, "a saga reply reached a node without the saga runtime");
                ReplyArrived(delivery, reply, transaction, context);
                break;
            default:
                throw new InvariantViolationException("unknown event body " + delivery.Message.Body.GetType().Name);
        }

        Commit(transaction, context);
    }

    /// <summary>
    /// Runs a saga command against this node's domain and publishes the answer. With an outbox the
    /// answer is recorded under the idempotency key, so a retry (same key, new message id) gets the
    /// recorded answer and changes nothing; a dual-write consumer has no such record and runs it again.
    /// </summary>
    void ExecuteCommand(BusDelivery delivery, OrderCommand command, LocalTransaction transaction, NodeContext<WorkflowMessage> context)
    {
        string answerKey = AnswerPrefix + command.IdempotencyKey;
        RecordedAnswer? answer = Deduplicates ? transaction.Read<RecordedAnswer>(answerKey) : null;
        if (answer is null)
        {
            answer = Execute(command, transaction);
            if (Deduplicates)
            {
                transaction.WriteBookkeeping(answerKey, answer);
            }
        }

        // With an inbox a command message is answered once, so its answer's id follows from its own.
        // Without one, each run of the command answers anew: a fresh id, as a new outbox row would get.
        Envelope request = delivery.Message.Envelope;
        string replyId = Deduplicates
            ? request.Id + ":reply"
            : request.Id + ":reply:" + context.Random.NextUInt64().ToString("x16", CultureInfo.InvariantCulture);
        Envelope reply = NewEnvelope(replyId, WorkflowWorld.ReplyType, request.CorrelationId, request.Id, context);
        transaction.Publish(world.Services.Orders, new Message(reply, new StepReplied(command.IdempotencyKey, answer.Outcome, answer.Reason)));
    }

    Envelope NewEnvelope(string id, string type, string sagaId, string? causationId, NodeContext<WorkflowMessage> context, ImmutableSortedDictionary<string, string>? headers = null) => new()
    {
        Id = id,
        Type = type,
        SchemaVersion = 1,
        PartitionKey = sagaId,
        CorrelationId = sagaId,
        CausationId = causationId,
        Timestamp = new HlcTimestamp(NowMs(context), 0),
        Headers = headers ?? ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal),
    };

    /// <summary>The node's wall clock in ms, as the database's <c>now()</c> would read it (skewed by clock faults).</summary>
    static long NowMs(NodeContext<WorkflowMessage> context) => Math.Max(0, context.LocalNowUs / 1_000);

    static string OutboxKey(long seq) => OutboxPrefix + seq.ToString("D12", CultureInfo.InvariantCulture);

    /// <summary>The second half of a dual write: events to publish (commit first), or a transaction to commit (publish first).</summary>
    sealed record PendingDualWrite(List<(NodeId To, BusDelivery Delivery)> Publish, LocalTransaction? Commit, List<int> Publications);
}

/// <summary>An unacknowledged event in a node's outbox, durable until its consumer acknowledges it.</summary>
internal sealed record OutboxRow(long Seq, NodeId To, BusDelivery Delivery);

/// <summary>An inbox row: this message id has been applied here.</summary>
internal sealed record InboxMark
{
    public static InboxMark Instance { get; } = new();
}

/// <summary>A service's answer to an idempotency key, replayed to every later attempt of the same command.</summary>
internal sealed record RecordedAnswer(ReplyOutcome Outcome, string? Reason);
