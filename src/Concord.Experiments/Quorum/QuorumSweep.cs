using System.Globalization;
using Concord.Checkers.Histories;
using Concord.Checkers.Linearizability;
using Concord.Checkers.Staleness;
using Concord.Replication.Quorum;
using Concord.Simulation.History;

namespace Concord.Experiments.Quorum;

/// <summary>
/// The sweep behind <c>concord sim sweep quorum</c>: every (R, W) in 1..N for each N, with and
/// without a region partition, one simulated run per point. Every point uses the same seed (common
/// random numbers), so differences between rows come from R and W, not from luck.
/// </summary>
public sealed record QuorumSweepOptions
{
    public IReadOnlyList<int> ReplicationFactors { get; init; } = [3, 5];

    public int OperationsPerPoint { get; init; } = 2_000;

    public ulong Seed { get; init; } = 1;

    /// <summary>Run each (N, R, W) with and without the region partition; false for no partition only.</summary>
    public bool IncludePartition { get; init; } = true;

    public int KeyCount { get; init; } = 50;

    public double ReadFraction { get; init; } = 0.5;

    /// <summary>Compare-and-set share; CAS runs at W for both its read and its write.</summary>
    public double CasFraction { get; init; } = 0.1;

    public int ClientsPerRegion { get; init; } = 3;

    /// <summary>Deterministic budget of the linearizability check per point; beyond it the verdict is "unknown".</summary>
    public long LinearizabilityStepsMax { get; init; } = 2_000_000;

    /// <summary>Protocol settings besides R and W (LWW, read repair on, hinted handoff on, strict quorum).</summary>
    public QuorumConfig Protocol { get; init; } = new();

    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (ReplicationFactors is null || ReplicationFactors.Count == 0 || ReplicationFactors.Any(n => n is < 1 or > 6))
        {
            problems.Add("ReplicationFactors must list values within [1, 6] (the default topology has 6 servers).");
        }

        if (OperationsPerPoint is < 1 or > QuorumWorkloadOptions.OperationCountMax)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"OperationsPerPoint must be within [1, {QuorumWorkloadOptions.OperationCountMax}]; got {OperationsPerPoint}."));
        }

        if (LinearizabilityStepsMax < 0)
        {
            problems.Add("LinearizabilityStepsMax must not be negative.");
        }

        if (ClientsPerRegion is < 1 or > 1000)
        {
            problems.Add("ClientsPerRegion must be within [1, 1000].");
        }

        return problems;
    }
}

/// <summary>Latency of answered operations (timeouts excluded), simulated milliseconds, nearest-rank percentiles.</summary>
public sealed record LatencyPercentiles(int Count, double P50Ms, double P95Ms, double P99Ms)
{
    public static LatencyPercentiles Of(IReadOnlyList<long> latenciesUs)
    {
        ArgumentNullException.ThrowIfNull(latenciesUs);
        if (latenciesUs.Count == 0)
        {
            return new LatencyPercentiles(0, 0, 0, 0);
        }

        long[] sorted = [.. latenciesUs.Order()];
        double At(double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)] / 1000.0;
        return new LatencyPercentiles(sorted.Length, At(0.50), At(0.95), At(0.99));
    }
}

/// <summary>One point of the sweep. Flat and JSON-friendly: numbers, booleans and one verdict string.</summary>
public sealed record QuorumSweepRow(
    int N,
    int R,
    int W,
    bool RegionPartition,
    bool QuorumsOverlap,
    int Operations,
    LatencyPercentiles Read,
    LatencyPercentiles Write,
    LatencyPercentiles Cas,
    double UnavailablePercent,
    int Reads,
    int StaleReads,
    double StaleReadRate,
    int AcknowledgedWrites,
    int LostWrites,
    string Linearizability,
    long MessagesSent,
    ulong Seed);

public static class QuorumSweep
{
    /// <summary>Every point, in order: N, then partition off/on, then R, then W.</summary>
    public static IReadOnlyList<QuorumSweepRow> Run(QuorumSweepOptions options, Action<QuorumSweepRow>? onRow = null)
    {
        Validate(options);
        var rows = new List<QuorumSweepRow>();
        foreach (int n in options.ReplicationFactors)
        {
            foreach (bool partition in options.IncludePartition ? new[] { false, true } : [false])
            {
                for (int r = 1; r <= n; r++)
                {
                    for (int w = 1; w <= n; w++)
                    {
                        QuorumSweepRow row = RunPoint(options, n, r, w, partition);
                        onRow?.Invoke(row);
                        rows.Add(row);
                    }
                }
            }
        }

        return rows;
    }

    /// <summary>One point; what <c>concord bench</c> times.</summary>
    public static QuorumSweepRow RunPoint(QuorumSweepOptions options, int n, int r, int w, bool regionPartition)
    {
        Validate(options);
        if (r < 1 || r > n || w < 1 || w > n)
        {
            throw new ArgumentOutOfRangeException(nameof(r), string.Create(CultureInfo.InvariantCulture, $"R and W must be within [1, N={n}]; got R={r}, W={w}."));
        }

        QuorumRunResult run = QuorumRun.Execute(RunOptions(options, n, r, w, regionPartition));
        return Summarize(run, n, r, w, regionPartition, options.LinearizabilityStepsMax);
    }

    /// <summary>Runs one point and measures it with <paramref name="wallClock"/> (TimeProvider.System in a host).</summary>
    public static (QuorumSweepRow Row, TimeSpan Elapsed) TimePoint(QuorumSweepOptions options, int n, int r, int w, bool regionPartition, TimeProvider wallClock)
    {
        ArgumentNullException.ThrowIfNull(wallClock);
        long start = wallClock.GetTimestamp();
        QuorumSweepRow row = RunPoint(options, n, r, w, regionPartition);
        return (row, wallClock.GetElapsedTime(start));
    }

    /// <summary>The run options of one point, for callers that want the raw history.</summary>
    public static QuorumRunOptions RunOptions(QuorumSweepOptions options, int n, int r, int w, bool regionPartition)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new QuorumRunOptions
        {
            Seed = options.Seed,
            ReplicationFactor = n,
            ClientsPerRegion = options.ClientsPerRegion,
            Protocol = options.Protocol,
            RegionPartition = regionPartition,
            Workload = new QuorumWorkloadOptions
            {
                OperationCount = options.OperationsPerPoint,
                KeyCount = options.KeyCount,
                ReadFraction = options.ReadFraction,
                CasFraction = options.CasFraction,
                ReadConsistency = Consistency.Of(r),
                WriteConsistency = Consistency.Of(w),
            },
        };
    }

    public static QuorumSweepRow Summarize(QuorumRunResult run, int n, int r, int w, bool regionPartition, long linearizabilityStepsMax)
    {
        ArgumentNullException.ThrowIfNull(run);
        var latencies = new Dictionary<OperationKind, List<long>>
        {
            [OperationKind.Read] = [],
            [OperationKind.Write] = [],
            [OperationKind.CompareAndSet] = [],
        };
        int unavailable = 0;
        foreach (HistoryEntry<QuorumOperation, QuorumOperationResult> entry in run.Entries)
        {
            bool answered = entry.Completion == CompletionType.Ok
                || (entry.Completion == CompletionType.Fail && entry.Result?.Status == ReplyStatus.CompareFailed);
            if (answered && latencies.TryGetValue(entry.Operation.Kind, out List<long>? list))
            {
                list.Add(entry.CompleteUs!.Value - entry.InvokeUs);
            }
            else if (!answered)
            {
                unavailable++; // timed out (client or coordinator), refused, or still pending at the end
            }
        }

        StaleReadReport stale = StaleReadChecker.Check(run.History);
        LostWriteReport lost = LostWriteChecker.Check(run.History, run.FinalValues);
        LinearizabilityResult linearizability = LinearizabilityChecker.Check(
            run.History, Models.CasRegister, new CheckBudget { MaxSteps = linearizabilityStepsMax });
        int operations = run.Entries.Count;
        return new QuorumSweepRow(
            n,
            r,
            w,
            regionPartition,
            r + w > n,
            operations,
            LatencyPercentiles.Of(latencies[OperationKind.Read]),
            LatencyPercentiles.Of(latencies[OperationKind.Write]),
            LatencyPercentiles.Of(latencies[OperationKind.CompareAndSet]),
            operations == 0 ? 0 : Math.Round(100.0 * unavailable / operations, 3),
            stale.ReadCount,
            stale.StaleCount,
            Math.Round(stale.StaleRate, 5),
            lost.AcknowledgedWriteCount,
            lost.LostCount,
            VerdictName(linearizability.Verdict),
            run.SimulationStats.MessagesSent,
            run.Seed);
    }

    public static string VerdictName(LinearizabilityVerdict verdict) => verdict switch
    {
        LinearizabilityVerdict.Linearizable => "linearizable",
        LinearizabilityVerdict.NotLinearizable => "not-linearizable",
        _ => "unknown",
    };

    private static void Validate(QuorumSweepOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Problems().Concat(options.Protocol.Problems()).ToList();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid quorum sweep options: " + string.Join(" ", problems), nameof(options));
        }
    }
}
