using System.Globalization;
using Concord.Core;
using Concord.Simulation;
using Concord.Simulation.Faults;
using Concord.Simulation.Network;

namespace Concord.Experiments.Commerce;

/// <summary>
/// Maps a <see cref="PlatformScenario"/> onto the simulator: regions and nodes, link profiles and the
/// fault schedule. Every boundary run (and the workflow run) uses this one mapping, so they all see
/// the same topology and the same faults at the same simulated times.
/// </summary>
public static class PlatformSimulation
{
    /// <summary>
    /// One region per scenario region: its servers, then one client per customer. With
    /// <paramref name="extraClientsInFirstRegion"/>, that many more clients in the first region (an
    /// admin who updates prices, say); they get the highest client indexes there.
    /// </summary>
    public static Topology Topology(PlatformScenario scenario, int extraClientsInFirstRegion = 0)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        return Simulation.Topology.Create([.. scenario.Topology.Regions.Select((r, i) =>
            new RegionSpec(r.Name, r.Servers, r.Customers + (i == 0 ? extraClientsInFirstRegion : 0)))]);
    }

    public static NetworkConfig Network(PlatformScenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        PlatformTopology topology = scenario.Topology;
        var overrides = new List<RegionLinkOverride>();
        foreach (LinkSpecification link in topology.Links)
        {
            var profile = new LinkProfile
            {
                LatencyUs = Us(link.LatencyMs),
                JitterFraction = link.JitterFraction,
                LossProbability = link.LossRate,
            };
            overrides.Add(new RegionLinkOverride(link.From, link.To, profile));
            overrides.Add(new RegionLinkOverride(link.To, link.From, profile));
        }

        return NetworkConfig.Default with
        {
            IntraRegion = LinkProfile.IntraRegionDefault with { LatencyUs = Math.Max(1, Us(topology.IntraRegionLatencyMs)) },
            RegionOverrides = overrides,
        };
    }

    /// <summary>
    /// The scenario's faults as simulator faults. <see cref="FaultKind.LeaderFailover"/> needs to know
    /// who leads at that moment, which only the running boundary knows: <paramref name="leaderAt"/>
    /// is asked for it when the fault is due (see <see cref="ScheduleLeaderFailovers"/>); here it is
    /// left out.
    /// </summary>
    public static IReadOnlyList<ScheduledFault> StaticFaults(PlatformScenario scenario, Topology topology)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(topology);
        var faults = new List<ScheduledFault>();
        foreach (PlatformFault fault in scenario.Faults)
        {
            long start = Us(fault.AtMs);
            long end = fault.DurationMs > 0 ? start + Us(fault.DurationMs) : ScheduledFault.Forever;
            Fault? simulated = fault.Kind switch
            {
                FaultKind.Partition => Fault.RegionPartition(topology, fault.Region!, fault.OtherRegion!),
                FaultKind.Crash => new CrashFault(Server(topology, fault.Node!)),
                FaultKind.ClockSkew => new ClockFault(Server(topology, fault.Node!), Us(fault.SkewMs), (long)Math.Round(fault.DriftPpm)),
                _ => null,
            };
            if (simulated is not null)
            {
                faults.Add(new ScheduledFault(start, end, simulated));
            }
        }

        return faults;
    }

    /// <summary>
    /// Runs the simulator up to each leader failover in turn and crashes whoever <paramref name="leader"/>
    /// names then (it restarts after the fault's duration). Returns when every failover is scheduled;
    /// the caller runs the rest.
    /// </summary>
    public static void ScheduleLeaderFailovers<TMessage>(PlatformScenario scenario, Simulator<TMessage> simulator, Func<NodeId> leader)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(simulator);
        ArgumentNullException.ThrowIfNull(leader);
        foreach (PlatformFault fault in scenario.Faults.Where(f => f.Kind == FaultKind.LeaderFailover).OrderBy(f => f.AtMs))
        {
            long start = Us(fault.AtMs);
            simulator.RunUntil(start);
            long end = fault.DurationMs > 0 ? start + Us(fault.DurationMs) : ScheduledFault.Forever;
            simulator.Schedule(new ScheduledFault(simulator.NowUs, end, new CrashFault(leader())));
        }
    }

    /// <summary>Faults as the deck's timeline shows them: label and simulated interval in ms.</summary>
    public static IReadOnlyList<(string Label, double StartMs, double EndMs)> Markers(PlatformScenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        return [.. scenario.Faults.Select(f => (Label(f), (double)f.AtMs, (double)(f.AtMs + Math.Max(0, f.DurationMs))))];
    }

    static string Label(PlatformFault fault) => fault.Kind switch
    {
        FaultKind.Partition => $"partition {fault.Region}|{fault.OtherRegion}",
        FaultKind.Crash => $"crash {fault.Node}",
        FaultKind.LeaderFailover => "leader failover",
        _ => string.Create(CultureInfo.InvariantCulture, $"clock skew {fault.Node} {fault.SkewMs:+0.#;-0.#} ms"),
    };

    /// <summary><c>eu-1</c> → eu's first server.</summary>
    public static NodeId Server(Topology topology, string name)
    {
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(name);
        int dash = name.LastIndexOf('-');
        if (dash > 0
            && int.TryParse(name.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int k)
            && topology.Regions.Contains(name[..dash])
            && topology.ServersIn(name[..dash]) is { } servers
            && k >= 1 && k <= servers.Count)
        {
            return servers[k - 1];
        }

        throw new ArgumentException($"No server named '{name}': servers are <region>-<k>, k from 1.", nameof(name));
    }

    internal static long Us(double ms) => (long)Math.Round(ms * 1000);
}
