using System.Globalization;
using Concord.Checkers.Histories;
using Concord.Core;
using Concord.Replication.Quorum;
using Concord.Simulation;
using Concord.Simulation.Faults;
using Concord.Simulation.History;
using Concord.Simulation.Network;
using Concord.Simulation.Nodes;
using Concord.Simulation.Tracing;

namespace Concord.Experiments.Quorum;

/// <summary>Everything that determines one quorum-store run on the simulator.</summary>
public sealed record QuorumRunOptions
{
    public ulong Seed { get; init; } = 1;

    public int Regions { get; init; } = 2;

    public int ServersPerRegion { get; init; } = 3;

    public int ClientsPerRegion { get; init; } = 3;

    /// <summary>N.</summary>
    public int ReplicationFactor { get; init; } = 3;

    public int VirtualNodesPerMember { get; init; } = 64;

    public QuorumConfig Protocol { get; init; } = new();

    public QuorumWorkloadOptions Workload { get; init; } = new();

    public NetworkConfig Network { get; init; } = NetworkConfig.Default;

    public IReadOnlyList<ScheduledFault> Faults { get; init; } = [];

    public RandomFaultConfig? RandomFaults { get; init; }

    /// <summary>Cut the regions apart once a third of the operations have been issued, for <see cref="RegionPartitionUs"/>.</summary>
    public bool RegionPartition { get; init; }

    public long RegionPartitionUs { get; init; } = 2_000_000;

    /// <summary>After the last operation: time for hints, read repair and anti-entropy before final states are read.</summary>
    public long QuiesceUs { get; init; } = 3_000_000;

    /// <summary>Hard stop for the workload, in simulated time.</summary>
    public long DeadlineUs { get; init; } = 3_600_000_000;

    /// <summary>Optional simulator trace (text lines, fingerprints); null for the hash only.</summary>
    public TraceOptions<QuorumMessage>? Trace { get; init; }
}

/// <summary>A finished run: the history for the checkers, final replica states, counters.</summary>
public sealed class QuorumRunResult
{
    internal QuorumRunResult(
        QuorumRunOptions options,
        History history,
        IReadOnlyList<HistoryEntry<QuorumOperation, QuorumOperationResult>> entries,
        IReadOnlyDictionary<string, IReadOnlyList<StoredValue?>> replicaStates,
        QuorumNodeStats serverStats,
        Simulator<QuorumMessage> simulator,
        HashRing ring)
    {
        Options = options;
        History = history;
        Entries = entries;
        ReplicaStates = replicaStates;
        ServerStats = serverStats;
        SimulationStats = simulator.Stats;
        TraceHash = simulator.TraceHash;
        SimulatedUs = simulator.NowUs;
        FaultPlan = simulator.FaultPlan;
        Ring = ring;
    }

    public QuorumRunOptions Options { get; }

    public ulong Seed => Options.Seed;

    /// <summary>The client history in Concord.Checkers' model (times in µs of simulated time).</summary>
    public History History { get; }

    public IReadOnlyList<HistoryEntry<QuorumOperation, QuorumOperationResult>> Entries { get; }

    /// <summary>Per key, each owner's durable state after quiescence, in preference-list order.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<StoredValue?>> ReplicaStates { get; }

    public QuorumNodeStats ServerStats { get; }

    public SimulationStats SimulationStats { get; }

    public ulong TraceHash { get; }

    public long SimulatedUs { get; }

    public IReadOnlyList<ScheduledFault> FaultPlan { get; }

    public HashRing Ring { get; }

    /// <summary>Keys whose owners do not all hold the same state.</summary>
    public IReadOnlyList<string> DivergentKeys => [.. ReplicaStates
        .Where(kv => kv.Value.Distinct().Count() > 1)
        .Select(kv => kv.Key)];

    /// <summary>The join of every owner's state: what full repair converges each key to.</summary>
    public IReadOnlyDictionary<string, StoredValue> ConvergedStates => ReplicaStates
        .Select(kv => (kv.Key, Value: kv.Value.Aggregate((StoredValue?)null, (acc, v) => v is null ? acc : acc is null ? v : acc.Merge(v))))
        .Where(kv => kv.Value is not null)
        .ToDictionary(kv => kv.Key, kv => kv.Value!, StringComparer.Ordinal);

    /// <summary>Final single values for <c>LostWriteChecker</c> (LWW); a multi-valued state becomes a list.</summary>
    public IReadOnlyDictionary<string, OperationValue> FinalValues => ConvergedStates
        .ToDictionary(kv => kv.Key, kv => QuorumHistory.ValueOf(kv.Value.Values), StringComparer.Ordinal);
}

/// <summary>Runs a workload against a simulated quorum store and collects what the checkers need.</summary>
public static class QuorumRun
{
    public static QuorumRunResult Execute(QuorumRunOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        var topology = Topology.Create(options.Regions, options.ServersPerRegion, options.ClientsPerRegion);
        var ring = new HashRing(
            [.. topology.Nodes.Where(n => n.Role == NodeRole.Server).Select(n => new RingMember(n.Id, n.Region))],
            options.ReplicationFactor,
            options.VirtualNodesPerMember);
        var driver = new WorkloadDriver(options.Workload);
        var history = new HistoryRecorder<QuorumOperation, QuorumOperationResult>();
        var statsByNode = new Dictionary<NodeId, QuorumNodeStats>();
        var config = new SimulationConfig
        {
            Seed = options.Seed,
            Topology = topology,
            Network = options.Network,
            Faults = options.Faults,
            RandomFaults = options.RandomFaults,
        };

        var sim = new Simulator<QuorumMessage>(
            config,
            info => info.Role == NodeRole.Server
                ? new QuorumServerNode(ring, options.Protocol, StatsOf(statsByNode, info.Id))
                : new QuorumClientNode(driver, history, ring, options.Protocol.Versioning),
            options.Trace);

        int operations = options.Workload.OperationCount;
        long workloadEndUs = options.Workload.DurationUs is { } duration ? Math.Min(duration, options.DeadlineUs) : options.DeadlineUs;
        bool AllDone() => driver.Issued >= operations && history.PendingCount == 0;
        if (options.RegionPartition && options.Regions >= 2)
        {
            sim.RunUntil(() => driver.Issued >= operations / 3, workloadEndUs);
            sim.Schedule(new ScheduledFault(sim.NowUs, sim.NowUs + options.RegionPartitionUs,
                Fault.RegionPartition(topology, topology.Regions[0], topology.Regions[1])));
        }

        sim.RunUntil(AllDone, workloadEndUs);
        driver.Open = false;
        // Let every in-flight operation end (clients time out at the latest), then let repair run.
        sim.RunUntil(() => history.PendingCount == 0, sim.NowUs + options.Workload.ClientTimeoutUs + 1);
        sim.RunFor(options.QuiesceUs);

        var replicaStates = new Dictionary<string, IReadOnlyList<StoredValue?>>(StringComparer.Ordinal);
        var durableByNode = ring.Members.ToDictionary(m => m.Node, m => sim.DurableStateOf(m.Node));
        foreach (string key in driver.Keys)
        {
            replicaStates[key] = [.. ring.ReplicasOf(key).Select(n => durableByNode[n].TryGet("kv/" + key, out StoredValue? v) ? v : null)];
        }

        var total = new QuorumNodeStats();
        foreach (QuorumNodeStats stats in statsByNode.Values)
        {
            total.Add(stats);
        }

        return new QuorumRunResult(options, QuorumHistory.ToHistory(history.Entries), history.Entries, replicaStates, total, sim, ring);
    }

    private static QuorumNodeStats StatsOf(Dictionary<NodeId, QuorumNodeStats> statsByNode, NodeId node)
    {
        if (!statsByNode.TryGetValue(node, out QuorumNodeStats? stats))
        {
            stats = new QuorumNodeStats();
            statsByNode.Add(node, stats);
        }

        return stats;
    }

    private static void Validate(QuorumRunOptions options)
    {
        var problems = new List<string>();
        problems.AddRange(options.Protocol.Problems());
        problems.AddRange(options.Workload.Problems());
        int servers = options.Regions * options.ServersPerRegion;
        if (options.ReplicationFactor < 1 || options.ReplicationFactor > servers)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"ReplicationFactor must be within [1, {servers}] (the servers); got {options.ReplicationFactor}."));
        }

        if (options.ClientsPerRegion < 1)
        {
            problems.Add("ClientsPerRegion must be at least 1.");
        }

        if (options.QuiesceUs < 0 || options.RegionPartitionUs < 1 || options.DeadlineUs < 1)
        {
            problems.Add("QuiesceUs must be ≥ 0, RegionPartitionUs and DeadlineUs ≥ 1.");
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid quorum run options: " + string.Join(" ", problems), nameof(options));
        }
    }
}

/// <summary>Turns the simulator's recorded entries into a Concord.Checkers history (JSON-lines shape: read/write/cas, µs).</summary>
public static class QuorumHistory
{
    public static History ToHistory(IReadOnlyList<HistoryEntry<QuorumOperation, QuorumOperationResult>> entries) =>
        RecordedHistory.ToHistory(entries, "quorum-sim",
            op => new CheckedOperation(FunctionOf(op.Kind), InputOf(op), op.Key),
            (op, result) => op.Kind is OperationKind.Read or OperationKind.SerialRead ? ValueOf(result!.Values) : null);

    /// <summary>No value → nil, one → that integer, several (siblings, set elements) → a list.</summary>
    public static OperationValue ValueOf(IReadOnlyList<long> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return values.Count switch
        {
            0 => OperationValue.Nil,
            1 => OperationValue.Of(values[0]),
            _ => OperationValue.ListOf(values.Select(OperationValue.Of)),
        };
    }

    private static string FunctionOf(OperationKind kind) => kind switch
    {
        OperationKind.Read or OperationKind.SerialRead => "read",
        OperationKind.Write => "write",
        OperationKind.CompareAndSet or OperationKind.PaxosCompareAndSet => "cas",
        OperationKind.Increment => "increment",
        _ => "add",
    };

    private static OperationValue InputOf(QuorumOperation op) => op.Kind switch
    {
        OperationKind.Read or OperationKind.SerialRead => OperationValue.Nil,
        OperationKind.CompareAndSet or OperationKind.PaxosCompareAndSet => OperationValue.ListOf(op.Expected is { } e ? OperationValue.Of(e) : OperationValue.Nil, OperationValue.Of(op.Value)),
        _ => OperationValue.Of(op.Value),
    };
}
