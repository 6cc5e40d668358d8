using Concord.Core;
using Concord.Core.Randomness;

namespace Concord.Simulation.Faults;

/// <summary>
/// Rates for a fault schedule drawn from the seed. Each kind of fault is a Bernoulli process over
/// <see cref="TickUs"/> ticks (a discrete Poisson process, so no transcendental functions whose last
/// bits may differ between platforms), drawn from its own derived stream: changing one rate never
/// moves the faults of another kind. Only servers are faulted; clients are the observers.
/// </summary>
public sealed record RandomFaultConfig
{
    public const long TickUs = 10_000;
    public const double RatePerSecondMax = 100;

    /// <summary>Faults start within [<see cref="StartUs"/>, <see cref="HorizonUs"/>).</summary>
    public long StartUs { get; init; }

    public long HorizonUs { get; init; } = 10_000_000;

    public double RegionPartitionsPerSecond { get; init; }

    public double NodeIsolationsPerSecond { get; init; }

    /// <summary>Asymmetric partitions: a server that cannot send, or cannot hear, or one region cut off from another one way.</summary>
    public double OneWayPartitionsPerSecond { get; init; }

    public double CrashesPerSecond { get; init; }

    public double PausesPerSecond { get; init; }

    public double SlowNodesPerSecond { get; init; }

    /// <summary>Wall-clock steps of up to ±<see cref="ClockOffsetUsMax"/>.</summary>
    public double ClockJumpsPerSecond { get; init; }

    /// <summary>Partitions, crashes, slow nodes and clock jumps last uniformly within [min, max].</summary>
    public long FaultDurationUsMin { get; init; } = 100_000;

    public long FaultDurationUsMax { get; init; } = 2_000_000;

    /// <summary>Pauses last uniformly within [1 ms, <see cref="PauseUsMax"/>].</summary>
    public long PauseUsMax { get; init; } = 300_000;

    /// <summary>Crash windows that would leave more than this many servers down at once are skipped.</summary>
    public int CrashedServersMax { get; init; } = 1;

    /// <summary>Every server starts with an offset uniform within ±this (0: perfect clocks).</summary>
    public long ClockOffsetUsMax { get; init; }

    /// <summary>Every server starts with a drift uniform within ±this.</summary>
    public long ClockDriftPpmMax { get; init; }

    public long SlowProcessingDelayUsMax { get; init; } = 5_000;

    /// <summary>Something of everything, a few times per simulated second.</summary>
    public static RandomFaultConfig Moderate { get; } = new()
    {
        RegionPartitionsPerSecond = 0.2,
        NodeIsolationsPerSecond = 0.2,
        OneWayPartitionsPerSecond = 0.2,
        CrashesPerSecond = 0.3,
        PausesPerSecond = 0.3,
        SlowNodesPerSecond = 0.2,
        ClockJumpsPerSecond = 0.1,
        ClockOffsetUsMax = 50_000,
        ClockDriftPpmMax = 200,
    };

    /// <summary>
    /// For safety sweeps: isolations and one-way partitions once a simulated second, 1.5 crash
    /// windows (up to two servers down at once), pauses, clock jumps, ±50 ms initial skew and
    /// ±500 ppm drift; faults last 50–600 ms. A sweep sets its own horizon.
    /// </summary>
    public static RandomFaultConfig Heavy { get; } = new()
    {
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
    };

    internal void Validate(Topology topology, List<string> errors)
    {
        const string P = "RandomFaults";
        if (StartUs < 0 || HorizonUs <= StartUs)
        {
            errors.Add($"{P}: need 0 ≤ StartUs < HorizonUs; got StartUs={StartUs}, HorizonUs={HorizonUs}.");
        }

        CheckRate(nameof(RegionPartitionsPerSecond), RegionPartitionsPerSecond, errors);
        CheckRate(nameof(NodeIsolationsPerSecond), NodeIsolationsPerSecond, errors);
        CheckRate(nameof(OneWayPartitionsPerSecond), OneWayPartitionsPerSecond, errors);
        CheckRate(nameof(CrashesPerSecond), CrashesPerSecond, errors);
        CheckRate(nameof(PausesPerSecond), PausesPerSecond, errors);
        CheckRate(nameof(SlowNodesPerSecond), SlowNodesPerSecond, errors);
        CheckRate(nameof(ClockJumpsPerSecond), ClockJumpsPerSecond, errors);
        if (RegionPartitionsPerSecond > 0 && topology.Regions.Count < 2)
        {
            errors.Add($"{P}.RegionPartitionsPerSecond needs at least two regions; the topology has one.");
        }

        if (FaultDurationUsMin < 1 || FaultDurationUsMax < FaultDurationUsMin)
        {
            errors.Add($"{P}: need 1 ≤ FaultDurationUsMin ≤ FaultDurationUsMax; got {FaultDurationUsMin} and {FaultDurationUsMax}.");
        }

        if (PauseUsMax < 1_000)
        {
            errors.Add($"{P}.PauseUsMax must be ≥ 1000 µs; got {PauseUsMax}.");
        }

        if (CrashedServersMax < 0 || CrashedServersMax > topology.Servers.Count)
        {
            errors.Add($"{P}.CrashedServersMax must be within [0, {topology.Servers.Count}] (the server count); got {CrashedServersMax}.");
        }

        if (ClockOffsetUsMax is < 0 or > ClockFault.OffsetUsLimit)
        {
            errors.Add($"{P}.ClockOffsetUsMax must be within [0, {ClockFault.OffsetUsLimit}] µs; got {ClockOffsetUsMax}.");
        }

        if (ClockDriftPpmMax is < 0 or > ClockFault.DriftPpmLimit)
        {
            errors.Add($"{P}.ClockDriftPpmMax must be within [0, {ClockFault.DriftPpmLimit}] ppm; got {ClockDriftPpmMax}.");
        }

        if (SlowProcessingDelayUsMax is < 0 or > SlowNodeFault.ProcessingDelayUsMax)
        {
            errors.Add($"{P}.SlowProcessingDelayUsMax must be within [0, {SlowNodeFault.ProcessingDelayUsMax}] µs; got {SlowProcessingDelayUsMax}.");
        }

        if (topology.Servers.Count == 0)
        {
            errors.Add($"{P} needs at least one server to fault.");
        }

        static void CheckRate(string name, double rate, List<string> errors)
        {
            if (!(rate >= 0 && rate <= RatePerSecondMax))
            {
                errors.Add($"{P}.{name} must be within [0, {RatePerSecondMax}] per second; got {rate}.");
            }
        }
    }

    /// <summary>
    /// The schedule for <paramref name="random"/> (the simulator passes <c>root.Derive("faults")</c>),
    /// ordered by start time. A pure function of its inputs; print it to see what a seed does.
    /// </summary>
    public IReadOnlyList<ScheduledFault> Generate(Topology topology, SeededRandom random)
    {
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(random);
        var errors = new List<string>();
        Validate(topology, errors);
        if (errors.Count > 0)
        {
            throw new SimulationConfigException(errors);
        }

        var faults = new List<ScheduledFault>();
        IReadOnlyList<NodeId> servers = topology.Servers;

        SeededRandom clocks = random.Derive("clocks");
        if (ClockOffsetUsMax > 0 || ClockDriftPpmMax > 0)
        {
            foreach (NodeId server in servers)
            {
                faults.Add(ScheduledFault.From(0, new ClockFault(server, Symmetric(clocks, ClockOffsetUsMax), Symmetric(clocks, ClockDriftPpmMax))));
            }
        }

        Arrivals(random.Derive("region-partition"), RegionPartitionsPerSecond, (r, start) =>
        {
            int a = r.NextInt(topology.Regions.Count);
            int b = (a + 1 + r.NextInt(topology.Regions.Count - 1)) % topology.Regions.Count;
            faults.Add(new(start, start + Duration(r), Fault.RegionPartition(topology, topology.Regions[a], topology.Regions[b])));
        });

        Arrivals(random.Derive("isolation"), NodeIsolationsPerSecond, (r, start) =>
            faults.Add(new(start, start + Duration(r), Fault.Isolate(topology, Pick(r, servers)))));

        Arrivals(random.Derive("one-way"), OneWayPartitionsPerSecond, (r, start) =>
        {
            long end = start + Duration(r);
            int shape = r.NextInt(topology.Regions.Count >= 2 ? 3 : 2);
            NodeId server = Pick(r, servers);
            NodeId[] others = [.. topology.Nodes.Select(n => n.Id).Where(id => id != server)];
            if (shape == 0)
            {
                faults.Add(new(start, end, Fault.OneWay([server], others)));
            }
            else if (shape == 1)
            {
                faults.Add(new(start, end, Fault.OneWay(others, [server])));
            }
            else
            {
                int a = r.NextInt(topology.Regions.Count);
                int b = (a + 1 + r.NextInt(topology.Regions.Count - 1)) % topology.Regions.Count;
                faults.Add(new(start, end, Fault.OneWay(topology, topology.Regions[a], topology.Regions[b])));
            }
        });

        var crashes = new List<ScheduledFault>();
        Arrivals(random.Derive("crash"), CrashesPerSecond, (r, start) =>
        {
            var crash = new ScheduledFault(start, start + Duration(r), new CrashFault(Pick(r, servers)));
            if (CanCrash(crashes, crash))
            {
                crashes.Add(crash);
                faults.Add(crash);
            }
        });

        Arrivals(random.Derive("pause"), PausesPerSecond, (r, start) =>
            faults.Add(new(start, start + 1_000 + (long)r.NextUInt64((ulong)(PauseUsMax - 1_000 + 1)), new PauseFault(Pick(r, servers)))));

        Arrivals(random.Derive("slow"), SlowNodesPerSecond, (r, start) =>
            faults.Add(new(start, start + Duration(r), new SlowNodeFault(Pick(r, servers), 1 + (long)r.NextUInt64((ulong)Math.Max(1, SlowProcessingDelayUsMax))))));

        Arrivals(random.Derive("clock-jump"), ClockJumpsPerSecond, (r, start) =>
            faults.Add(new(start, start + Duration(r), new ClockFault(Pick(r, servers), Symmetric(r, Math.Max(1, ClockOffsetUsMax)), Symmetric(r, ClockDriftPpmMax)))));

        // Stable sort: equal start times keep generation order, which is itself seed-determined.
        return [.. faults.OrderBy(f => f.StartUs)];

        long Duration(SeededRandom r) => FaultDurationUsMin + (long)r.NextUInt64((ulong)(FaultDurationUsMax - FaultDurationUsMin + 1));
    }

    private void Arrivals(SeededRandom random, double ratePerSecond, Action<SeededRandom, long> create)
    {
        if (ratePerSecond <= 0)
        {
            return;
        }

        double probabilityPerTick = Math.Min(1.0, ratePerSecond * TickUs / 1_000_000.0);
        for (long tick = StartUs; tick < HorizonUs; tick += TickUs)
        {
            if (random.NextDouble() < probabilityPerTick)
            {
                long start = tick + (long)random.NextUInt64(TickUs);
                if (start < HorizonUs)
                {
                    create(random, start);
                }
            }
        }
    }

    private bool CanCrash(List<ScheduledFault> crashes, ScheduledFault candidate)
    {
        var node = ((CrashFault)candidate.Fault).Node;
        int overlapping = 0;
        foreach (ScheduledFault crash in crashes)
        {
            if (crash.StartUs < candidate.EndUs && candidate.StartUs < crash.EndUs)
            {
                if (((CrashFault)crash.Fault).Node == node)
                {
                    return false;
                }

                overlapping++;
            }
        }

        return overlapping < CrashedServersMax;
    }

    private static NodeId Pick(SeededRandom random, IReadOnlyList<NodeId> nodes)
    {
        Invariant.Assert(nodes.Count > 0);
        return nodes[random.NextInt(nodes.Count)];
    }

    private static long Symmetric(SeededRandom random, long max) => max == 0 ? 0 : (long)random.NextUInt64((ulong)(2 * max) + 1) - max;
}
