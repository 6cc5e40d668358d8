using System.Collections.Immutable;
using Concord.Messaging.Sagas;
using Concord.Messaging.Sagas.Orders;

namespace Concord.Messaging.Tests.Sagas;

/// <summary>
/// Drives one order saga by hand, etcd-raft-test style: feed replies and timers, read back the
/// commands it sent as a compact trace such as <c>ReserveStock#2</c>.
/// </summary>
internal sealed class SagaScript
{
    public static readonly OrderSagaTimings Timings = new()
    {
        AttemptTimeoutMs = 100,
        StepDeadlineMs = 10_000,
        AttemptsMax = 3,
        BackoffBaseMs = 10,
        BackoffMaxMs = 40,
        ReservationHoldMs = 60_000,
    };

    public static readonly OrderSagaData Order = new(
        Guid.Parse("0b5e7c1a-0000-4000-8000-000000000001"),
        Guid.Parse("c0570000-0000-4000-8000-000000000002"),
        "EUR",
        "customer:1",
        [new OrderLine("SKU-A", 2, 1_250), new OrderLine("SKU-B", 1, 500)]);

    readonly List<string> _sent = [];

    public SagaScript(SagaDefinition<OrderSagaData, OrderCommand>? definition = null, long startMs = 1_000)
    {
        Definition = definition ?? OrderSaga.Create(Timings);
        NowMs = startMs;
        Record(OrderSaga.Start(Order, NowMs, Definition));
    }

    public SagaDefinition<OrderSagaData, OrderCommand> Definition { get; }

    public SagaState<OrderSagaData, OrderCommand> State { get; private set; } = null!;

    public long NowMs { get; private set; }

    public ImmutableArray<SagaEffect<OrderCommand>> LastEffects { get; private set; }

    public long? TimerDueAtMs { get; private set; }

    /// <summary>Every command sent so far, as <c>Type#attempt</c>.</summary>
    public IReadOnlyList<string> Sent => _sent;

    public IEnumerable<SendCommand<OrderCommand>> Commands => State.History.SelectMany(t => t.Effects).OfType<SendCommand<OrderCommand>>();

    public SagaStatus Status => State.Status;

    public string Describe => Definition.Describe(State);

    public static string Key(string step, SagaPhase phase = SagaPhase.Action) =>
        SagaDefinition<OrderSagaData, OrderCommand>.IdempotencyKey(OrderSaga.SagaId(Order.OrderId), step, phase);

    public SagaScript Ok(string step) => Send(new StepReplied(Key(step), ReplyOutcome.Succeeded));

    public SagaScript Refuse(string step, string reason = "no") => Send(new StepReplied(Key(step), ReplyOutcome.Failed, reason));

    public SagaScript Transient(string step) => Send(new StepReplied(Key(step), ReplyOutcome.TransientFailure, "503"));

    public SagaScript Undone(string step) => Send(new StepReplied(Key(step, SagaPhase.Compensation), ReplyOutcome.Succeeded));

    public SagaScript UndoFailed(string step) => Send(new StepReplied(Key(step, SagaPhase.Compensation), ReplyOutcome.TransientFailure, "503"));

    /// <summary>Fires the armed timer at its due time.</summary>
    public SagaScript Fire()
    {
        Assert.NotNull(State.ArmedTimer);
        NowMs = Math.Max(NowMs, TimerDueAtMs!.Value);
        return Send(new TimerFired(State.ArmedTimer));
    }

    /// <summary>Fires timers until the current attempt of <paramref name="step"/>'s command has timed out <paramref name="times"/> times.</summary>
    public SagaScript TimeOut(int times)
    {
        for (int i = 0; i < times; i++)
        {
            Fire(); // the reply timeout
            if (State.ArmedTimer?.Kind == TimerKind.RetryBackoff)
            {
                Fire(); // the backoff, which resends
            }
        }

        return this;
    }

    public SagaScript Advance(long ms)
    {
        NowMs += ms;
        return this;
    }

    public SagaScript Send(SagaEvent @event, long? atMs = null)
    {
        Record(Definition.Handle(State, @event, atMs ?? NowMs));
        return this;
    }

    void Record(SagaDecision<OrderSagaData, OrderCommand> decision)
    {
        State = decision.State;
        LastEffects = decision.Effects;
        foreach (SagaEffect<OrderCommand> effect in decision.Effects)
        {
            switch (effect)
            {
                case SendCommand<OrderCommand> send:
                    _sent.Add(send.Command.GetType().Name + "#" + send.Attempt);
                    break;
                case ScheduleTimer<OrderCommand> timer:
                    TimerDueAtMs = timer.DueAtMs;
                    break;
                default:
                    throw new InvalidOperationException("unknown effect");
            }
        }
    }
}
