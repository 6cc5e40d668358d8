using System.Globalization;
using Concord.Checkers.Histories;
using Concord.Checkers.Staleness;
using Concord.Core;
using Concord.Experiments.Quorum;
using Concord.Replication.Raft;
using Concord.Simulation;
using Concord.Simulation.Faults;
using Concord.Simulation.History;
using Concord.Simulation.Network;
using Concord.Simulation.Nodes;
using Concord.Simulation.Tracing;

namespace Concord.Experiments.Raft;

/// <summary>
/// A fault aimed at whoever leads group 0 at <see cref="AtUs"/> (found when the run gets there):
/// crash it, or cut it off from the other servers — clients still reach it — for <see cref="DurationUs"/>.
/// The drifts, when not 0, change the leader's and the other servers' clock rates at the same moment.
/// </summary>
public sealed record LeaderFault(long AtUs, long DurationUs, bool Crash, long LeaderDriftPpm = 0, long FollowerDriftPpm = 0);

/// <summary>Everything that determines one Raft KV run on the simulator.</summary>
public sealed record RaftKvRunOptions
{
    public ulong Seed { get; init; } = 1;

    public int Regions { get; init; } = 1;

    public int ServersPerRegion { get; init; } = 3;

    /// <summary>Servers in each region, in region order, instead of <see cref="ServersPerRegion"/> everywhere (null: uniform).</summary>
    public IReadOnlyList<int>? ServersByRegion { get; init; }

    public int ClientsPerRegion { get; init; } = 3;

    /// <summary>Regions that host clients (by name, e.g. <c>eu</c>); null: every region.</summary>
    public IReadOnlyList<string>? ClientRegions { get; init; }

    /// <summary>Raft groups, one per key range of <see cref="RaftKvWorkloadOptions.KeyCount"/> keys; every server holds a replica of each.</summary>
    public int Groups { get; init; } = 1;

    /// <summary>Per group, the region whose first server should lead it (null entry or list: no preference); a leader elsewhere hands over (MsgTimeoutNow).</summary>
    public IReadOnlyList<string?>? LeaderRegions { get; init; }

    /// <summary>One Raft tick, on each server's own (drifting) monotonic clock.</summary>
    public long TickUs { get; init; } = 10_000;

    public int ElectionTicks { get; init; } = 10;

    public int HeartbeatTicks { get; init; } = 2;

    public int EntriesPerAppendMax { get; init; } = 32;

    public int InflightAppendsMax { get; init; } = 4;

    /// <summary>Compact a group's log every this many applied entries (0: never).</summary>
    public int SnapshotEveryEntries { get; init; }

    /// <summary>Lease reads with this drift bound in ppm (null: every leader read takes a heartbeat round).</summary>
    public long? LeaseClockDriftPpmMax { get; init; }

    /// <summary>A follower serves bounded-stale reads only if it heard from its leader within this many ticks.</summary>
    public int FollowerReadStaleTicksMax { get; init; } = 4;

    public RaftKvWorkloadOptions Workload { get; init; } = new();

    public NetworkConfig Network { get; init; } = NetworkConfig.Default;

    public IReadOnlyList<ScheduledFault> Faults { get; init; } = [];

    public RandomFaultConfig? RandomFaults { get; init; }

    public LeaderFault? LeaderFault { get; init; }

    /// <summary>Hard stop for the workload, in simulated time.</summary>
    public long DeadlineUs { get; init; } = 60_000_000;

    public TraceOptions<RaftKvMessage>? Trace { get; init; }

    /// <summary>Negative control: leaders commit without a majority. The safety checks must catch it.</summary>
    internal bool CommitBeforeMajority { get; init; }

    /// <summary>Negative control: the lease ignores clock drift. The linearizability checker must catch it under drift.</summary>
    internal bool LeaseIgnoresClockDrift { get; init; }

    /// <summary>Negative control: leaders answer reads without a heartbeat round. The linearizability checker must catch it.</summary>
    internal bool ReadWithoutHeartbeatRound { get; init; }

    /// <summary>
    /// Short runs under heavy faults for safety sweeps: isolations, one-way partitions, up to two
    /// crashed servers, pauses, clock jumps and ±500 ppm drift, 2% loss, 1% duplicates. Odd seeds run
    /// three servers (one crash away from no quorum), even seeds five. Logs are compacted every 10
    /// entries, so lagging and restarted servers catch up from snapshots; every third seed reads
    /// through leases (drift bound 1,000 ppm, twice the drift injected).
    /// </summary>
    public static RaftKvRunOptions Chaos(ulong seed) => new()
    {
        Seed = seed,
        ServersPerRegion = seed % 2 == 0 ? 5 : 3,
        SnapshotEveryEntries = 10,
        LeaseClockDriftPpmMax = seed % 3 == 0 ? 1_000 : null,
        Workload = new RaftKvWorkloadOptions { OperationCount = 300, ThinkTimeUsMax = 20_000 },
        DeadlineUs = 3_000_000,
        Network = NetworkConfig.Default.WithAllLinks(p => p with { LossProbability = 0.02, DuplicateProbability = 0.01 }),
        RandomFaults = RandomFaultConfig.Heavy with { HorizonUs = 3_000_000 },
    };

    /// <summary>
    /// The stage for the read negative controls: one region of three servers, six clients on two keys,
    /// half reads; at 300 ms whoever leads is cut off from the other servers (clients still reach it)
    /// for a second, and its clock slows by <paramref name="driftPpm"/> while the others' speed up by as
    /// much. Leases, when on, assume a drift bound of <paramref name="driftPpm"/>. A client gives up
    /// after 40 ms, so writers move to the new leader quickly while readers stay with the old one.
    /// </summary>
    public static RaftKvRunOptions PartitionedLeader(ulong seed, bool lease, long driftPpm) => new()
    {
        Seed = seed,
        ClientsPerRegion = 6,
        LeaseClockDriftPpmMax = lease ? driftPpm : null,
        Workload = new RaftKvWorkloadOptions
        {
            OperationCount = 600,
            KeyCount = 2,
            ReadFraction = 0.5,
            CasFraction = 0,
            ThinkTimeUsMax = 5_000,
            ClientTimeoutUs = 40_000,
        },
        LeaderFault = new LeaderFault(300_000, 1_000_000, Crash: false, LeaderDriftPpm: -driftPpm, FollowerDriftPpm: driftPpm),
        DeadlineUs = 5_000_000,
    };

    /// <summary>
    /// The failover scenario: one region of three servers, four clients, a mixed workload of 1,500
    /// operations; at one second whoever leads is crashed (<paramref name="crash"/>) or cut off from
    /// the other servers, for a second. Clients give up on an operation after 200 ms.
    /// </summary>
    public static RaftKvRunOptions Failover(ulong seed, bool crash) => new()
    {
        Seed = seed,
        ClientsPerRegion = 4,
        Workload = new RaftKvWorkloadOptions { OperationCount = 1_500, KeyCount = 4, ClientTimeoutUs = 200_000 },
        LeaderFault = new LeaderFault(1_000_000, 1_000_000, crash),
    };

    /// <summary>
    /// Two regions 40 ms apart, three servers in <c>eu</c> and two in <c>us</c> (so a majority fits in
    /// eu), the group's leader pinned to <paramref name="leaderRegion"/>, four clients in
    /// <paramref name="clientRegion"/>, a mixed workload on eight keys (40% reads, 20% CAS). Elections
    /// time out after 300–600 ms, well above the 80 ms round trip. For latency by placement: <c>concord bench raft</c>.
    /// </summary>
    public static RaftKvRunOptions Placement(ulong seed, int operations, string leaderRegion, string clientRegion) => new()
    {
        Seed = seed,
        Regions = 2,
        ServersByRegion = [3, 2],
        ElectionTicks = 30,
        HeartbeatTicks = 3,
        ClientsPerRegion = 4,
        ClientRegions = [clientRegion],
        LeaderRegions = [leaderRegion],
        Workload = new RaftKvWorkloadOptions { OperationCount = operations, KeyCount = 8, ThinkTimeUsMax = 1_000 },
    };

    /// <summary>
    /// CAS only, otherwise <see cref="Placement"/>: for comparing Raft CAS with other CAS
    /// implementations; read the latencies from <see cref="RaftKvRunResult.Cas"/> (or
    /// <see cref="RaftKvRunResult.LatenciesUs"/>) and check <see cref="RaftKvRunResult.History"/>.
    /// </summary>
    public static RaftKvRunOptions CasWorkload(ulong seed, int operations, string leaderRegion = "eu", string clientRegion = "eu")
    {
        RaftKvRunOptions placement = Placement(seed, operations, leaderRegion, clientRegion);
        return placement with { Workload = placement.Workload with { ReadFraction = 0, CasFraction = 1 } };
    }

    /// <summary>One region of three servers and eight clients that never pause: the simulator's speed on Raft.</summary>
    public static RaftKvRunOptions Throughput(ulong seed, int operations) => new()
    {
        Seed = seed,
        ClientsPerRegion = 8,
        Workload = new RaftKvWorkloadOptions { OperationCount = operations, KeyCount = 16, ThinkTimeUsMax = 0 },
    };
}

/// <summary>The server leading a group at the end of a run, and its region.</summary>
public sealed record GroupLeader(int Group, NodeId Node, string Region);

/// <summary>
/// What a leader fault did: which leader (and term) it hit, and the unavailability window — from the
/// fault to the first commit of an entry of a later term (the new leader's no-op), simulated µs.
/// </summary>
public sealed record FailoverReport(
    NodeId OldLeader,
    long OldTerm,
    long FaultAtUs,
    NodeId? NewLeader,
    long? NewTerm,
    long? UnavailableUs);

/// <summary>A finished run: the client history for the checkers, latencies, and what the monitors and clients saw.</summary>
public sealed class RaftKvRunResult
{
    internal RaftKvRunResult(
        RaftKvRunOptions options,
        IReadOnlyList<HistoryEntry<KvOperation, KvResult>> entries,
        IReadOnlyList<RaftSafetyMonitor> monitors,
        RaftKvClientStats clients,
        Simulator<RaftKvMessage> simulator,
        FailoverReport? failover,
        long readsServedByLease,
        IReadOnlyDictionary<string, OperationValue> finalValues,
        IReadOnlyList<GroupLeader> leaders)
    {
        Options = options;
        Entries = entries;
        History = RaftKvHistory.ToHistory(entries);
        LeadersElected = monitors.Sum(m => m.LeadersElected);
        CommittedIndexMax = monitors.Max(m => m.CommittedIndexMax);
        SnapshotsTaken = monitors.Sum(m => m.SnapshotsTaken);
        SnapshotsInstalled = monitors.Sum(m => m.SnapshotsInstalled);
        Clients = clients;
        TraceHash = simulator.TraceHash;
        SimulatedUs = simulator.NowUs;
        FaultPlan = simulator.FaultPlan;
        Failover = failover;
        ReadsServedByLease = readsServedByLease;
        LostWrites = LostWriteChecker.Check(History, finalValues);
        Leaders = leaders;

        Read = Latencies(KvOperationKind.Get);
        Write = Latencies(KvOperationKind.Put);
        Cas = Latencies(KvOperationKind.CompareAndSet);
    }

    public RaftKvRunOptions Options { get; }

    public ulong Seed => Options.Seed;

    public IReadOnlyList<HistoryEntry<KvOperation, KvResult>> Entries { get; }

    /// <summary>In Concord.Checkers' cas-register vocabulary: read, write, cas; times in simulated µs.</summary>
    public History History { get; }

    public int LeadersElected { get; }

    public long CommittedIndexMax { get; }

    public int SnapshotsTaken { get; }

    public int SnapshotsInstalled { get; }

    /// <summary>Leader reads answered from a lease, without a heartbeat round.</summary>
    public long ReadsServedByLease { get; }

    public int Acknowledged => Entries.Count(e => e.Completion == CompletionType.Ok);

    public RaftKvClientStats Clients { get; }

    /// <summary>Acknowledged writes the final state does not show (Concord.Checkers' lost-write checker): must be empty.</summary>
    public LostWriteReport LostWrites { get; }

    public int LostAcknowledgedWrites => LostWrites.LostCount;

    /// <summary>Who leads each group at the end (groups without a live leader are left out).</summary>
    public IReadOnlyList<GroupLeader> Leaders { get; }

    /// <summary>Simulated latency of answered gets, puts and CAS (a CAS that did not match counts: it was answered).</summary>
    public LatencyPercentiles Read { get; }

    public LatencyPercentiles Write { get; }

    public LatencyPercentiles Cas { get; }

    /// <summary>Set when the options asked for a <see cref="LeaderFault"/>.</summary>
    public FailoverReport? Failover { get; }

    public ulong TraceHash { get; }

    public long SimulatedUs { get; }

    public IReadOnlyList<ScheduledFault> FaultPlan { get; }

    /// <summary>Answered operations of one kind: latency in simulated µs, in invoke order.</summary>
    public IReadOnlyList<long> LatenciesUs(KvOperationKind kind) =>
        [.. Entries.Where(e => e.Operation.Kind == kind && e.Completion is CompletionType.Ok or CompletionType.Fail && e.CompleteUs is not null)
            .Select(e => e.CompleteUs!.Value - e.InvokeUs)];

    private LatencyPercentiles Latencies(KvOperationKind kind) => LatencyPercentiles.Of(LatenciesUs(kind));
}

/// <summary>Runs clients against simulated Raft KV groups with Raft's safety checked after every handler.</summary>
public static class RaftKvRun
{
    public static RaftKvRunResult Execute(RaftKvRunOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        Topology topology = BuildTopology(options);
        var raftConfig = new RaftConfig
        {
            Voters = topology.Servers,
            ElectionTicks = options.ElectionTicks,
            HeartbeatTicks = options.HeartbeatTicks,
            EntriesPerAppendMax = options.EntriesPerAppendMax,
            InflightAppendsMax = options.InflightAppendsMax,
            Lease = options.LeaseClockDriftPpmMax is { } drift ? new ReadLease(options.TickUs, drift) : null,
            UnsafeCommitWithoutMajority = options.CommitBeforeMajority,
            UnsafeLeaseIgnoresClockDrift = options.LeaseIgnoresClockDrift,
            UnsafeReadWithoutHeartbeatRound = options.ReadWithoutHeartbeatRound,
        };
        var monitors = Enumerable.Range(0, options.Groups).Select(_ => new RaftSafetyMonitor()).ToArray();
        var ranges = new KeyRanges(options.Workload.KeyCount, options.Groups);
        var settings = new RaftServerSettings
        {
            Config = raftConfig,
            TickUs = options.TickUs,
            Ranges = ranges,
            PreferredLeaders = [.. Enumerable.Range(0, options.Groups).Select(g =>
                options.LeaderRegions is { } regions && g < regions.Count && regions[g] is { } region ? topology.ServersIn(region)[0] : (NodeId?)null)],
            SnapshotEveryEntries = options.SnapshotEveryEntries,
            FollowerReadStaleTicksMax = options.FollowerReadStaleTicksMax,
            Monitors = monitors,
        };
        var workload = new RaftKvWorkload(options.Workload);
        var history = new HistoryRecorder<KvOperation, KvResult>();
        var clientStats = new RaftKvClientStats();
        var config = new SimulationConfig
        {
            Seed = options.Seed,
            Topology = topology,
            Network = options.Network,
            Faults = options.Faults,
            RandomFaults = options.RandomFaults,
        };
        long leaseReads = 0;
        var sim = new Simulator<RaftKvMessage>(
            config,
            info => info.Role == NodeRole.Server
                ? new RaftServerNode(settings)
                : new RaftKvClientNode(workload, ranges, history, clientStats),
            options.Trace);
        foreach (RaftSafetyMonitor monitor in monitors)
        {
            monitor.Clock = () => sim.NowUs;
        }

        bool WorkloadDone() => workload.Issued >= options.Workload.OperationCount && history.PendingCount == 0;
        (NodeId Leader, long Term)? faulted = null;
        if (options.LeaderFault is { } fault && !sim.RunUntil(WorkloadDone, fault.AtUs))
        {
            faulted = InjectLeaderFault(sim, fault);
        }

        sim.RunUntil(WorkloadDone, options.DeadlineUs);
        workload.Open = false;
        sim.RunUntil(() => history.PendingCount == 0, sim.NowUs + options.Workload.ClientTimeoutUs + 1);
        foreach (NodeId server in topology.Servers)
        {
            if (sim.GetNode<RaftServerNode>(server) is { } node)
            {
                leaseReads += Enumerable.Range(0, options.Groups).Sum(g => node.RaftOf(g).ReadsServedByLease);
            }
        }

        FailoverReport? report = null;
        if (faulted is { } old && options.LeaderFault is { } f)
        {
            var next = monitors[0].FirstCommitByTerm.FirstOrDefault(c => c.Term > old.Term && c.AtUs >= f.AtUs);
            report = next.Term == 0
                ? new FailoverReport(old.Leader, old.Term, f.AtUs, null, null, null)
                : new FailoverReport(old.Leader, old.Term, f.AtUs, next.Leader, next.Term, next.AtUs - f.AtUs);
        }

        return new RaftKvRunResult(options, history.Entries, monitors, clientStats, sim, report, leaseReads, FinalValues(sim, ranges), FinalLeaders(sim, options.Groups));
    }

    /// <summary>Each key's value on the live replica of its group that has applied the most.</summary>
    private static Dictionary<string, OperationValue> FinalValues(Simulator<RaftKvMessage> sim, KeyRanges ranges)
    {
        var finals = new Dictionary<string, OperationValue>(StringComparer.Ordinal);
        for (int k = 0; k < ranges.KeyCount; k++)
        {
            string key = "k" + k.ToString(CultureInfo.InvariantCulture);
            int group = ranges.GroupOf(key);
            KvStateMachine? latest = sim.Topology.Servers
                .Select(s => sim.GetNode<RaftServerNode>(s)?.StateMachineOf(group))
                .Where(kv => kv is not null)
                .MaxBy(kv => kv!.AppliedIndex);
            finals[key] = latest?.Get(key) is { } value ? OperationValue.Of(value) : OperationValue.Nil;
        }

        return finals;
    }

    private static List<GroupLeader> FinalLeaders(Simulator<RaftKvMessage> sim, int groups)
    {
        var leaders = new List<GroupLeader>();
        for (int g = 0; g < groups; g++)
        {
            var leader = sim.Topology.Servers
                .Where(s => sim.GetNode<RaftServerNode>(s) is { } node && node.RaftOf(g).Role == RaftRole.Leader)
                .OrderByDescending(s => sim.GetNode<RaftServerNode>(s)!.RaftOf(g).Term)
                .Select(s => (NodeId?)s)
                .FirstOrDefault();
            if (leader is { } id)
            {
                leaders.Add(new GroupLeader(g, id, sim.Topology.Nodes[(int)id.Value].Region));
            }
        }

        return leaders;
    }

    /// <summary>The leader of group 0 now (the highest term among live servers that lead), or null.</summary>
    internal static (NodeId Leader, long Term)? CurrentLeader(Simulator<RaftKvMessage> sim) =>
        sim.Topology.Servers
            .Select(s => sim.GetNode<RaftServerNode>(s) is { } node && node.RaftOf().Role == RaftRole.Leader ? (s, node.RaftOf().Term) : ((NodeId, long)?)null)
            .Where(x => x is not null)
            .OrderByDescending(x => x!.Value.Item2)
            .FirstOrDefault();

    private static (NodeId Leader, long Term)? InjectLeaderFault(Simulator<RaftKvMessage> sim, LeaderFault fault)
    {
        if (CurrentLeader(sim) is not { } current)
        {
            return null;
        }

        NodeId leader = current.Leader;
        long end = sim.NowUs + fault.DurationUs;
        NodeId[] others = [.. sim.Topology.Servers.Where(s => s != leader)];
        sim.Schedule(new ScheduledFault(sim.NowUs, end, fault.Crash
            ? new CrashFault(leader)
            : new PartitionFault([leader], others, Bidirectional: true)));
        if (fault.LeaderDriftPpm != 0)
        {
            sim.Schedule(new ScheduledFault(sim.NowUs, end, new ClockFault(leader, 0, fault.LeaderDriftPpm)));
        }

        if (fault.FollowerDriftPpm != 0)
        {
            foreach (NodeId other in others)
            {
                sim.Schedule(new ScheduledFault(sim.NowUs, end, new ClockFault(other, 0, fault.FollowerDriftPpm)));
            }
        }

        return current;
    }

    private static Topology BuildTopology(RaftKvRunOptions options)
    {
        Topology shape = Topology.Create(options.Regions, options.ServersPerRegion, options.ClientsPerRegion);
        return Topology.Create([.. shape.Regions.Select((region, r) => new RegionSpec(
            region,
            options.ServersByRegion?[r] ?? options.ServersPerRegion,
            options.ClientRegions is null || options.ClientRegions.Contains(region) ? options.ClientsPerRegion : 0))]);
    }

    private static void Validate(RaftKvRunOptions options)
    {
        var problems = new List<string>(options.Workload.Problems());
        if (options.Regions < 1 || options.ServersPerRegion < 1 || options.ClientsPerRegion < 1)
        {
            problems.Add("Regions, ServersPerRegion and ClientsPerRegion must be ≥ 1.");
        }

        if (options.TickUs < 1 || options.DeadlineUs < 1)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"TickUs ({options.TickUs}) and DeadlineUs ({options.DeadlineUs}) must be ≥ 1."));
        }

        if (options.ServersByRegion is { } servers && (servers.Count != options.Regions || servers.Any(n => n < 0) || servers.Sum() < 1))
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"ServersByRegion needs one count ≥ 0 per region ({options.Regions}) and at least one server."));
        }

        if (options.Groups < 1 || options.Groups > options.Workload.KeyCount)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"Groups ({options.Groups}) must be within [1, KeyCount ({options.Workload.KeyCount})]."));
        }

        if (options.SnapshotEveryEntries < 0 || options.FollowerReadStaleTicksMax < 0)
        {
            problems.Add("SnapshotEveryEntries and FollowerReadStaleTicksMax must be ≥ 0.");
        }

        var regionNames = Topology.Create(options.Regions, 1).Regions;
        foreach (string region in (options.ClientRegions ?? []).Concat((options.LeaderRegions ?? []).OfType<string>()))
        {
            if (!regionNames.Contains(region))
            {
                problems.Add($"Region '{region}' is not one of {string.Join(", ", regionNames)}.");
            }
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid Raft KV run options: " + string.Join(" ", problems), nameof(options));
        }
    }
}

/// <summary>Turns recorded entries into a Concord.Checkers history for the cas-register model.</summary>
public static class RaftKvHistory
{
    public static History ToHistory(IReadOnlyList<HistoryEntry<KvOperation, KvResult>> entries) =>
        RecordedHistory.ToHistory(entries, "raft-kv-sim",
            op => new CheckedOperation(FunctionOf(op.Kind), InputOf(op), op.Key),
            (op, result) => op.Kind == KvOperationKind.Get ? ValueOf(result!.Value) : null);

    private static OperationValue ValueOf(long? value) => value is { } v ? OperationValue.Of(v) : OperationValue.Nil;

    private static string FunctionOf(KvOperationKind kind) => kind switch
    {
        KvOperationKind.Get => "read",
        KvOperationKind.Put => "write",
        _ => "cas",
    };

    private static OperationValue InputOf(KvOperation op) => op.Kind switch
    {
        KvOperationKind.Get => OperationValue.Nil,
        KvOperationKind.CompareAndSet => OperationValue.ListOf(ValueOf(op.Expected), OperationValue.Of(op.Value)),
        _ => OperationValue.Of(op.Value),
    };
}
