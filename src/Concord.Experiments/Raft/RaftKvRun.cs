using System.Globalization;
using Concord.Checkers.Histories;
using Concord.Core;
using Concord.Replication.Raft;
using Concord.Simulation;
using Concord.Simulation.Faults;
using Concord.Simulation.History;
using Concord.Simulation.Network;
using Concord.Simulation.Nodes;
using Concord.Simulation.Tracing;

namespace Concord.Experiments.Raft;

/// <summary>Everything that determines one Raft KV run on the simulator.</summary>
public sealed record RaftKvRunOptions
{
    public ulong Seed { get; init; } = 1;

    public int Regions { get; init; } = 1;

    public int ServersPerRegion { get; init; } = 3;

    public int ClientsPerRegion { get; init; } = 3;

    /// <summary>One Raft tick, on each server's own (drifting) monotonic clock.</summary>
    public long TickUs { get; init; } = 10_000;

    public int ElectionTicks { get; init; } = 10;

    public int HeartbeatTicks { get; init; } = 2;

    public int EntriesPerAppendMax { get; init; } = 32;

    public int InflightAppendsMax { get; init; } = 4;

    public RaftKvWorkloadOptions Workload { get; init; } = new();

    public NetworkConfig Network { get; init; } = NetworkConfig.Default;

    public IReadOnlyList<ScheduledFault> Faults { get; init; } = [];

    public RandomFaultConfig? RandomFaults { get; init; }

    /// <summary>Hard stop for the workload, in simulated time.</summary>
    public long DeadlineUs { get; init; } = 60_000_000;

    public TraceOptions<RaftKvMessage>? Trace { get; init; }

    /// <summary>Negative control: leaders commit without a majority. The safety checks must catch it.</summary>
    internal bool CommitBeforeMajority { get; init; }

    /// <summary>
    /// Short runs under heavy faults for safety sweeps: isolations, one-way partitions, up to two
    /// crashed servers, pauses, clock jumps and ±500 ppm drift, 2% loss, 1% duplicates. Odd seeds run
    /// three servers (one crash away from no quorum), even seeds five.
    /// </summary>
    public static RaftKvRunOptions Chaos(ulong seed) => new()
    {
        Seed = seed,
        ServersPerRegion = seed % 2 == 0 ? 5 : 3,
        Workload = new RaftKvWorkloadOptions { OperationCount = 300, ThinkTimeUsMax = 20_000 },
        DeadlineUs = 3_000_000,
        Network = NetworkConfig.Default.WithAllLinks(p => p with { LossProbability = 0.02, DuplicateProbability = 0.01 }),
        RandomFaults = new RandomFaultConfig
        {
            HorizonUs = 3_000_000,
            NodeIsolationsPerSecond = 1,
            OneWayPartitionsPerSecond = 1,
            CrashesPerSecond = 1.5,
            PausesPerSecond = 1,
            ClockJumpsPerSecond = 0.5,
            FaultDurationUsMin = 50_000,
            FaultDurationUsMax = 600_000,
            CrashedServersMax = 2,
            ClockOffsetUsMax = 50_000,
            ClockDriftPpmMax = 500,
        },
    };
}

/// <summary>A finished run: the client history for the checkers and what the safety monitor saw.</summary>
public sealed class RaftKvRunResult
{
    internal RaftKvRunResult(RaftKvRunOptions options, IReadOnlyList<HistoryEntry<KvOperation, KvResult>> entries, RaftSafetyMonitor monitor, Simulator<RaftKvMessage> simulator)
    {
        Options = options;
        Entries = entries;
        History = RaftKvHistory.ToHistory(entries);
        LeadersElected = monitor.LeadersElected;
        CommittedIndexMax = monitor.CommittedIndexMax;
        TraceHash = simulator.TraceHash;
        SimulatedUs = simulator.NowUs;
        FaultPlan = simulator.FaultPlan;
    }

    public RaftKvRunOptions Options { get; }

    public ulong Seed => Options.Seed;

    public IReadOnlyList<HistoryEntry<KvOperation, KvResult>> Entries { get; }

    /// <summary>In Concord.Checkers' cas-register vocabulary: read, write, cas; times in simulated µs.</summary>
    public History History { get; }

    public int LeadersElected { get; }

    public long CommittedIndexMax { get; }

    public int Acknowledged => Entries.Count(e => e.Completion == CompletionType.Ok);

    public ulong TraceHash { get; }

    public long SimulatedUs { get; }

    public IReadOnlyList<ScheduledFault> FaultPlan { get; }
}

/// <summary>Runs clients against a simulated Raft KV group with Raft's safety checked after every handler.</summary>
public static class RaftKvRun
{
    public static RaftKvRunResult Execute(RaftKvRunOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        var topology = Topology.Create(options.Regions, options.ServersPerRegion, options.ClientsPerRegion);
        var raftConfig = new RaftConfig
        {
            Voters = topology.Servers,
            ElectionTicks = options.ElectionTicks,
            HeartbeatTicks = options.HeartbeatTicks,
            EntriesPerAppendMax = options.EntriesPerAppendMax,
            InflightAppendsMax = options.InflightAppendsMax,
            UnsafeCommitWithoutMajority = options.CommitBeforeMajority,
        };
        var monitor = new RaftSafetyMonitor();
        var workload = new RaftKvWorkload(options.Workload);
        var history = new HistoryRecorder<KvOperation, KvResult>();
        var config = new SimulationConfig
        {
            Seed = options.Seed,
            Topology = topology,
            Network = options.Network,
            Faults = options.Faults,
            RandomFaults = options.RandomFaults,
        };
        var sim = new Simulator<RaftKvMessage>(
            config,
            info => info.Role == NodeRole.Server
                ? new RaftServerNode(raftConfig, options.TickUs, monitor)
                : new RaftKvClientNode(workload, history),
            options.Trace);

        sim.RunUntil(() => workload.Issued >= options.Workload.OperationCount && history.PendingCount == 0, options.DeadlineUs);
        workload.Open = false;
        sim.RunUntil(() => history.PendingCount == 0, sim.NowUs + options.Workload.ClientTimeoutUs + 1);
        return new RaftKvRunResult(options, history.Entries, monitor, sim);
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
