using System.Collections.Immutable;
using System.Globalization;

namespace Concord.Messaging.Sagas;

/// <summary>
/// Where a step stands in the saga's commit protocol (Garcia-Molina and Salem, "Sagas", 1987, as
/// refined by the compensatable / pivot / retriable split): every compensatable step comes before
/// the pivot, every retriable step after it.
/// </summary>
public enum StepKind
{
    /// <summary>Can fail, time out or run out of retries; once it may have taken effect, it is undone by its compensation.</summary>
    Compensatable,

    /// <summary>
    /// The point of no return. A definitive failure still compensates the earlier steps, but a
    /// timeout cannot: the outcome is unknown and cannot be undone, so it retries until it is told.
    /// </summary>
    Pivot,

    /// <summary>After the pivot: must succeed, so every failure is retried.</summary>
    Retriable,
}

/// <summary>
/// How often and how patiently a command is retried. The backoff doubles from
/// <see cref="BackoffBaseMs"/> and is capped at <see cref="BackoffMaxMs"/>; it has no jitter because
/// the host adds jitter where it spreads load, and the core stays reproducible.
/// </summary>
public sealed record RetryPolicy(int AttemptsMax, long BackoffBaseMs, long BackoffMaxMs)
{
    /// <summary>For commands that must eventually succeed (compensations, the pivot, retriable steps).</summary>
    public const int AttemptsUnbounded = int.MaxValue;

    /// <summary>The wait before attempt <paramref name="failedAttempts"/> + 1.</summary>
    public long BackoffMs(int failedAttempts)
    {
        Concord.Core.Invariant.Assert(failedAttempts >= 1);
        int doublings = Math.Min(failedAttempts - 1, 30);
        return Math.Min(BackoffMaxMs, BackoffBaseMs << doublings);
    }

    internal void Validate(string owner, List<string> problems)
    {
        if (AttemptsMax < 1)
        {
            problems.Add(owner + ": AttemptsMax must be at least 1.");
        }

        if (BackoffBaseMs < 1 || BackoffMaxMs < BackoffBaseMs || BackoffMaxMs > SagaLimits.DelayMsMax)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture,
                $"{owner}: backoff must satisfy 1 <= BackoffBaseMs ({BackoffBaseMs}) <= BackoffMaxMs ({BackoffMaxMs}) <= {SagaLimits.DelayMsMax}."));
        }
    }
}

/// <summary>Everything a command factory may put into a command besides the saga's data.</summary>
/// <param name="IdempotencyKey">
/// Derived from saga id, step and phase only, so every attempt of one command carries the same key
/// and the receiving service applies it once (<see cref="SagaDefinition{TData,TCommand}.IdempotencyKey"/>).
/// </param>
public sealed record CommandContext(string SagaId, string Step, SagaPhase Phase, int Attempt, string IdempotencyKey);

/// <summary>One step: the command that does it, the command that undoes it, and how long to try.</summary>
public sealed record SagaStep<TData, TCommand>
{
    /// <summary>Lower-case words joined by '-'; part of the idempotency key, so never rename a live step.</summary>
    public required string Name { get; init; }

    public required StepKind Kind { get; init; }

    public required Func<TData, CommandContext, TCommand> Action { get; init; }

    /// <summary>Null when there is nothing to undo (a check, a read).</summary>
    public Func<TData, CommandContext, TCommand>? Compensation { get; init; }

    /// <summary>
    /// A later step whose success makes this compensation unnecessary, e.g. a capture consumes the
    /// authorization, so a captured payment is refunded, not voided.
    /// </summary>
    public string? CompensationSupersededBy { get; init; }

    /// <summary>How long to wait for a reply to one attempt before counting it as failed.</summary>
    public required long AttemptTimeoutMs { get; init; }

    /// <summary>
    /// For a compensatable step: how long after its first attempt the step gives up and compensates,
    /// retries or not. This is what makes a stalled saga let go of what it holds (a stock reservation).
    /// </summary>
    public long DeadlineMs { get; init; } = SagaLimits.DelayMsMax;

    public required RetryPolicy Retry { get; init; }
}

/// <summary>
/// A saga as data: a sequence of steps run one at a time, compensated in reverse on failure. The
/// definition is pure; <see cref="Start"/> and <see cref="Handle"/> are its whole behaviour.
/// </summary>
public sealed partial record SagaDefinition<TData, TCommand>
{
    public required string Name { get; init; }

    public required ImmutableArray<SagaStep<TData, TCommand>> Steps { get; init; }

    /// <summary>Compensations must eventually succeed, so this retries without a count limit by default.</summary>
    public RetryPolicy CompensationRetry { get; init; } = new(RetryPolicy.AttemptsUnbounded, 100, 10_000);

    public long CompensationAttemptTimeoutMs { get; init; } = 5_000;

    /// <summary>Every configuration error at once, each naming the step (etcd's <c>Config.validate()</c>).</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        var names = new List<string>();
        Envelopes.Envelope.CheckTypeName(problems, "name", Name);
        if (Steps.IsDefaultOrEmpty || Steps.Length > SagaLimits.StepsMax)
        {
            problems.Add($"steps: between 1 and {SagaLimits.StepsMax} required.");
            return problems;
        }

        int pivots = 0;
        StepKind previous = StepKind.Compensatable;
        foreach (SagaStep<TData, TCommand> step in Steps)
        {
            string owner = "step '" + step.Name + "'";
            Envelopes.Envelope.CheckTypeName(problems, owner + " name", step.Name);
            if (names.Contains(step.Name))
            {
                problems.Add(owner + ": name used twice.");
            }

            names.Add(step.Name);
            if (step.Kind < previous)
            {
                problems.Add(owner + ": compensatable steps come before the pivot, retriable steps after it.");
            }

            previous = step.Kind;
            pivots += step.Kind == StepKind.Pivot ? 1 : 0;
            if (step.Kind != StepKind.Compensatable && step.Retry.AttemptsMax != RetryPolicy.AttemptsUnbounded)
            {
                problems.Add(owner + ": a pivot or retriable step cannot give up, so its AttemptsMax must be AttemptsUnbounded.");
            }

            if (step.Kind != StepKind.Compensatable && step.Compensation is not null)
            {
                problems.Add(owner + ": only compensatable steps have compensations.");
            }

            if (step.CompensationSupersededBy is { } later && !Steps.Any(s => s.Name == later && Steps.IndexOf(s) > Steps.IndexOf(step)))
            {
                problems.Add(owner + ": CompensationSupersededBy must name a later step.");
            }

            CheckDelay(problems, owner + " AttemptTimeoutMs", step.AttemptTimeoutMs);
            CheckDelay(problems, owner + " DeadlineMs", step.DeadlineMs);
            step.Retry.Validate(owner + " retry", problems);
        }

        if (pivots > 1)
        {
            problems.Add("steps: at most one pivot.");
        }

        if (CompensationRetry.AttemptsMax != RetryPolicy.AttemptsUnbounded)
        {
            problems.Add("CompensationRetry: a compensation that gives up strands what the saga holds, so AttemptsMax must be AttemptsUnbounded.");
        }

        CompensationRetry.Validate("CompensationRetry", problems);
        CheckDelay(problems, "CompensationAttemptTimeoutMs", CompensationAttemptTimeoutMs);
        return problems;
    }

    public SagaDefinition<TData, TCommand> Validated()
    {
        IReadOnlyList<string> problems = Problems();
        return problems.Count == 0 ? this : throw new ArgumentException($"Invalid saga definition '{Name}': " + string.Join(" ", problems));
    }

    /// <summary>
    /// <c>{sagaId}:{step}:{do|undo}</c>. The retry attempt is deliberately not part of the key: a
    /// retry after a lost reply must be recognised by the service as the same request, or a
    /// timeout followed by a retry would reserve the stock twice. The attempt travels beside it.
    /// </summary>
    public static string IdempotencyKey(string sagaId, string step, SagaPhase phase) =>
        sagaId + ":" + step + ":" + (phase == SagaPhase.Action ? "do" : "undo");

    static void CheckDelay(List<string> problems, string owner, long delayMs)
    {
        if (delayMs is < 1 or > SagaLimits.DelayMsMax)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{owner}: {delayMs} is outside [1, {SagaLimits.DelayMsMax}]."));
        }
    }
}

public static class SagaLimits
{
    public const int StepsMax = 32;
    public const int SagaIdLengthMax = 100;

    /// <summary>Thirty days: longer than any step should wait, short enough that adding it to a time cannot overflow.</summary>
    public const long DelayMsMax = 30L * 24 * 3600 * 1000;
}
