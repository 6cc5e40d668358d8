namespace Concord.Experiments.Commerce;

/// <summary>
/// A two-region (or wider) commerce platform under faults, as a lab scenario describes it. Pure
/// data: <c>Concord.Lab</c> reads it from YAML (and names file, line and field on a mistake); the
/// runs in this folder execute it on the simulator, one boundary at a time, under the same
/// topology, fault schedule and seed.
/// </summary>
public sealed record PlatformScenario
{
    /// <summary>Lower-case words joined by '-': <c>exercise</c>, <c>failover</c>.</summary>
    public required string Name { get; init; }

    public string Description { get; init; } = "";

    public required PlatformTopology Topology { get; init; }

    public required PlatformWorkload Workload { get; init; }

    /// <summary>Scheduled faults, the same in every variant and seed (seeds vary timing jitter, choices and message fates).</summary>
    public IReadOnlyList<PlatformFault> Faults { get; init; } = [];

    /// <summary>Which boundaries this scenario runs; the others are skipped in every variant.</summary>
    public required IReadOnlyList<Boundary> Boundaries { get; init; }

    /// <summary>Usually two: <c>before</c> and <c>after</c>. Each is run for every seed.</summary>
    public required IReadOnlyList<PlatformVariant> Variants { get; init; }

    public IReadOnlyList<Slo> Slos { get; init; } = [];

    /// <summary>Root seeds; each derives every random choice of one run.</summary>
    public required IReadOnlyList<ulong> Seeds { get; init; }

    /// <summary>Present for the quorum sweep: latency vs stale-read rate for every (R, W).</summary>
    public QuorumSweepSpec? Sweep { get; init; }
}

/// <summary>What each region holds. Servers host every boundary's replicas; customers are closed-loop clients.</summary>
public sealed record RegionSpecification(string Name, int Servers, int Customers);

/// <summary>One-way latency between two regions (both directions), with jitter as a fraction and a loss rate.</summary>
public sealed record LinkSpecification(string From, string To, double LatencyMs, double JitterFraction = 0.1, double LossRate = 0);

public sealed record PlatformTopology(IReadOnlyList<RegionSpecification> Regions, IReadOnlyList<LinkSpecification> Links, double IntraRegionLatencyMs = 0.5);

/// <summary>
/// What customers do. Each customer picks, per step, an order (reserve stock, pay, record the
/// order, read it back), a browse (read a catalog price) or a like (increment a counter), in the
/// given shares, waiting up to <see cref="ThinkTimeMs"/> between steps, for <see cref="DurationMs"/>
/// of simulated time.
/// </summary>
public sealed record PlatformWorkload
{
    public int Skus { get; init; } = 20;

    /// <summary>The first <see cref="HotSkus"/> SKUs get most orders and only <see cref="HotStock"/> units each.</summary>
    public int HotSkus { get; init; } = 2;

    public int HotStock { get; init; } = 10;

    /// <summary>Units of each other SKU.</summary>
    public int Stock { get; init; } = 1_000;

    /// <summary>Share of orders that go to a hot SKU.</summary>
    public double HotOrderShare { get; init; } = 0.8;

    public double OrderShare { get; init; } = 0.3;

    public double BrowseShare { get; init; } = 0.5;

    public double LikeShare { get; init; } = 0.2;

    /// <summary>Catalog price changes per second of simulated time (an admin client in the first region).</summary>
    public double PriceUpdatesPerSecond { get; init; } = 5;

    public double ThinkTimeMs { get; init; } = 20;

    public long DurationMs { get; init; } = 5_000;

    /// <summary>A customer gives up on a request after this long (recorded as indeterminate).</summary>
    public long RequestTimeoutMs { get; init; } = 1_000;
}

public enum FaultKind
{
    /// <summary>Cut <see cref="PlatformFault.Region"/> off from <see cref="PlatformFault.OtherRegion"/> (both ways).</summary>
    Partition,

    /// <summary>Kill one server (<see cref="PlatformFault.Node"/>, e.g. <c>eu-1</c>); it restarts after the duration with its durable state.</summary>
    Crash,

    /// <summary>
    /// Kill whichever server leads at that moment (Raft), the first region's first server (the
    /// quorum store has no leader) or the Orders service (workflow); it restarts after the duration.
    /// </summary>
    LeaderFailover,

    /// <summary>Offset (and drift) one server's clock for the duration.</summary>
    ClockSkew,
}

/// <summary>One scheduled fault. Times are simulated ms from the start of the run.</summary>
public sealed record PlatformFault(FaultKind Kind, long AtMs, long DurationMs)
{
    public string? Region { get; init; }

    public string? OtherRegion { get; init; }

    /// <summary><c>region-index</c>, 1-based within the region: <c>eu-1</c> is eu's first server.</summary>
    public string? Node { get; init; }

    public double SkewMs { get; init; }

    public double DriftPpm { get; init; }
}

/// <summary>The consistency boundaries of the platform (the rows of docs/consistency-map.md).</summary>
public enum Boundary
{
    Ledger,
    Inventory,
    Orders,
    Catalog,
    Likes,
    Workflow,
}

public enum LedgerMode
{
    /// <summary>Balance as a last-write-wins register, read-modify-write at (R, W).</summary>
    Lww,

    /// <summary>Balance in a Raft group, updated by compare-and-set (linearizable).</summary>
    Raft,
}

public enum InventoryMode
{
    /// <summary>Read stock, write stock − 1, last write wins.</summary>
    Lww,

    /// <summary>Compare-and-set on the quorum store: each replica checks alone, so two buyers can both win.</summary>
    QuorumCas,

    /// <summary>Compare-and-set in a Raft group: a conditional update that is linearizable.</summary>
    RaftCas,
}

public enum OrdersMode
{
    /// <summary>Read the customer's orders from any replica.</summary>
    AnyReplica,

    /// <summary>
    /// Orders in a Raft group, read from a nearby follower that waits until it has applied the
    /// highest log index the customer has seen (its session token).
    /// </summary>
    SessionToken,
}

public enum CatalogMode
{
    /// <summary>Single-replica reads, no repair: staleness is unbounded.</summary>
    Eventual,

    /// <summary>
    /// Prices in a Raft group, read from a replica in the customer's region while it heard from its
    /// leader within the bound (else from the leader): PostgreSQL's "follower reads while replay lag
    /// ≤ bound, else the primary". The stale-read checker measures what customers saw.
    /// </summary>
    BoundedStaleness,
}

public enum CounterMode
{
    /// <summary>Read the count, write count + 1, last write wins: concurrent increments are lost.</summary>
    Lww,

    /// <summary>Increments merged as a PN-counter (the quorum store's CRDT mode): none is lost.</summary>
    Crdt,
}

public enum WorkflowMode
{
    /// <summary>Commit, then publish: the anti-pattern (events lost on a crash, or published for rolled-back work).</summary>
    DualWrite,

    /// <summary>Events written with the state in one transaction and relayed; consumers dedupe through an inbox.</summary>
    Outbox,
}

/// <summary>One column of the consistency map: how each boundary is replicated and read.</summary>
public sealed record ConsistencyMapping
{
    public LedgerMode Ledger { get; init; } = LedgerMode.Lww;

    public InventoryMode Inventory { get; init; } = InventoryMode.Lww;

    public OrdersMode Orders { get; init; } = OrdersMode.AnyReplica;

    public CatalogMode Catalog { get; init; } = CatalogMode.Eventual;

    public CounterMode Likes { get; init; } = CounterMode.Lww;

    public WorkflowMode Workflow { get; init; } = WorkflowMode.DualWrite;

    /// <summary>Replicas per key on the quorum store.</summary>
    public int N { get; init; } = 3;

    /// <summary>Read and write quorums for the boundaries on the quorum store (the LWW modes, quorum CAS, any-replica orders, eventual catalog, likes).</summary>
    public int R { get; init; } = 1;

    public int W { get; init; } = 1;

    /// <summary>For <see cref="CatalogMode.BoundedStaleness"/>: a read may lag the latest write by at most this much.</summary>
    public double StalenessBoundMs { get; init; } = 1_000;
}

public sealed record PlatformVariant(string Name, ConsistencyMapping Consistency)
{
    /// <summary>Shown in the deck: what this variant changes and how to roll it back.</summary>
    public string Description { get; init; } = "";
}

public enum SloComparison
{
    AtMost,
    AtLeast,
}

/// <summary>
/// A service-level objective on a metric of <c>Concord.Lab</c>'s results, e.g. <c>oversells ≤ 0</c>
/// or <c>p95_write_ms.payments ≤ 150</c>, evaluated per variant on the totals over all seeds.
/// </summary>
public sealed record Slo(string Metric, SloComparison Comparison, double Threshold)
{
    /// <summary>Only this variant (null: every variant).</summary>
    public string? Variant { get; init; }
}

/// <summary>The (R, W) grid of the quorum sweep: every R and W in 1..N for each N.</summary>
public sealed record QuorumSweepSpec(IReadOnlyList<int> ReplicationFactors, int OperationsPerPoint);
