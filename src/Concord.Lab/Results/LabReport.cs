using Concord.Experiments.Commerce;

namespace Concord.Lab.Results;

/// <summary>
/// Everything one <c>concord lab</c> run found, in the shape of <c>results.json</c>. The deck, the
/// CSV files and the console summary are all rendered from this one value, so a number in the deck
/// is the number in results.json by construction (and a test checks it).
/// </summary>
public sealed record LabReport
{
    public required string Scenario { get; init; }

    public string Description { get; init; } = "";

    /// <summary>The command that reproduces this report exactly.</summary>
    public required string Command { get; init; }

    public required IReadOnlyList<ulong> Seeds { get; init; }

    /// <summary>Variant name (e.g. <c>before</c>, <c>after</c>) → totals over all seeds, in scenario order.</summary>
    public required IReadOnlyList<VariantTotals> Variants { get; init; }

    /// <summary>One row per (variant, seed).</summary>
    public required IReadOnlyList<SeedRow> PerSeed { get; init; }

    /// <summary>The quorum sweep's points, when the scenario has a sweep.</summary>
    public IReadOnlyList<SweepPoint> Sweep { get; init; } = [];

    /// <summary>Per variant, the first seed's timeline (acknowledged / failed / stale per 100 ms) and the faults on it.</summary>
    public IReadOnlyList<VariantTimeline> Timelines { get; init; } = [];

    public IReadOnlyList<SloVerdict> Slos { get; init; } = [];

    /// <summary>Each variant's consistency mapping, per boundary, as the deck's consistency map shows it.</summary>
    public IReadOnlyList<MappingRow> ConsistencyMap { get; init; } = [];

    /// <summary>Per boundary: what changes from the first variant to the last, and how to roll it back.</summary>
    public IReadOnlyList<RollbackStep> RollbackPlan { get; init; } = [];

    /// <summary>The platform's invariants and what enforces each (schema constraint and checker).</summary>
    public IReadOnlyList<InvariantRow> Invariants { get; init; } = [];

    /// <summary>Wall time of the whole run, in seconds (not a result: it varies by machine).</summary>
    public double ElapsedSeconds { get; init; }
}

/// <summary>A variant's totals over all seeds; latencies are percentiles of all seeds' samples pooled.</summary>
public sealed record VariantTotals
{
    public required string Variant { get; init; }

    public string Description { get; init; } = "";

    public int Oversells { get; init; }

    public int LostAcknowledgedPayments { get; init; }

    public int StaleReads { get; init; }

    public int Reads { get; init; }

    /// <summary>StaleReads / Reads (0 when there were no reads).</summary>
    public double StaleReadRate { get; init; }

    public int ReadYourWritesMisses { get; init; }

    public int LostEvents { get; init; }

    public int GhostEvents { get; init; }

    public int DuplicateEffects { get; init; }

    public int LostIncrements { get; init; }

    public int ReconciliationAttempts { get; init; }

    public int SagasConfirmed { get; init; }

    public int SagasCompensated { get; init; }

    public int SagasUnfinished { get; init; }

    public int Operations { get; init; }

    public int FailedOperations { get; init; }

    /// <summary>Service (lower case: orders, payments, inventory, catalog) → p95 write latency in ms; absent when the service had no writes.</summary>
    public required IReadOnlyDictionary<string, double> P95WriteLatencyMs { get; init; }

    /// <summary>p95 of how far behind the latest write a checked read was, in ms.</summary>
    public double ReplicationLagP95Ms { get; init; }

    /// <summary>The longest unavailability window over all seeds, in ms.</summary>
    public double UnavailabilityMaxMs { get; init; }
}

/// <summary>One (variant, seed) run: its own metrics, for the CSV and the reproduction section.</summary>
public sealed record SeedRow(string Variant, ulong Seed, VariantTotals Metrics);

/// <summary>One (N, R, W) point of the quorum sweep.</summary>
public sealed record SweepPoint(int N, int R, int W, double StaleReadRate, double ReadP95Ms, double WriteP95Ms, double AvailableFraction);

public sealed record VariantTimeline(string Variant, ulong Seed, IReadOnlyList<TimelineBucket> Buckets, IReadOnlyList<TimelineMarker> Faults);

/// <summary>A fault on the timeline: label and the simulated interval it covered.</summary>
public sealed record TimelineMarker(string Label, double StartMs, double EndMs);

/// <summary><see cref="Value"/> is null when the variant measured nothing for the metric; such an SLO fails.</summary>
public sealed record SloVerdict(string Metric, string Variant, SloComparison Comparison, double Threshold, double? Value, bool Passed);

public sealed record MappingRow(string Boundary, IReadOnlyDictionary<string, string> ModeByVariant, string Promise);

public sealed record RollbackStep(string Boundary, string Change, string Rollback, string WatchMetric);

public sealed record InvariantRow(string Invariant, string Schema, string Checker);
