using System.Collections.Immutable;
using System.Globalization;
using Concord.Core;
using Concord.Messaging.Envelopes;
using Concord.Messaging.Sagas;
using Concord.Messaging.Sagas.Orders;
using Concord.Simulation.Nodes;

namespace Concord.Experiments.Commerce.Workflow;

/// <summary>A saga's row in the Orders database: the core's state and its armed timer's due time (<c>next_deadline_at</c>).</summary>
internal sealed record SagaRecord(SagaState<OrderSagaData, OrderCommand> State, long? TimerDueAtMs);

/// <summary>
/// The saga runtime, as Concord.Commerce's OrderSagaRuntime runs it on PostgreSQL: decide with the
/// pure core, then commit the new state together with its commands (or, in dual-write mode, commit
/// the state and publish the commands as a separate step). An event the core ignores commits nothing.
/// Timers live in the process; the durable due time re-arms them after a restart, as the deadline
/// poller would find them due.
/// </summary>
internal sealed partial class ServiceNode
{
    const string SagaPrefix = "saga/";

    readonly Dictionary<long, (string SagaId, SagaTimer Timer)> _sagaTimers = [];
    long _nextSagaTimerTag = FirstSagaTimerTag;

    /// <summary>A customer placed an order: start its saga, and answer once the start has committed.</summary>
    void StartSaga(NodeId customer, PlaceOrderRequest request, NodeContext<WorkflowMessage> context)
    {
        Invariant.Assert(self == world.Services.Orders, "an order reached a node without the saga runtime");
        string sagaId = OrderSaga.SagaId(request.Order.OrderId);
        if (_committed.ContainsKey(SagaPrefix + sagaId))
        {
            context.Send(customer, new OrderAccepted(request.RequestId));
            return;
        }

        var transaction = new LocalTransaction(_committed);
        Stage(transaction, OrderSaga.Start(request.Order, NowMs(context), world.Saga), previousDueAtMs: null, causationId: null, context);
        transaction.OnCommit.Add((customer, new OrderAccepted(request.RequestId)));
        transaction.OnRollback.Add((customer, new OrderRejected(request.RequestId)));
        Commit(transaction, context);
    }

    void ReplyArrived(BusDelivery delivery, StepReplied reply, LocalTransaction transaction, NodeContext<WorkflowMessage> context)
    {
        // A reply to a command a ghost published for a saga that never committed finds no saga.
        if (transaction.Read<SagaRecord>(SagaPrefix + delivery.Message.Envelope.CorrelationId) is { } record)
        {
            Decide(record, reply, delivery.MessageId, transaction, context);
        }
    }

    void SagaTimerFired(long tag, NodeContext<WorkflowMessage> context)
    {
        if (!_sagaTimers.Remove(tag, out var armed)
            || !_committed.TryGetValue(SagaPrefix + armed.SagaId, out object? value)
            || ((SagaRecord)value).State.ArmedTimer != armed.Timer)
        {
            return; // stale: the saga moved on, and the core would ignore it anyway
        }

        var transaction = new LocalTransaction(_committed);
        Decide((SagaRecord)value, new TimerFired(armed.Timer), causationId: null, transaction, context);
        Commit(transaction, context);
    }

    void Decide(SagaRecord record, SagaEvent @event, string? causationId, LocalTransaction transaction, NodeContext<WorkflowMessage> context)
    {
        SagaState<OrderSagaData, OrderCommand> before = record.State;
        SagaDecision<OrderSagaData, OrderCommand> decision = world.Saga.Handle(before, @event, NowMs(context));
        if (Progressed(before, decision))
        {
            Stage(transaction, decision, record.TimerDueAtMs, causationId, context);
        }
    }

    /// <summary>Redelivery is not progress: a duplicate reply or a stale timer must not grow the saga's history (or commit at all).</summary>
    static bool Progressed(SagaState<OrderSagaData, OrderCommand> before, SagaDecision<OrderSagaData, OrderCommand> decision)
    {
        SagaState<OrderSagaData, OrderCommand> after = decision.State;
        return !decision.Effects.IsEmpty
            || after.Status != before.Status
            || after.Cursor != before.Cursor
            || after.Attempt != before.Attempt
            || after.AppliedSteps != before.AppliedSteps
            || after.ArmedTimer != before.ArmedTimer
            || !after.Outcomes.SequenceEqual(before.Outcomes);
    }

    /// <summary>The saga's new row and its commands, in the caller's transaction.</summary>
    void Stage(LocalTransaction transaction, SagaDecision<OrderSagaData, OrderCommand> decision, long? previousDueAtMs, string? causationId, NodeContext<WorkflowMessage> context)
    {
        SagaState<OrderSagaData, OrderCommand> state = decision.State;
        long? dueAtMs = state.ArmedTimer is null ? null : previousDueAtMs;
        SagaTimer? newTimer = null;
        foreach (SagaEffect<OrderCommand> effect in decision.Effects)
        {
            switch (effect)
            {
                case SendCommand<OrderCommand> send:
                    transaction.Publish(world.ServiceFor(send.Command), CommandMessage(state.SagaId, send, causationId, context));
                    break;
                case ScheduleTimer<OrderCommand> timer:
                    Invariant.Assert(timer.Timer == state.ArmedTimer, "the core schedules only the armed timer");
                    newTimer = timer.Timer;
                    dueAtMs = timer.DueAtMs;
                    break;
                default:
                    throw new InvariantViolationException("unknown saga effect " + effect.GetType().Name);
            }
        }

        transaction.Write(SagaPrefix + state.SagaId, new SagaRecord(state, dueAtMs));
        transaction.Sagas.Add((state.SagaId, state.Status, newTimer, dueAtMs ?? 0));
    }

    /// <summary>As the PostgreSQL runtime writes it: id <c>{idempotencyKey}:{attempt}</c>, saga id as partition key and correlation id, attempt in a header.</summary>
    Message CommandMessage(string sagaId, SendCommand<OrderCommand> send, string? causationId, NodeContext<WorkflowMessage> context)
    {
        string attempt = send.Attempt.ToString(CultureInfo.InvariantCulture);
        ImmutableSortedDictionary<string, string> headers = ImmutableSortedDictionary.CreateRange<string, string>(
            StringComparer.Ordinal,
            [new("attempt", attempt), new("idempotency-key", send.IdempotencyKey)]);
        Envelope envelope = NewEnvelope(send.IdempotencyKey + ":" + attempt, world.TypeOf(send.Command), sagaId, causationId, context, headers);
        return new Message(envelope, send.Command);
    }

    void ArmSagaTimer(string sagaId, SagaTimer timer, long dueAtMs, NodeContext<WorkflowMessage> context)
    {
        long tag = _nextSagaTimerTag++;
        _sagaTimers.Add(tag, (sagaId, timer));
        context.SetTimer(Math.Max(0, dueAtMs - NowMs(context)) * 1_000, tag);
    }

    /// <summary>Arms the committed row's timer again (after a restart, or a COMMIT that failed after its timer had fired).</summary>
    void RearmSagaTimer(string sagaId, NodeContext<WorkflowMessage> context)
    {
        if (_committed.TryGetValue(SagaPrefix + sagaId, out object? value)
            && value is SagaRecord { State.ArmedTimer: { } timer, TimerDueAtMs: { } dueAtMs })
        {
            ArmSagaTimer(sagaId, timer, dueAtMs, context);
        }
    }

    void RearmSagaTimers(NodeContext<WorkflowMessage> context)
    {
        foreach ((string key, object value) in _committed)
        {
            if (key.StartsWith(SagaPrefix, StringComparison.Ordinal) && value is SagaRecord { State.ArmedTimer: { } timer, TimerDueAtMs: { } dueAtMs } record)
            {
                ArmSagaTimer(record.State.SagaId, timer, dueAtMs, context);
            }
        }
    }
}
