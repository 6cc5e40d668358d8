namespace Concord.Checkers.Linearizability;

/// <summary>
/// How much a check may spend before it gives up with <see cref="LinearizabilityVerdict.Unknown"/>.
/// Linearizability checking is NP-complete; a budget turns a hang into an honest "don't know".
/// Time is an input: pass the host's <see cref="System.TimeProvider"/> (tests pass a fake one).
/// </summary>
public sealed record CheckBudget
{
    /// <summary>About 1 GiB of search cache.</summary>
    public const long DefaultMaxCacheBytes = 1L << 30;

    /// <summary>No time or step limit; only the default cache memory limit.</summary>
    public static CheckBudget Unlimited { get; } = new();

    /// <summary>Wall-clock limit for the whole check (all partitions); needs <see cref="TimeProvider"/>.</summary>
    public TimeSpan? Time { get; init; }

    public TimeProvider? TimeProvider { get; init; }

    /// <summary>Limit on model steps over the whole check: a deterministic budget, the same on every machine.</summary>
    public long? MaxSteps { get; init; }

    /// <summary>
    /// Limit on the estimated size of one partition's cache of visited (linearized set, state)
    /// pairs: the bitsets and bookkeeping, not what the states reference. A partition that hits
    /// it ends Unknown; the other partitions are still checked, since any of them may still
    /// prove a violation.
    /// </summary>
    public long MaxCacheBytes { get; init; } = DefaultMaxCacheBytes;

    public static CheckBudget Within(TimeSpan time, TimeProvider timeProvider) => new() { Time = time, TimeProvider = timeProvider };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (Time is { } time && time < TimeSpan.Zero)
        {
            throw new ArgumentException($"CheckBudget.Time must not be negative (was {time}).");
        }

        if (Time is not null && TimeProvider is null)
        {
            throw new ArgumentException("CheckBudget.Time needs a TimeProvider (TimeProvider.System in a host, a fake one in tests).");
        }

        if (MaxSteps is < 0)
        {
            throw new ArgumentException($"CheckBudget.MaxSteps must not be negative (was {MaxSteps}).");
        }

        if (MaxCacheBytes <= 0)
        {
            throw new ArgumentException($"CheckBudget.MaxCacheBytes must be positive (was {MaxCacheBytes}).");
        }
    }
}

/// <summary>
/// Spends a <see cref="CheckBudget"/>. The search calls <see cref="Continue"/> only every
/// <see cref="CheckIntervalSteps"/> steps so the clock stays out of the hot loop; exhaustion is sticky.
/// </summary>
internal sealed class BudgetMeter
{
    public const long CheckIntervalSteps = 1024;

    private readonly CheckBudget budget;
    private readonly long startTimestamp;

    public BudgetMeter(CheckBudget budget)
    {
        budget.Validate();
        this.budget = budget;
        startTimestamp = budget.TimeProvider?.GetTimestamp() ?? 0;
    }

    public long MaxCacheBytes => budget.MaxCacheBytes;

    /// <summary>Steps spent by finished partitions.</summary>
    public long StepsSpent { get; private set; }

    /// <summary>Why the budget ran out, or null while it lasts.</summary>
    public string? ExhaustedReason { get; private set; }

    /// <summary>The step count at which the search must next call <see cref="Continue"/>.</summary>
    public long NextCheckpoint(long partitionSteps)
    {
        var checkpoint = partitionSteps + CheckIntervalSteps;
        return budget.MaxSteps is { } max ? Math.Min(checkpoint, Math.Max(partitionSteps, max - StepsSpent)) : checkpoint;
    }

    public bool Continue(long partitionSteps)
    {
        if (ExhaustedReason is not null)
        {
            return false;
        }

        if (budget.MaxSteps is { } max && StepsSpent + partitionSteps >= max)
        {
            ExhaustedReason = $"step budget of {max} exhausted";
            return false;
        }

        if (budget.Time is { } time && budget.TimeProvider!.GetElapsedTime(startTimestamp) >= time)
        {
            ExhaustedReason = $"time budget of {time} exhausted";
            return false;
        }

        return true;
    }

    public void Record(long partitionSteps) => StepsSpent += partitionSteps;
}
