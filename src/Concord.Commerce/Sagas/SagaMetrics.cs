using System.Diagnostics.Metrics;
using Concord.Messaging.Sagas;

namespace Concord.Commerce.Sagas;

/// <summary>Saga instruments (meter <c>Concord.Sagas</c>); a host exports them with its own OpenTelemetry provider.</summary>
public static class SagaMetrics
{
    public const string MeterName = "Concord.Sagas";
    static readonly Meter Meter = new(MeterName);
    static readonly Histogram<double> Duration = Meter.CreateHistogram<double>("concord.saga.duration", "s",
        "Time from a saga's start to its terminal state, by outcome (completed or compensated)");
    static readonly Counter<long> Compensations = Meter.CreateCounter<long>("concord.saga.compensations", "{saga}", "Sagas that began compensating");
    static readonly Counter<long> Timeouts = Meter.CreateCounter<long>("concord.saga.timeouts", "{timeout}",
        "Reply timeouts that moved a saga (a retry or a give-up), not stale timers");

    static readonly Counter<long> Commands = Meter.CreateCounter<long>("concord.saga.commands", "{command}",
        "Saga commands answered by a service, by service, outcome and whether the answer was a recorded one sent again");

    internal static void RecordCommand(string service, bool succeeded, bool replayed) =>
        Commands.Add(1, new KeyValuePair<string, object?>("service", service),
            new KeyValuePair<string, object?>("outcome", succeeded ? "succeeded" : "failed"),
            new KeyValuePair<string, object?>("replayed", replayed));

    /// <summary>Called once per committed transition, after the commit, so a rolled-back one is never counted.</summary>
    internal static void Record<TData, TCommand>(string sagaType, SagaState<TData, TCommand> before, SagaEvent @event, SagaState<TData, TCommand> after)
    {
        var type = new KeyValuePair<string, object?>("saga.type", sagaType);
        if (before.Status == SagaStatus.Running && after.Status is SagaStatus.Compensating or SagaStatus.Compensated)
        {
            Compensations.Add(1, type);
        }
        if (@event is TimerFired { Timer.Kind: TimerKind.ReplyTimeout })
        {
            Timeouts.Add(1, type);
        }
        if (!before.IsTerminal && after.IsTerminal)
        {
            Duration.Record((after.LastEventAtMs - after.StartedAtMs) / 1000.0, type,
                new KeyValuePair<string, object?>("saga.outcome", after.Status == SagaStatus.Completed ? "completed" : "compensated"));
        }
    }
}
