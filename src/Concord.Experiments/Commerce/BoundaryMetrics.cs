using Concord.Checkers.Histories;
using Concord.Checkers.Staleness;
using Concord.Simulation.History;

namespace Concord.Experiments.Commerce;

/// <summary>
/// Turns one boundary run's recorded operations and final states into <see cref="PlatformMetrics"/>.
/// Every count follows from the history and the converged final values by the rule on its
/// <see cref="PlatformMetrics"/> property; reads are judged by Concord.Checkers' stale-read checker.
/// </summary>
internal static class BoundaryMetrics
{
    const double BucketMs = 100;

    public static PlatformMetrics Compute(
        RunShared shared,
        IReadOnlyList<HistoryEntry<PlatformOp, PlatformOpResult>> entries,
        IReadOnlyDictionary<string, long?> finalValues,
        bool crdtCounters)
    {
        StaleReadReport staleness = StaleReadChecker.Check(ReadWriteHistory(entries));
        var staleByRead = staleness.StaleReads.ToDictionary(s => (s.Read.Process, s.Read.InvokeTime), s => s);
        var lag = new List<double>();
        var timeline = new SortedDictionary<long, (int Ok, int Failed, int Stale)>();
        foreach (var entry in entries)
        {
            long bucket = (long)((entry.CompleteUs ?? entry.InvokeUs) / 1000.0 / BucketMs);
            var cell = timeline.GetValueOrDefault(bucket);
            if (entry.Completion == CompletionType.Ok)
            {
                cell.Ok++;
            }
            else
            {
                cell.Failed++;
            }

            if (IsCheckedRead(entry))
            {
                if (staleByRead.TryGetValue((entry.Process, entry.InvokeUs), out StaleRead? s))
                {
                    lag.Add(s.StalenessMs ?? 0);
                    cell.Stale++;
                }
            }

            timeline[bucket] = cell;
        }

        return new PlatformMetrics
        {
            Oversells = Oversells(shared, entries),
            LostAcknowledgedPayments = crdtCounters ? 0 : LostUpdates(entries, PlatformOpKind.Pay, finalValues),
            LostIncrements = crdtCounters ? LostCrdtIncrements(entries, finalValues) : LostUpdates(entries, PlatformOpKind.Like, finalValues),
            ReconciliationAttempts = Reconciliations(shared, finalValues, crdtCounters),
            StaleReads = staleness.StaleCount,
            Reads = staleness.ReadCount,
            ReadYourWritesMisses = staleness.StaleReads.Count(s => s.Read.Key?.StartsWith("orders/", StringComparison.Ordinal) == true),
            Operations = entries.Count,
            FailedOperations = entries.Count(e => e.Completion != CompletionType.Ok),
            WriteLatenciesMs = WriteLatencies(entries),
            ReplicationLagMs = lag,
            Timeline = [.. timeline.Select(kv => new TimelineBucket(kv.Key * BucketMs, kv.Value.Ok, kv.Value.Failed, kv.Value.Stale))],
            UnavailabilityMs = LongestGapMs(entries, shared.Workload.DurationMs),
        };
    }

    static bool IsCheckedRead(HistoryEntry<PlatformOp, PlatformOpResult> e) =>
        e.Completion == CompletionType.Ok && e.Operation.Kind is PlatformOpKind.ReadOrders or PlatformOpKind.Browse;

    /// <summary>Orders and catalog reads and writes as a key-value history: every write there writes a unique value.</summary>
    static History ReadWriteHistory(IReadOnlyList<HistoryEntry<PlatformOp, PlatformOpResult>> entries) =>
        RecordedHistory.ToHistory(
            [.. entries.Where(e => e.Operation.Kind is PlatformOpKind.PlaceOrder or PlatformOpKind.ReadOrders or PlatformOpKind.UpdatePrice or PlatformOpKind.Browse)],
            "lab-platform",
            op => op.Kind is PlatformOpKind.PlaceOrder or PlatformOpKind.UpdatePrice
                ? new CheckedOperation("write", OperationValue.Of(op.Value), op.Key)
                : new CheckedOperation("read", OperationValue.Nil, op.Key),
            (op, result) => op.Kind is PlatformOpKind.ReadOrders or PlatformOpKind.Browse
                ? result?.Returned is { } v ? OperationValue.Of(v) : OperationValue.Nil
                : null);

    /// <summary>Σ over SKUs of max(0, acknowledged reservations − initial stock).</summary>
    static int Oversells(RunShared shared, IReadOnlyList<HistoryEntry<PlatformOp, PlatformOpResult>> entries) =>
        entries
            .Where(e => e.Operation.Kind == PlatformOpKind.Reserve && e.Completion == CompletionType.Ok && e.Result is { SoldOut: false })
            .GroupBy(e => e.Operation.Key, StringComparer.Ordinal)
            .Sum(g => (int)Math.Max(0, g.Count() - shared.InitialStock(ReserveProgram.SkuOf(g.Key))));

    /// <summary>
    /// Read-modify-writes whose effect is not in the final value. Every write records the value it
    /// was computed from, so the final value names a chain of writes back to the initial state;
    /// an acknowledged write off that chain was overwritten by a write that never saw it.
    /// </summary>
    static int LostUpdates(IReadOnlyList<HistoryEntry<PlatformOp, PlatformOpResult>> entries, PlatformOpKind kind, IReadOnlyDictionary<string, long?> finalValues)
    {
        int lost = 0;
        foreach (var key in entries.Where(e => e.Operation.Kind == kind).GroupBy(e => e.Operation.Key, StringComparer.Ordinal))
        {
            var parentOf = new Dictionary<long, long?>();
            foreach (var e in key)
            {
                if (e.Result?.Written is { } written)
                {
                    parentOf[written] = e.Result.Parent;
                }
            }

            var onChain = new HashSet<long>();
            for (long? v = finalValues.GetValueOrDefault(key.Key); v is { } value && onChain.Add(value) && parentOf.TryGetValue(value, out long? parent);)
            {
                v = parent;
            }

            lost += key.Count(e => e.Completion == CompletionType.Ok && e.Result?.Written is { } w && !onChain.Contains(w));
        }

        return lost;
    }

    /// <summary>CRDT counters: acknowledged increments beyond what the converged counter holds.</summary>
    static int LostCrdtIncrements(IReadOnlyList<HistoryEntry<PlatformOp, PlatformOpResult>> entries, IReadOnlyDictionary<string, long?> finalValues) =>
        entries.Where(e => e.Operation.Kind == PlatformOpKind.Like && e.Completion == CompletionType.Ok)
            .GroupBy(e => e.Operation.Key, StringComparer.Ordinal)
            .Sum(g => (int)Math.Max(0, g.Count() - (finalValues.GetValueOrDefault(g.Key) ?? 0)));

    /// <summary>Reservation-cache keys whose converged count differs from the source of truth: each is corrected once.</summary>
    static int Reconciliations(RunShared shared, IReadOnlyDictionary<string, long?> finalValues, bool crdt)
    {
        int attempts = 0;
        foreach ((string sku, int truth) in shared.ReservationsBySku)
        {
            long? stored = finalValues.GetValueOrDefault("rescache/" + sku);
            long cached = crdt ? stored ?? 0 : CountedValue.CountOf(stored, 0);
            attempts += cached == truth ? 0 : 1;
        }

        return attempts;
    }

    static Dictionary<Service, IReadOnlyList<double>> WriteLatencies(IReadOnlyList<HistoryEntry<PlatformOp, PlatformOpResult>> entries)
    {
        var byService = new Dictionary<Service, IReadOnlyList<double>>();
        foreach (var group in entries
            .Where(e => e.Completion == CompletionType.Ok && e.Result is not { SoldOut: true } && ServiceOf(e.Operation.Kind) is not null)
            .GroupBy(e => ServiceOf(e.Operation.Kind)!.Value))
        {
            byService[group.Key] = [.. group.Select(e => (e.CompleteUs!.Value - e.InvokeUs) / 1000.0)];
        }

        return byService;
    }

    static Service? ServiceOf(PlatformOpKind kind) => kind switch
    {
        PlatformOpKind.Reserve => Service.Inventory,
        PlatformOpKind.Pay => Service.Payments,
        PlatformOpKind.PlaceOrder => Service.Orders,
        PlatformOpKind.UpdatePrice => Service.Catalog,
        _ => null,
    };

    /// <summary>The longest stretch of the workload with no operation acknowledged, in ms.</summary>
    static double LongestGapMs(IReadOnlyList<HistoryEntry<PlatformOp, PlatformOpResult>> entries, long durationMs)
    {
        long[] acks = [.. entries.Where(e => e.Completion == CompletionType.Ok).Select(e => e.CompleteUs!.Value).Order()];
        long previous = 0;
        long longest = 0;
        foreach (long t in acks.Where(t => t <= durationMs * 1000))
        {
            longest = Math.Max(longest, t - previous);
            previous = t;
        }

        return Math.Max(longest, durationMs * 1000 - previous) / 1000.0;
    }
}
