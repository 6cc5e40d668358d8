using System.Collections.Frozen;
using Concord.Experiments.Commerce;

namespace Concord.Lab.Results;

/// <summary>
/// The metric names a scenario's SLOs may use (snake case, as in results.json), and how each is read
/// off a variant's totals. One table, so the scenario validator, the SLO verdicts and the docs agree.
/// </summary>
public static class Metrics
{
    static readonly FrozenDictionary<string, Func<VariantTotals, double?>> ByName = new Dictionary<string, Func<VariantTotals, double?>>(StringComparer.Ordinal)
    {
        ["oversells"] = t => t.Oversells,
        ["lost_acknowledged_payments"] = t => t.LostAcknowledgedPayments,
        ["stale_reads"] = t => t.StaleReads,
        ["stale_read_rate"] = t => t.StaleReadRate,
        ["read_your_writes_misses"] = t => t.ReadYourWritesMisses,
        ["lost_events"] = t => t.LostEvents,
        ["ghost_events"] = t => t.GhostEvents,
        ["duplicate_effects"] = t => t.DuplicateEffects,
        ["lost_increments"] = t => t.LostIncrements,
        ["reconciliation_attempts"] = t => t.ReconciliationAttempts,
        ["sagas_unfinished"] = t => t.SagasUnfinished,
        ["failed_operations"] = t => t.FailedOperations,
        ["replication_lag_p95_ms"] = t => t.ReplicationLagP95Ms,
        ["unavailability_max_ms"] = t => t.UnavailabilityMaxMs,
        ["p95_write_ms.orders"] = t => P95(t, "orders"),
        ["p95_write_ms.payments"] = t => P95(t, "payments"),
        ["p95_write_ms.inventory"] = t => P95(t, "inventory"),
        ["p95_write_ms.catalog"] = t => P95(t, "catalog"),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>Every valid metric name, sorted.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. ByName.Keys.Order(StringComparer.Ordinal)];

    public static bool IsKnown(string name) => ByName.ContainsKey(name);

    /// <summary>
    /// Whether a scenario running <paramref name="boundaries"/> measures the metric at all: a count
    /// of zero from a boundary that never ran is no evidence, so an SLO on it must not pass.
    /// </summary>
    public static bool IsMeasuredBy(string name, IReadOnlyCollection<Boundary> boundaries)
    {
        ArgumentNullException.ThrowIfNull(boundaries);
        Boundary[] sources = name switch
        {
            "oversells" or "p95_write_ms.inventory" => [Boundary.Inventory],
            "lost_acknowledged_payments" or "p95_write_ms.payments" => [Boundary.Ledger],
            "read_your_writes_misses" => [Boundary.Orders],
            "p95_write_ms.orders" => [Boundary.Orders, Boundary.Workflow],
            "stale_reads" or "stale_read_rate" or "replication_lag_p95_ms" => [Boundary.Orders, Boundary.Catalog],
            "p95_write_ms.catalog" => [Boundary.Catalog],
            "lost_increments" or "reconciliation_attempts" => [Boundary.Likes],
            "lost_events" or "ghost_events" or "duplicate_effects" or "sagas_unfinished" => [Boundary.Workflow],
            _ => [.. Enum.GetValues<Boundary>()],
        };
        return sources.Any(boundaries.Contains);
    }

    /// <summary>The metric's value for a variant; null when the variant measured nothing for it (e.g. no catalog writes).</summary>
    public static double? ValueOf(VariantTotals totals, string name)
    {
        ArgumentNullException.ThrowIfNull(totals);
        return ByName.TryGetValue(name, out var read) ? read(totals) : throw new ArgumentException($"Unknown metric '{name}'.", nameof(name));
    }

    static double? P95(VariantTotals t, string service) => t.P95WriteLatencyMs.TryGetValue(service, out double v) ? v : null;
}
