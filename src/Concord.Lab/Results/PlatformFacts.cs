using Concord.Experiments.Commerce;

namespace Concord.Lab.Results;

/// <summary>
/// The deck's prose tables: what each boundary promises, what each mode means, how to roll each
/// change back, and the platform's invariants with what enforces them (docs/invariants.md in short).
/// Kept in code next to the modes they describe, so a new mode cannot ship without its row.
/// </summary>
public static class PlatformFacts
{
    public static IEnumerable<MappingRow> ConsistencyMap(PlatformScenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        foreach (Boundary boundary in scenario.Boundaries)
        {
            yield return new MappingRow(
                Name(boundary),
                scenario.Variants.ToDictionary(v => v.Name, v => Mode(boundary, v.Consistency), StringComparer.Ordinal),
                Promise(boundary));
        }
    }

    public static IEnumerable<RollbackStep> RollbackPlan(PlatformScenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        if (scenario.Variants.Count < 2)
        {
            yield break;
        }

        ConsistencyMapping from = scenario.Variants[0].Consistency;
        ConsistencyMapping to = scenario.Variants[^1].Consistency;
        foreach (Boundary boundary in scenario.Boundaries)
        {
            string before = Mode(boundary, from);
            string after = Mode(boundary, to);
            if (before != after)
            {
                yield return new RollbackStep(Name(boundary), $"{before} → {after}", Rollback(boundary), Watch(boundary));
            }
        }
    }

    public static IReadOnlyList<InvariantRow> Invariants { get; } =
    [
        new("Inventory is never oversold: reserved ≤ on hand, on hand ≥ 0",
            "CHECK stock_reserved_within_on_hand, CHECK stock_on_hand_non_negative; one conditional UPDATE … WHERE on_hand - reserved >= quantity",
            "oversells: acknowledged reservations per SKU vs initial stock"),
        new("No acknowledged payment is lost; every transfer balances",
            "deferred trigger transfer_balanced (debits = credits at commit); CHECK account_balance_above_floor; postings never rewritten",
            "lost_acknowledged_payments: acknowledged credits traced back from the final ledger state"),
        new("A customer sees its own orders (read-your-writes)",
            "Orders on the primary; follower reads only with a session token (LSN on PostgreSQL, log index on Raft)",
            "read_your_writes_misses: Concord.Checkers' stale-read checker on each customer's own key"),
        new("Catalog reads lag by at most the staleness bound",
            "follower reads only while replay lag ≤ bound, else the primary",
            "stale_read_rate and replication_lag_p95_ms from the stale-read checker"),
        new("Counters converge without losing increments",
            "CRDT PN-counters merged by join (Concord.Core.Crdts)",
            "lost_increments; reconciliation_attempts against the source of truth"),
        new("Every order ends Confirmed or Compensated; no event lost, none for rolled-back work, no effect twice",
            "transactional outbox (same transaction as the state), inbox keyed by message id, idempotency keys per saga step",
            "lost_events, ghost_events, duplicate_effects, sagas_unfinished"),
    ];

    static string Name(Boundary boundary) => boundary.ToString().ToLowerInvariant();

    static string Mode(Boundary boundary, ConsistencyMapping m) => boundary switch
    {
        Boundary.Ledger => m.Ledger == LedgerMode.Raft ? "Raft group, compare-and-set" : $"LWW register, R={m.R} W={m.W}",
        Boundary.Inventory => m.Inventory switch
        {
            InventoryMode.RaftCas => "Raft compare-and-set",
            InventoryMode.QuorumCas => $"quorum compare-and-set, R={m.R} W={m.W}",
            _ => $"LWW read-then-write, R={m.R} W={m.W}",
        },
        Boundary.Orders => m.Orders == OrdersMode.SessionToken ? "Raft, follower reads with session token" : $"any replica, R={m.R} W={m.W}",
        Boundary.Catalog => m.Catalog == CatalogMode.BoundedStaleness
            ? $"Raft follower reads, bound {m.StalenessBoundMs:0.#} ms"
            : $"R={m.R}, no repair",
        Boundary.Likes => m.Likes == CounterMode.Crdt ? "CRDT counters" : "LWW counters",
        _ => m.Workflow == WorkflowMode.Outbox ? "outbox + inbox + saga" : "dual write",
    };

    static string Promise(Boundary boundary) => boundary switch
    {
        Boundary.Ledger => "linearizable; no acknowledged payment lost on failover",
        Boundary.Inventory => "never negative, never oversold",
        Boundary.Orders => "read-your-writes, monotonic reads",
        Boundary.Catalog => "eventual, bounded staleness",
        Boundary.Likes => "convergent",
        _ => "business atomicity across services",
    };

    static string Rollback(Boundary boundary) => boundary switch
    {
        Boundary.Ledger => "Route payment writes back to the old store behind a flag; the Raft log stays the record to reconcile from. Never run both as writers.",
        Boundary.Inventory => "Switch reservations back to the unconditional path behind a flag; keep the CHECK constraints, which refuse an oversell either way.",
        Boundary.Orders => "Stop sending session tokens: reads fall back to any replica (stale order views return) or to the primary (higher read load).",
        Boundary.Catalog => "Turn repair off or widen the bound; nothing to migrate.",
        Boundary.Likes => "Read counters as plain registers again; the CRDT state converts by taking its value.",
        _ => "Keep writing outbox rows but publish directly again; the relay drains what is left. Consumers keep their inbox.",
    };

    static string Watch(Boundary boundary) => boundary switch
    {
        Boundary.Ledger => "p95_write_ms.payments, lost_acknowledged_payments",
        Boundary.Inventory => "oversells, p95_write_ms.inventory",
        Boundary.Orders => "read_your_writes_misses, failed_operations",
        Boundary.Catalog => "stale_read_rate, replication_lag_p95_ms",
        Boundary.Likes => "lost_increments, reconciliation_attempts",
        _ => "lost_events, ghost_events, sagas_unfinished",
    };
}
