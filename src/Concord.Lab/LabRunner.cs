using System.Globalization;
using Concord.Experiments.Commerce;
using Concord.Experiments.Quorum;
using Concord.Lab.Report;
using Concord.Lab.Results;

namespace Concord.Lab;

/// <summary>Progress of a lab run: runs finished of the total, and the one that just finished.</summary>
public readonly record struct LabProgress(int Done, int Total, string Step);

/// <summary>
/// Runs a scenario: every variant on every seed (each (variant, seed) pair an independent
/// simulation, spread over the machine's cores), the quorum sweep when the scenario has one, and
/// sums everything into a <see cref="LabReport"/>. The report is a function of the scenario and
/// seeds only (apart from <see cref="LabReport.ElapsedSeconds"/>): parallelism changes nothing.
/// </summary>
public static class LabRunner
{
    public static LabReport Run(PlatformScenario scenario, string command, TimeProvider time, IProgress<LabProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(time);
        long started = time.GetTimestamp();
        var pairs = scenario.Variants.SelectMany(v => scenario.Seeds.Select(s => (Variant: v, Seed: s))).ToArray();
        int sweepPoints = scenario.Sweep is { } sweep ? sweep.ReplicationFactors.Sum(n => n * n) : 0;
        int total = pairs.Length + sweepPoints;
        int done = 0;
        var results = new PlatformMetrics[pairs.Length];
        Parallel.For(0, pairs.Length, new ParallelOptions { CancellationToken = cancellation, MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            results[i] = PlatformRun.Execute(scenario, pairs[i].Variant.Consistency, pairs[i].Seed);
            progress?.Report(new LabProgress(Interlocked.Increment(ref done), total, $"{pairs[i].Variant.Name} seed {pairs[i].Seed}"));
        });

        IReadOnlyList<SweepPoint> sweepRows = scenario.Sweep is { } spec
            ? RunSweep(scenario, spec, p => progress?.Report(new LabProgress(Interlocked.Increment(ref done), total, p)), cancellation)
            : [];

        var variants = scenario.Variants.Select(v => Totals(v, [.. pairs.Select((p, i) => (p, i)).Where(x => x.p.Variant == v).Select(x => results[x.i])])).ToList();
        // Round once, here, by the deck's rule, so an SLO is judged on the very number the deck shows.
        var report = ReportRounding.Round(new LabReport
        {
            Scenario = scenario.Name,
            Description = scenario.Description,
            Command = command,
            Seeds = scenario.Seeds,
            Variants = variants,
            PerSeed = [.. pairs.Select((p, i) => new SeedRow(p.Variant.Name, p.Seed, Totals(p.Variant, [results[i]])))],
            Sweep = sweepRows,
            Timelines = [.. scenario.Variants.Select(v =>
            {
                int first = Array.FindIndex(pairs, p => p.Variant == v);
                return new VariantTimeline(v.Name, pairs[first].Seed, results[first].Timeline,
                    [.. PlatformSimulation.Markers(scenario).Select(m => new TimelineMarker(m.Label, m.StartMs, m.EndMs))]);
            })],
            ConsistencyMap = [.. PlatformFacts.ConsistencyMap(scenario)],
            RollbackPlan = [.. PlatformFacts.RollbackPlan(scenario)],
            Invariants = PlatformFacts.Invariants,
            ElapsedSeconds = time.GetElapsedTime(started).TotalSeconds,
        });
        return report with { Slos = [.. Verdicts(scenario, report.Variants)] };
    }

    /// <summary>Counts add up over seeds; percentiles are taken over every seed's samples pooled. Doubles stay unrounded: the deck writer rounds once.</summary>
    static VariantTotals Totals(PlatformVariant variant, IReadOnlyList<PlatformMetrics> runs)
    {
        PlatformMetrics sum = runs.Aggregate(new PlatformMetrics(), PlatformRun.Add);
        return new VariantTotals
        {
            Variant = variant.Name,
            Description = variant.Description,
            Oversells = sum.Oversells,
            LostAcknowledgedPayments = sum.LostAcknowledgedPayments,
            StaleReads = sum.StaleReads,
            Reads = sum.Reads,
            StaleReadRate = sum.Reads == 0 ? 0 : sum.StaleReads / (double)sum.Reads,
            ReadYourWritesMisses = sum.ReadYourWritesMisses,
            LostEvents = sum.LostEvents,
            GhostEvents = sum.GhostEvents,
            DuplicateEffects = sum.DuplicateEffects,
            LostIncrements = sum.LostIncrements,
            ReconciliationAttempts = sum.ReconciliationAttempts,
            SagasConfirmed = sum.SagasConfirmed,
            SagasCompensated = sum.SagasCompensated,
            SagasUnfinished = sum.SagasUnfinished,
            Operations = sum.Operations,
            FailedOperations = sum.FailedOperations,
            P95WriteLatencyMs = sum.WriteLatenciesMs
                .Where(kv => kv.Value.Count > 0)
                .OrderBy(kv => kv.Key)
                .ToDictionary(kv => kv.Key.ToString().ToLowerInvariant(), kv => P95(kv.Value), StringComparer.Ordinal),
            ReplicationLagP95Ms = P95(sum.ReplicationLagMs),
            UnavailabilityMaxMs = sum.UnavailabilityMs,
        };
    }

    /// <summary>Nearest-rank p95, by the quorum sweep's rule. Samples are whole simulated µs expressed in ms, so the conversion is exact.</summary>
    static double P95(IReadOnlyList<double> samplesMs) =>
        LatencyPercentiles.Of([.. samplesMs.Select(ms => (long)Math.Round(ms * 1000))]).P95Ms;

    static IReadOnlyList<SweepPoint> RunSweep(PlatformScenario scenario, QuorumSweepSpec spec, Action<string> onPoint, CancellationToken cancellation)
    {
        var options = new QuorumSweepOptions
        {
            ReplicationFactors = spec.ReplicationFactors,
            OperationsPerPoint = spec.OperationsPerPoint,
            Seed = scenario.Seeds[0],
            IncludePartition = false,
        };
        var points = spec.ReplicationFactors.SelectMany(n => Enumerable.Range(1, n).SelectMany(r => Enumerable.Range(1, n).Select(w => (N: n, R: r, W: w)))).ToArray();
        var rows = new SweepPoint[points.Length];
        Parallel.For(0, points.Length, new ParallelOptions { CancellationToken = cancellation, MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            (int n, int r, int w) = points[i];
            QuorumSweepRow row = QuorumSweep.RunPoint(options, n, r, w, regionPartition: false);
            rows[i] = new SweepPoint(n, r, w, row.StaleReadRate, row.Read.P95Ms, row.Write.P95Ms, 1 - (row.UnavailablePercent / 100));
            onPoint(string.Create(CultureInfo.InvariantCulture, $"sweep N={n} R={r} W={w}"));
        });
        return rows;
    }

    static IEnumerable<SloVerdict> Verdicts(PlatformScenario scenario, IReadOnlyList<VariantTotals> variants)
    {
        foreach (Slo slo in scenario.Slos)
        {
            foreach (VariantTotals totals in variants.Where(v => slo.Variant is null || slo.Variant == v.Variant))
            {
                // A metric the variant did not measure (no catalog writes, or no boundary that counts it) cannot pass.
                double? value = Metrics.IsMeasuredBy(slo.Metric, [.. scenario.Boundaries]) ? Metrics.ValueOf(totals, slo.Metric) : null;
                bool passed = value is { } v && (slo.Comparison == SloComparison.AtMost ? v <= slo.Threshold : v >= slo.Threshold);
                yield return new SloVerdict(slo.Metric, totals.Variant, slo.Comparison, slo.Threshold, value, passed);
            }
        }
    }
}
