using Concord.Experiments.Commerce;

namespace Concord.Experiments.Tests.Commerce;

/// <summary>
/// The lab's boundary runs, before and after: each "after" mode keeps its invariant over every seed,
/// and each "before" mode breaks it in most seeds — the negative control that shows the measurement
/// can see a violation at all.
/// </summary>
public sealed class PlatformRunTests
{
    static readonly ulong[] Seeds = [1, 2, 3, 4, 5];

    /// <summary>Two regions 40 ms apart, a partition, a leader failover and a skewed clock: the exercise, smaller.</summary>
    internal static PlatformScenario Scenario(params Boundary[] boundaries) => new()
    {
        Name = "test",
        Topology = new PlatformTopology(
            [new RegionSpecification("eu", 3, 3), new RegionSpecification("us", 3, 3)],
            [new LinkSpecification("eu", "us", 40)]),
        Workload = new PlatformWorkload { DurationMs = 2_500, HotSkus = 2, HotStock = 5, ThinkTimeMs = 10 },
        Faults =
        [
            new PlatformFault(FaultKind.Partition, 600, 700) { Region = "eu", OtherRegion = "us" },
            new PlatformFault(FaultKind.LeaderFailover, 1_500, 600),
            new PlatformFault(FaultKind.ClockSkew, 0, 2_500) { Node = "us-1", SkewMs = 60 },
        ],
        Boundaries = boundaries,
        Variants = [new PlatformVariant("before", Before), new PlatformVariant("after", After)],
        Seeds = Seeds,
    };

    static readonly ConsistencyMapping Before = new();

    static readonly ConsistencyMapping After = new()
    {
        Ledger = LedgerMode.Raft,
        Inventory = InventoryMode.RaftCas,
        Orders = OrdersMode.SessionToken,
        Catalog = CatalogMode.BoundedStaleness,
        Likes = CounterMode.Crdt,
        Workflow = WorkflowMode.Outbox,
    };

    static PlatformMetrics[] RunAll(Boundary boundary, ConsistencyMapping mapping) =>
        [.. Seeds.Select(seed => PlatformRun.ExecuteBoundary(Scenario(boundary), mapping, boundary, seed))];

    [Fact]
    public void Raft_compare_and_set_never_oversells_and_lww_read_then_write_does()
    {
        PlatformMetrics[] after = RunAll(Boundary.Inventory, After);
        Assert.All(after, m => Assert.Equal(0, m.Oversells));
        Assert.All(after, m => Assert.NotEmpty(m.WriteLatenciesMs[Service.Inventory]));

        PlatformMetrics[] before = RunAll(Boundary.Inventory, Before);
        Assert.True(before.Count(m => m.Oversells > 0) >= 3, "LWW read-then-write should oversell in most seeds: " + string.Join(", ", before.Select(m => m.Oversells)));
    }

    [Fact]
    public void Quorum_compare_and_set_oversells_too()
    {
        PlatformMetrics[] quorumCas = RunAll(Boundary.Inventory, Before with { Inventory = InventoryMode.QuorumCas });
        Assert.True(quorumCas.Sum(m => m.Oversells) > 0);
    }

    [Fact]
    public void A_raft_ledger_loses_no_acknowledged_payment_and_an_lww_ledger_does()
    {
        PlatformMetrics[] after = RunAll(Boundary.Ledger, After);
        Assert.All(after, m => Assert.Equal(0, m.LostAcknowledgedPayments));
        Assert.True(after.Sum(m => m.WriteLatenciesMs.GetValueOrDefault(Service.Payments)?.Count ?? 0) > 100,
            string.Join("; ", after.Select(m => $"ops {m.Operations} failed {m.FailedOperations} unavail {m.UnavailabilityMs}")));

        PlatformMetrics[] before = RunAll(Boundary.Ledger, Before);
        Assert.True(before.Count(m => m.LostAcknowledgedPayments > 0) >= 3, string.Join(", ", before.Select(m => m.LostAcknowledgedPayments)));
    }

    [Fact]
    public void Session_tokens_give_read_your_writes_and_any_replica_reads_miss()
    {
        PlatformMetrics[] after = RunAll(Boundary.Orders, After);
        Assert.All(after, m => Assert.Equal(0, m.ReadYourWritesMisses));
        Assert.True(after.Sum(m => m.Reads) > 100, string.Join("; ", after.Select(m => $"ops {m.Operations} failed {m.FailedOperations} reads {m.Reads}")));

        PlatformMetrics[] before = RunAll(Boundary.Orders, Before);
        Assert.True(before.Sum(m => m.ReadYourWritesMisses) > 0, "any-replica reads should miss the customer's own order in some seed");
    }

    [Fact]
    public void Crdt_counters_lose_no_increment_and_lww_counters_do()
    {
        PlatformMetrics[] after = RunAll(Boundary.Likes, After);
        Assert.All(after, m => Assert.Equal(0, m.LostIncrements));

        PlatformMetrics[] before = RunAll(Boundary.Likes, Before);
        Assert.True(before.Count(m => m.LostIncrements > 0) >= 3, string.Join(", ", before.Select(m => m.LostIncrements)));
        Assert.True(before.Sum(m => m.ReconciliationAttempts) > after.Sum(m => m.ReconciliationAttempts));
    }

    [Fact]
    public void Catalog_reads_are_checked_for_staleness()
    {
        PlatformMetrics eventual = PlatformRun.ExecuteBoundary(Scenario(Boundary.Catalog), Before, Boundary.Catalog, 1);
        Assert.True(eventual.Reads > 100);
        Assert.Equal(eventual.StaleReads, eventual.ReplicationLagMs.Count);
        Assert.All(eventual.ReplicationLagMs, lag => Assert.True(lag > 0));
        Assert.NotEmpty(eventual.WriteLatenciesMs[Service.Catalog]);
    }

    [Fact]
    public void One_seed_replays_exactly()
    {
        PlatformScenario scenario = Scenario(Boundary.Inventory, Boundary.Orders, Boundary.Likes);
        PlatformMetrics a = PlatformRun.Execute(scenario, Before, 7);
        PlatformMetrics b = PlatformRun.Execute(scenario, Before, 7);
        Assert.Equal(a.Operations, b.Operations);
        Assert.Equal(a.Oversells, b.Oversells);
        Assert.Equal(a.LostIncrements, b.LostIncrements);
        Assert.Equal(a.ReadYourWritesMisses, b.ReadYourWritesMisses);
        Assert.Equal(a.ReplicationLagMs, b.ReplicationLagMs);
        Assert.Equal(a.Timeline, b.Timeline);
    }
}
