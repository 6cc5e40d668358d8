using Concord.Experiments.Commerce;
using Concord.Lab.Results;

namespace Concord.Lab.Tests.Report;

/// <summary>
/// A small hand-made report with every part of the deck: two variants over two seeds, a sweep,
/// timelines with faults, SLOs that pass, fail and are unmeasured, and strings that need escaping
/// (markup, quotes, commas, line breaks). Doubles carry more digits than the deck prints, so the
/// rounding rule is exercised.
/// </summary>
internal static class SampleReport
{
    /// <summary>The second variant's name has digits, so the deck must tag variant names wherever it prints them.</summary>
    public const string AfterName = "after-v2";

    public const string HostileText = "<script>alert(\"x\")</script> & 'quotes', commas\nand a line break";

    public static LabReport Create() => new()
    {
        Scenario = "tiny-exercise",
        Description = "Two regions, one hot SKU; " + HostileText,
        Command = "concord lab tiny-exercise --seeds 2 --out \"my deck\"",
        Seeds = [1, 18_446_744_073_709_551_615],
        Variants = [Before(), After()],
        PerSeed =
        [
            new("before", 1, Before() with { Oversells = 4, StaleReads = 20, Reads = 150, StaleReadRate = 20 / 150.0 }),
            new("before", 18_446_744_073_709_551_615, Before() with { Oversells = 3, StaleReads = 17, Reads = 150, StaleReadRate = 17 / 150.0 }),
            new(AfterName, 1, After() with { Reads = 150 }),
            new(AfterName, 18_446_744_073_709_551_615, After() with { Reads = 150, ReconciliationAttempts = 1 }),
        ],
        Sweep =
        [
            new(3, 1, 1, 0.2123456, 4.111111, 4.2, 1),
            new(3, 1, 3, 0.0, 4.5, 12.75, 0.9981234),
            new(3, 2, 2, 0.0, 9.25, 9.1, 0.99),
            new(3, 3, 1, 0.0, 13.5, 4.3, 0.97),
            new(5, 1, 1, 0.31, 4.8, 4.9, 1),
            new(5, 3, 3, 0.0, 15.123456, 15.2, 0.995),
        ],
        Timelines =
        [
            new("before", 1, Buckets(failedFrom: 3, staleFrom: 6), [new("partition eu|us", 300, 700), new("leader crash <&> \"ha\"", 500.04, 800)]),
            new(AfterName, 1, Buckets(failedFrom: 3, staleFrom: 99), [new("partition eu|us", 300, 700)]),
        ],
        Slos =
        [
            new("oversells", "before", SloComparison.AtMost, 0, 7, false),
            new("oversells", AfterName, SloComparison.AtMost, 0, 0, true),
            new("p95_write_ms.payments", AfterName, SloComparison.AtMost, 150, 48.123456, true),
            new("p95_write_ms.catalog", AfterName, SloComparison.AtMost, 150, null, false),
        ],
        ConsistencyMap =
        [
            new("ledger", new Dictionary<string, string> { ["before"] = "lww", [AfterName] = "raft" }, "linearizable, no lost acknowledged write"),
            new("inventory", new Dictionary<string, string> { ["before"] = "lww-r1-w1", [AfterName] = "conditional" }, "never oversold"),
            new("orders", new Dictionary<string, string> { [AfterName] = "read-your-writes" }, "read-your-writes, monotonic reads"),
        ],
        RollbackPlan =
        [
            new("inventory", "quorum CAS → Raft CAS", "switch the mapping back to lww; no data migration", "p95_write_ms.inventory"),
            new("orders", "session tokens", "stop sending tokens, \"reads go to followers\"", "read_your_writes_misses"),
        ],
        Invariants =
        [
            new("stock never negative", "CHECK (available >= 0)", "OversellChecker"),
            new("one payment per order", "UNIQUE (order_id)", "LedgerChecker, " + HostileText),
        ],
        ElapsedSeconds = 1.23456789,
    };

    static VariantTotals Before() => new()
    {
        Variant = "before",
        Description = "LWW, R = W = 1, dual write",
        Oversells = 7,
        LostAcknowledgedPayments = 2,
        StaleReads = 37,
        Reads = 300,
        StaleReadRate = 37 / 300.0,
        ReadYourWritesMisses = 5,
        LostEvents = 3,
        GhostEvents = 1,
        DuplicateEffects = 2,
        LostIncrements = 11,
        ReconciliationAttempts = 0,
        SagasConfirmed = 40,
        SagasCompensated = 6,
        SagasUnfinished = 1,
        Operations = 1_200,
        FailedOperations = 9,
        P95WriteLatencyMs = new Dictionary<string, double> { ["orders"] = 12.3456, ["payments"] = 8.75, ["inventory"] = 3.14159 },
        ReplicationLagP95Ms = 1234.5678,
        UnavailabilityMaxMs = 400,
    };

    static VariantTotals After() => new()
    {
        Variant = AfterName,
        Description = "Raft ledger, conditional inventory, read-your-writes tokens, outbox + saga",
        Oversells = 0,
        LostAcknowledgedPayments = 0,
        StaleReads = 2,
        Reads = 300,
        StaleReadRate = 2 / 300.0,
        ReadYourWritesMisses = 0,
        LostEvents = 0,
        GhostEvents = 0,
        DuplicateEffects = 0,
        LostIncrements = 0,
        ReconciliationAttempts = 3,
        SagasConfirmed = 44,
        SagasCompensated = 3,
        SagasUnfinished = 0,
        Operations = 1_200,
        FailedOperations = 31,
        P95WriteLatencyMs = new Dictionary<string, double> { ["orders"] = 15.5, ["payments"] = 48.123456, ["inventory"] = 21.0, ["catalog"] = 2.5 },
        ReplicationLagP95Ms = 85.25,
        UnavailabilityMaxMs = 612.5,
    };

    /// <summary>Ten 100 ms buckets; operations fail from bucket <paramref name="failedFrom"/> to six, reads are stale from <paramref name="staleFrom"/>.</summary>
    static List<TimelineBucket> Buckets(int failedFrom, int staleFrom) =>
        [.. Enumerable.Range(0, 10).Select(b => new TimelineBucket(
            b * 100.0,
            Acknowledged: b is >= 3 and <= 6 ? 2 : 20 + b,
            Failed: b >= failedFrom && b <= 6 ? 8 : 0,
            StaleReads: b >= staleFrom ? 5 : 0))];
}
