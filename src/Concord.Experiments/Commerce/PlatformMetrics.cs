namespace Concord.Experiments.Commerce;

/// <summary>The services whose write latency the lab reports.</summary>
public enum Service
{
    Orders,
    Payments,
    Inventory,
    Catalog,
}

/// <summary>
/// What one run (one variant, one seed) measured. Counts are exact: each comes from the recorded
/// history and final replica states, by the rule its doc comment states, not from sampling.
/// </summary>
public sealed record PlatformMetrics
{
    /// <summary>Σ over SKUs of max(0, acknowledged sales − initial stock).</summary>
    public int Oversells { get; init; }

    /// <summary>Acknowledged payments whose credit is missing from the final ledger state.</summary>
    public int LostAcknowledgedPayments { get; init; }

    /// <summary>Reads that returned a value older than a write that had completed before the read began.</summary>
    public int StaleReads { get; init; }

    /// <summary>Reads checked for staleness (catalog and order reads).</summary>
    public int Reads { get; init; }

    /// <summary>A customer's read of its own orders that missed a write it had been told succeeded.</summary>
    public int ReadYourWritesMisses { get; init; }

    /// <summary>Events for committed work that never reached their consumer.</summary>
    public int LostEvents { get; init; }

    /// <summary>Events delivered for work that never committed.</summary>
    public int GhostEvents { get; init; }

    /// <summary>Effects applied more than once (a consumer ran a command twice).</summary>
    public int DuplicateEffects { get; init; }

    /// <summary>Acknowledged like increments missing from the converged counter (the reservation cache shows up as <see cref="ReconciliationAttempts"/>).</summary>
    public int LostIncrements { get; init; }

    /// <summary>Keys of a derived cache that disagreed with the source of truth and were corrected.</summary>
    public int ReconciliationAttempts { get; init; }

    public int SagasConfirmed { get; init; }

    public int SagasCompensated { get; init; }

    /// <summary>Sagas neither confirmed nor compensated when the run ended.</summary>
    public int SagasUnfinished { get; init; }

    /// <summary>Operations issued and operations that failed or timed out (unavailability).</summary>
    public int Operations { get; init; }

    public int FailedOperations { get; init; }

    /// <summary>Simulated latency of each acknowledged write, in ms, per service.</summary>
    public IReadOnlyDictionary<Service, IReadOnlyList<double>> WriteLatenciesMs { get; init; } = new Dictionary<Service, IReadOnlyList<double>>();

    /// <summary>For each stale read: how long the newest write it missed had been acknowledged when the read began, in ms.</summary>
    public IReadOnlyList<double> ReplicationLagMs { get; init; } = [];

    /// <summary>Success and failure per 100 ms bucket, and the faults, for the failover timeline.</summary>
    public IReadOnlyList<TimelineBucket> Timeline { get; init; } = [];

    /// <summary>The longest stretch of the workload's duration in which no operation was acknowledged, in simulated ms.</summary>
    public double UnavailabilityMs { get; init; }
}

/// <summary>Operations that completed in [StartMs, StartMs + width): acknowledged, failed or timed out, and stale reads.</summary>
public sealed record TimelineBucket(double StartMs, int Acknowledged, int Failed, int StaleReads);
