using Concord.Lab.Results;

namespace Concord.Lab.Report;

/// <summary>
/// The deck's one rule for fractional numbers: every double in the report is rounded to four
/// significant digits, but never below whole units (1234.56 → 1235, 12.3456 → 12.35, 0.012345 →
/// 0.01235), <em>before</em> results.json is written. results.json, the CSV files and the HTML then
/// all print that rounded value in the same shortest round-trip form, so they agree digit for digit.
/// </summary>
internal static class ReportRounding
{
    const int SignificantDigits = 4;

    /// <summary>Rounds <paramref name="value"/> by the rule above; <paramref name="where"/> names it in the error for NaN or ∞.</summary>
    public static double Round(double value, string where)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentException($"The lab report's {where} is {value}; results.json holds finite numbers only.", nameof(value));
        }
        if (value == 0)
        {
            return 0; // also turns −0 into 0, which would otherwise print as "-0"
        }
        int magnitude = (int)Math.Floor(Math.Log10(Math.Abs(value)));
        int decimals = Math.Clamp(SignificantDigits - 1 - magnitude, 0, 15);
        double rounded = Math.Round(value, decimals, MidpointRounding.AwayFromZero);
        return rounded == 0 ? 0 : rounded;
    }

    public static LabReport Round(LabReport report) => report with
    {
        Variants = [.. report.Variants.Select((v, i) => Round(v, $"variants[{i}]"))],
        PerSeed = [.. report.PerSeed.Select((row, i) => row with { Metrics = Round(row.Metrics, $"per_seed[{i}].metrics") })],
        Sweep = [.. report.Sweep.Select((p, i) => p with
        {
            StaleReadRate = Round(p.StaleReadRate, $"sweep[{i}].stale_read_rate"),
            ReadP95Ms = Round(p.ReadP95Ms, $"sweep[{i}].read_p95_ms"),
            WriteP95Ms = Round(p.WriteP95Ms, $"sweep[{i}].write_p95_ms"),
            AvailableFraction = Round(p.AvailableFraction, $"sweep[{i}].available_fraction"),
        })],
        Timelines = [.. report.Timelines.Select((t, i) => t with
        {
            Buckets = [.. t.Buckets.Select((b, j) => b with { StartMs = Round(b.StartMs, $"timelines[{i}].buckets[{j}].start_ms") })],
            Faults = [.. t.Faults.Select((f, j) => f with
            {
                StartMs = Round(f.StartMs, $"timelines[{i}].faults[{j}].start_ms"),
                EndMs = Round(f.EndMs, $"timelines[{i}].faults[{j}].end_ms"),
            })],
        })],
        Slos = [.. report.Slos.Select((s, i) => s with
        {
            Threshold = Round(s.Threshold, $"slos[{i}].threshold"),
            Value = s.Value is double value ? Round(value, $"slos[{i}].value") : null,
        })],
        ElapsedSeconds = Round(report.ElapsedSeconds, "elapsed_seconds"),
    };

    static VariantTotals Round(VariantTotals t, string where) => t with
    {
        StaleReadRate = Round(t.StaleReadRate, $"{where}.stale_read_rate"),
        P95WriteLatencyMs = t.P95WriteLatencyMs.ToDictionary(
            kv => kv.Key, kv => Round(kv.Value, $"{where}.p95_write_latency_ms.{kv.Key}"), StringComparer.Ordinal),
        ReplicationLagP95Ms = Round(t.ReplicationLagP95Ms, $"{where}.replication_lag_p95_ms"),
        UnavailabilityMaxMs = Round(t.UnavailabilityMaxMs, $"{where}.unavailability_max_ms"),
    };
}
