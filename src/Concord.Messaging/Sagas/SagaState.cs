using System.Collections.Immutable;

namespace Concord.Messaging.Sagas;

public enum SagaStatus
{
    /// <summary>Doing the steps in order; one command is in flight or waiting to be retried.</summary>
    Running,

    /// <summary>Undoing, in reverse, every step that took effect or may have.</summary>
    Compensating,

    /// <summary>Terminal: every step succeeded.</summary>
    Completed,

    /// <summary>Terminal: a step failed and everything done before it was undone.</summary>
    Compensated,
}

public enum SagaPhase
{
    Action,
    Compensation,
}

public enum StepOutcome
{
    NotStarted,
    InProgress,
    Succeeded,

    /// <summary>The service said no; with a stable idempotency key that answer is final, so nothing to undo.</summary>
    Failed,

    /// <summary>Gave up without a definitive answer (timeout, retries exhausted): it may have taken effect.</summary>
    Unknown,
    Compensating,
    Compensated,

    /// <summary>It may have taken effect, but there is nothing to undo (no compensation, or superseded).</summary>
    NothingToUndo,
}

public enum TimerKind
{
    /// <summary>No reply to this attempt by now: count the attempt as failed.</summary>
    ReplyTimeout,

    /// <summary>The backoff after a failed attempt is over: send the next attempt.</summary>
    RetryBackoff,
}

/// <summary>
/// A timer the saga asked for. At most one is armed at a time (<see cref="SagaState{TData,TCommand}.ArmedTimer"/>);
/// a timer that fires after being replaced is recognised by value and ignored, so hosts never need to cancel one.
/// </summary>
public sealed record SagaTimer(string SagaId, SagaPhase Phase, int Step, int Attempt, TimerKind Kind);

/// <summary>Inputs to a saga.</summary>
public abstract record SagaEvent;

/// <summary>Recorded as the first history entry; handing it to a running saga is ignored.</summary>
public sealed record SagaStarted : SagaEvent;

/// <summary>
/// A service's answer to a command, matched by idempotency key (any attempt's answer is the
/// answer, because all attempts share the key). The host maps domain replies onto this, e.g.
/// Inventory's <c>StockReserved</c> is <c>StepReplied(key, Succeeded)</c>.
/// </summary>
public sealed record StepReplied(string IdempotencyKey, ReplyOutcome Outcome, string? Reason = null) : SagaEvent;

public sealed record TimerFired(SagaTimer Timer) : SagaEvent;

public enum ReplyOutcome
{
    Succeeded,

    /// <summary>A business refusal (out of stock, insufficient funds): final for this key.</summary>
    Failed,

    /// <summary>Not applied and worth retrying (overloaded, unavailable, conflict with a concurrent request).</summary>
    TransientFailure,
}

/// <summary>Outputs of a saga, for the host to perform. Persist the new state first, then perform them.</summary>
public abstract record SagaEffect<TCommand>;

/// <summary>Send <paramref name="Command"/>; every attempt of a step and phase carries the same <paramref name="IdempotencyKey"/>.</summary>
public sealed record SendCommand<TCommand>(TCommand Command, string Step, SagaPhase Phase, int Attempt, string IdempotencyKey) : SagaEffect<TCommand>;

/// <summary>Deliver <c>TimerFired(Timer)</c> at or after <paramref name="DueAtMs"/>.</summary>
public sealed record ScheduleTimer<TCommand>(SagaTimer Timer, long DueAtMs) : SagaEffect<TCommand>;

/// <summary>One entry of a saga's history: every event handled, including the ignored ones (with why).</summary>
public sealed record SagaTransition<TCommand>(long AtMs, string From, SagaEvent Event, string To, ImmutableArray<SagaEffect<TCommand>> Effects, string Note);

/// <summary>
/// A saga instance's whole state, immutable. The per-step outcomes and the cursor are enough to
/// decide every next move; the history is for people and checkers.
/// </summary>
public sealed record SagaState<TData, TCommand>
{
    public required string SagaId { get; init; }

    public required TData Data { get; init; }

    public required SagaStatus Status { get; init; }

    /// <summary>The step being done (Running) or undone (Compensating); meaningless when terminal.</summary>
    public required int Cursor { get; init; }

    /// <summary>Attempts sent of the current command, from 1.</summary>
    public required int Attempt { get; init; }

    /// <summary>When the current step (or its compensation) was first attempted; its deadline counts from here.</summary>
    public required long StepStartedAtMs { get; init; }

    public required ImmutableArray<StepOutcome> Outcomes { get; init; }

    /// <summary>Bit i: a success reply for step i's action arrived (possibly late). Decides superseded compensations.</summary>
    public required long AppliedSteps { get; init; }

    public required SagaTimer? ArmedTimer { get; init; }

    public required long StartedAtMs { get; init; }

    public required long LastEventAtMs { get; init; }

    /// <summary>Why the saga is compensating or compensated.</summary>
    public string? FailureReason { get; init; }

    public required ImmutableList<SagaTransition<TCommand>> History { get; init; }

    public bool IsTerminal => Status is SagaStatus.Completed or SagaStatus.Compensated;
}

public sealed record SagaDecision<TData, TCommand>(SagaState<TData, TCommand> State, ImmutableArray<SagaEffect<TCommand>> Effects);
