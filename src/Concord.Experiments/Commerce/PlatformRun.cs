using System.Globalization;
using Concord.Core;
using Concord.Experiments.Quorum;
using Concord.Experiments.Raft;
using Concord.Replication.Quorum;
using Concord.Replication.Raft;
using Concord.Simulation;
using Concord.Simulation.History;

namespace Concord.Experiments.Commerce;

/// <summary>
/// Runs the platform of a <see cref="PlatformScenario"/> on the simulator for one variant and one
/// seed. Each boundary runs in a simulation of its own — the same topology, fault schedule and seed,
/// its store chosen by the variant's <see cref="ConsistencyMapping"/> — with the real protocol code
/// (the quorum store, Raft, CRDT counters, the order saga) and customers whose business logic is
/// the same whichever store serves them. The metrics of all boundaries are then added up.
/// </summary>
public static class PlatformRun
{
    /// <summary>After the workload: time for retries, hints, read repair and anti-entropy before final states are read.</summary>
    const long QuiesceUs = 2_000_000;


    public static PlatformMetrics Execute(PlatformScenario scenario, ConsistencyMapping mapping, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(mapping);
        return scenario.Boundaries.Aggregate(new PlatformMetrics(), (sum, boundary) => Add(sum, ExecuteBoundary(scenario, mapping, boundary, seed)));
    }

    public static PlatformMetrics ExecuteBoundary(PlatformScenario scenario, ConsistencyMapping mapping, Boundary boundary, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(mapping);
        // Each boundary gets its own stream of the root seed, so adding a boundary changes no other's run.
        ulong boundarySeed = new Core.Randomness.SeededRandom(seed).Derive("boundary/" + boundary.ToString()).NextUInt64();
        var shared = new RunShared(scenario, mapping);
        return boundary switch
        {
            Boundary.Ledger when mapping.Ledger == LedgerMode.Raft =>
                OnRaft(shared, boundarySeed, _ => new PayProgram(shared, conditional: true), KvReadMode.Follower),
            Boundary.Ledger => OnQuorum(shared, boundarySeed, _ => new PayProgram(shared, conditional: false), QuorumProtocol(crdt: false, repair: true)),
            Boundary.Inventory when mapping.Inventory == InventoryMode.RaftCas =>
                OnRaft(shared, boundarySeed, _ => new ReserveProgram(shared, conditional: true), KvReadMode.Follower),
            Boundary.Inventory => OnQuorum(shared, boundarySeed,
                _ => new ReserveProgram(shared, conditional: mapping.Inventory == InventoryMode.QuorumCas), QuorumProtocol(crdt: false, repair: true)),
            Boundary.Orders when mapping.Orders == OrdersMode.SessionToken =>
                OnRaft(shared, boundarySeed, c => new OrdersProgram(shared, OrdersKey(c)), KvReadMode.FollowerWithToken),
            Boundary.Orders => OnQuorum(shared, boundarySeed, c => new OrdersProgram(shared, OrdersKey(c)), QuorumProtocol(crdt: false, repair: true), anyRegion: true),
            Boundary.Catalog when mapping.Catalog == CatalogMode.BoundedStaleness =>
                OnRaft(shared, boundarySeed, c => new CatalogProgram(shared, admin: c.Admin), KvReadMode.Follower, admins: 1),
            Boundary.Catalog => OnQuorum(shared, boundarySeed,
                c => new CatalogProgram(shared, admin: c.Admin), QuorumProtocol(crdt: false, repair: false), admins: 1),
            Boundary.Likes => OnQuorum(shared, boundarySeed,
                _ => new CounterProgram(shared, crdt: mapping.Likes == CounterMode.Crdt), QuorumProtocol(crdt: mapping.Likes == CounterMode.Crdt, repair: true)),
            Boundary.Workflow => Workflow.WorkflowRun.Execute(scenario, mapping, boundarySeed),
            _ => throw new ArgumentOutOfRangeException(nameof(boundary), boundary, "Unknown boundary."),
        };
    }

    /// <summary>Which customer a program is for: its index among the clients, and whether it is the admin.</summary>
    private readonly record struct CustomerSlot(int Index, bool Admin);

    static string OrdersKey(CustomerSlot customer) => RunShared.Name("orders/c", customer.Index);

    static QuorumConfig QuorumProtocol(bool crdt, bool repair) => new()
    {
        Versioning = crdt ? VersionMode.Crdt : VersionMode.LastWriteWins,
        ReadRepair = repair,
        HintedHandoff = repair,
        AntiEntropyIntervalUs = repair ? 1_000_000 : 0,
    };

    static PlatformMetrics OnQuorum(RunShared shared, ulong seed, Func<CustomerSlot, CustomerProgram> program, QuorumConfig protocol, int admins = 0, bool anyRegion = false)
    {
        PlatformScenario scenario = shared.Scenario;
        Topology topology = PlatformSimulation.Topology(scenario, admins);
        var ring = new HashRing([.. topology.Nodes.Where(n => n.Role == NodeRole.Server).Select(n => new RingMember(n.Id, n.Region))], shared.Mapping.N);
        var history = new HistoryRecorder<PlatformOp, PlatformOpResult>();
        long stepTimeoutUs = PlatformSimulation.Us(scenario.Workload.RequestTimeoutMs);
        protocol = protocol with { RequestTimeoutUs = Math.Min(protocol.RequestTimeoutUs, stepTimeoutUs) };
        var stats = new QuorumNodeStats();
        var sim = new Simulator<QuorumMessage>(Config(scenario, topology, seed), info => info.Role == NodeRole.Server
            ? new QuorumServerNode(ring, protocol, stats)
            : new QuorumCustomerNode(new CustomerLoop(program(Slot(topology, info, admins)), shared, history), ring, shared.Mapping, stepTimeoutUs, anyRegion));

        // A leaderless store has no leader to fail over: kill the server most of the first region's customers start with.
        PlatformSimulation.ScheduleLeaderFailovers(scenario, sim, () => topology.ServersIn(topology.Regions[0])[0]);
        Drive(shared, sim, history, stepTimeoutUs);
        sim.RunFor(QuiesceUs);

        var finals = new Dictionary<string, long?>(StringComparer.Ordinal);
        foreach (string key in history.Entries.Select(e => e.Operation.Key).Distinct(StringComparer.Ordinal))
        {
            StoredValue? merged = null;
            foreach (NodeId replica in ring.ReplicasOf(key))
            {
                if (sim.DurableStateOf(replica).TryGet("kv/" + key, out StoredValue? v) && v is not null)
                {
                    merged = merged is null ? v : merged.Merge(v);
                }
            }

            finals[key] = merged is null || merged.Values.IsDefaultOrEmpty ? null : merged.Values.Max();
        }

        return BoundaryMetrics.Compute(shared, history.Entries, finals, protocol.Versioning == VersionMode.Crdt);
    }

    static PlatformMetrics OnRaft(RunShared shared, ulong seed, Func<CustomerSlot, CustomerProgram> program, KvReadMode readMode, int admins = 0)
    {
        PlatformScenario scenario = shared.Scenario;
        Topology topology = PlatformSimulation.Topology(scenario, admins);
        IReadOnlyList<NodeId> voters = RaftVoters(topology);
        var monitor = new RaftSafetyMonitor();
        var settings = new RaftServerSettings
        {
            Config = new RaftConfig
            {
                Voters = voters,
                // Ticks of 10 ms; an election timeout of 150–300 ms stays above a cross-region round trip.
                ElectionTicks = 15,
                HeartbeatTicks = 3,
            },
            TickUs = 10_000,
            Ranges = new KeyRanges(RaftKeysMax(shared, topology), 1),
            // Pin the leader in the first region, where the writers of the "home" region are.
            PreferredLeaders = [voters[0]],
            // Follower reads are served while the follower heard from its leader within the staleness bound.
            FollowerReadStaleTicksMax = (int)Math.Clamp(shared.Mapping.StalenessBoundMs / 10, 1, 10_000),
            Monitors = [monitor],
        };
        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        string RaftKey(string key)
        {
            if (!keys.TryGetValue(key, out string? mapped))
            {
                Invariant.Assert(keys.Count < settings.Ranges.KeyCount, "more keys than the group's range");
                keys[key] = mapped = "k" + keys.Count.ToString(CultureInfo.InvariantCulture);
            }

            return mapped;
        }

        var history = new HistoryRecorder<PlatformOp, PlatformOpResult>();
        long stepTimeoutUs = PlatformSimulation.Us(scenario.Workload.RequestTimeoutMs);
        var sim = new Simulator<RaftKvMessage>(Config(scenario, topology, seed), info => info.Role == NodeRole.Server
            ? voters.Contains(info.Id) ? new RaftServerNode(settings) : new IdleNode<RaftKvMessage>()
            : new RaftCustomerNode(new CustomerLoop(program(Slot(topology, info, admins)), shared, history), voters, RaftKey, readMode, stepTimeoutUs, retryBackoffUs: 20_000));
        monitor.Clock = () => sim.NowUs;

        PlatformSimulation.ScheduleLeaderFailovers(scenario, sim, () => RaftKvRun.CurrentLeader(sim)?.Leader ?? voters[0]);
        Drive(shared, sim, history, stepTimeoutUs);
        // Let a restarted leader come back and followers apply what was committed before reading the final state.
        sim.RunFor(QuiesceUs);

        // The final state: the live replica that has applied the most.
        KvStateMachine? final = topology.Servers
            .Select(s => sim.GetNode<RaftServerNode>(s)?.StateMachineOf())
            .Where(kv => kv is not null)
            .MaxBy(kv => kv!.AppliedIndex);
        var finals = keys.ToDictionary(kv => kv.Key, kv => final?.Get(kv.Value), StringComparer.Ordinal);
        return BoundaryMetrics.Compute(shared, history.Entries, finals, crdtCounters: false);
    }

    /// <summary>Every key a boundary can touch: one per SKU, merchant account or customer.</summary>
    static int RaftKeysMax(RunShared shared, Topology topology) =>
        shared.Workload.Skus + RunShared.MerchantAccounts + topology.Clients.Count;

    /// <summary>
    /// The group's voters: every server of the first region, and fewer elsewhere (up to one less
    /// than the first region has), so the first region holds a majority. Its writers commit without
    /// a cross-region round trip, and it keeps the ledger writable when the regions are cut apart;
    /// the other regions' customers pay the round trip. Servers left out host nothing for this group.
    /// </summary>
    static IReadOnlyList<NodeId> RaftVoters(Topology topology)
    {
        IReadOnlyList<NodeId> home = topology.ServersIn(topology.Regions[0]);
        return [.. home, .. topology.Regions.Skip(1).SelectMany(topology.ServersIn).Take(Math.Max(0, home.Count - 1))];
    }

    /// <summary>The workload for its duration (with leader failovers on time), then every operation to its end.</summary>
    static void Drive<TMessage>(RunShared shared, Simulator<TMessage> sim, HistoryRecorder<PlatformOp, PlatformOpResult> history, long stepTimeoutUs)
    {
        long durationUs = PlatformSimulation.Us(shared.Workload.DurationMs);
        sim.RunUntil(durationUs);
        shared.Open = false;
        // An operation has a few steps, each bounded by the step timeout.
        sim.RunUntil(() => history.PendingCount == 0, sim.NowUs + (16 * stepTimeoutUs));
    }

    static SimulationConfig Config(PlatformScenario scenario, Topology topology, ulong seed) => new()
    {
        Seed = seed,
        Topology = topology,
        Network = PlatformSimulation.Network(scenario),
        Faults = PlatformSimulation.StaticFaults(scenario, topology),
    };

    /// <summary>Clients are numbered across regions; the admins are the last clients of the first region.</summary>
    static CustomerSlot Slot(Topology topology, NodeInfo info, int admins)
    {
        IReadOnlyList<NodeId> firstRegion = topology.ClientsIn(topology.Regions[0]);
        bool admin = admins > 0 && firstRegion.Skip(firstRegion.Count - admins).Contains(info.Id);
        return new CustomerSlot(info.Index, admin);
    }

    /// <summary>Counts add up; latency samples, lag samples and timeline buckets are pooled.</summary>
    public static PlatformMetrics Add(PlatformMetrics a, PlatformMetrics b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var latencies = a.WriteLatenciesMs.ToDictionary(kv => kv.Key, kv => kv.Value);
        foreach ((Service service, IReadOnlyList<double> samples) in b.WriteLatenciesMs)
        {
            latencies[service] = latencies.TryGetValue(service, out var existing) ? [.. existing, .. samples] : samples;
        }

        return new PlatformMetrics
        {
            Oversells = a.Oversells + b.Oversells,
            LostAcknowledgedPayments = a.LostAcknowledgedPayments + b.LostAcknowledgedPayments,
            StaleReads = a.StaleReads + b.StaleReads,
            Reads = a.Reads + b.Reads,
            ReadYourWritesMisses = a.ReadYourWritesMisses + b.ReadYourWritesMisses,
            LostEvents = a.LostEvents + b.LostEvents,
            GhostEvents = a.GhostEvents + b.GhostEvents,
            DuplicateEffects = a.DuplicateEffects + b.DuplicateEffects,
            LostIncrements = a.LostIncrements + b.LostIncrements,
            ReconciliationAttempts = a.ReconciliationAttempts + b.ReconciliationAttempts,
            SagasConfirmed = a.SagasConfirmed + b.SagasConfirmed,
            SagasCompensated = a.SagasCompensated + b.SagasCompensated,
            SagasUnfinished = a.SagasUnfinished + b.SagasUnfinished,
            Operations = a.Operations + b.Operations,
            FailedOperations = a.FailedOperations + b.FailedOperations,
            WriteLatenciesMs = latencies,
            ReplicationLagMs = [.. a.ReplicationLagMs, .. b.ReplicationLagMs],
            Timeline = [.. a.Timeline.Concat(b.Timeline)
                .GroupBy(t => t.StartMs)
                .OrderBy(g => g.Key)
                .Select(g => new TimelineBucket(g.Key, g.Sum(t => t.Acknowledged), g.Sum(t => t.Failed), g.Sum(t => t.StaleReads)))],
            UnavailabilityMs = Math.Max(a.UnavailabilityMs, b.UnavailabilityMs),
        };
    }
}
