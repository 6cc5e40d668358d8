using Concord.Simulation.Faults;
using Concord.Simulation.Network;

namespace Concord.Simulation.Tests;

public class ConfigValidationTests
{
    [Fact]
    public void The_default_config_is_valid() => Assert.Empty(new SimulationConfig().Problems());

    [Fact]
    public void Every_problem_is_reported_at_once_with_its_field()
    {
        var config = new SimulationConfig
        {
            Network = NetworkConfig.Default with
            {
                IntraRegion = LinkProfile.IntraRegionDefault with { LossProbability = 1.5 },
                InterRegion = LinkProfile.InterRegionDefault with { LatencyUs = -1, JitterFraction = 1 },
                NodeOverrides = [new NodeLinkOverride(Sim.N(0), Sim.N(99), LinkProfile.IntraRegionDefault)],
            },
            Faults = [new ScheduledFault(500, 100, new CrashFault(Sim.N(42)))],
            EventQueueCapacityMax = 1,
        };

        var error = Assert.Throws<SimulationConfigException>(() => new Simulator<Probe>(config, _ => new ScriptedNode<Probe>()));

        Assert.Contains(error.Problems, p => p.StartsWith("Network.IntraRegion.LossProbability must be a probability within [0, 1]; got 1.5", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.StartsWith("Network.InterRegion.LatencyUs", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.StartsWith("Network.InterRegion.JitterFraction", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.StartsWith("Network.NodeOverrides[0] names n0 → n99", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.StartsWith("Faults[0].EndUs (100) must be after StartUs (500)", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.StartsWith("Faults[0].Fault names n42", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.StartsWith("EventQueueCapacityMax", StringComparison.Ordinal));
        Assert.Equal(7, error.Problems.Count);
        Assert.Contains("Network.IntraRegion.LossProbability", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Random_fault_rates_and_bounds_are_validated()
    {
        var config = new SimulationConfig
        {
            Topology = Topology.Create(regions: 1, serversPerRegion: 3),
            RandomFaults = new RandomFaultConfig { RegionPartitionsPerSecond = 1, CrashesPerSecond = -1, CrashedServersMax = 4, ClockDriftPpmMax = 2_000_000 },
        };

        IReadOnlyList<string> problems = config.Problems();

        Assert.Contains(problems, p => p.Contains("RegionPartitionsPerSecond needs at least two regions", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("RandomFaults.CrashesPerSecond", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("RandomFaults.CrashedServersMax", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("RandomFaults.ClockDriftPpmMax", StringComparison.Ordinal));
    }

    [Fact]
    public void Clock_and_slow_node_faults_are_bounded()
    {
        var config = new SimulationConfig
        {
            Faults =
            [
                ScheduledFault.From(0, new ClockFault(Sim.N(0), OffsetUs: ClockFault.OffsetUsLimit + 1, DriftPpm: 0)),
                ScheduledFault.From(0, new ClockFault(Sim.N(0), OffsetUs: 0, DriftPpm: -ClockFault.DriftPpmLimit - 1)),
                ScheduledFault.From(0, new SlowNodeFault(Sim.N(0), ProcessingDelayUs: -5)),
                ScheduledFault.From(0, new PartitionFault([], [Sim.N(1)], Bidirectional: true)),
            ],
        };

        IReadOnlyList<string> problems = config.Problems();

        Assert.Contains(problems, p => p.StartsWith("Faults[0].Fault.OffsetUs", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Faults[1].Fault.DriftPpm", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Faults[2].Fault.ProcessingDelayUs", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Faults[3].Fault: a partition needs nodes on both sides", StringComparison.Ordinal));
    }

    [Fact]
    public void Topology_rejects_bad_shapes_clearly()
    {
        Assert.Throws<ArgumentException>(() => Topology.Create([new RegionSpec("eu", 3), new RegionSpec("eu", 3)]));
        Assert.Throws<ArgumentException>(() => Topology.Create([new RegionSpec("eu", 0)]));
        Assert.Throws<ArgumentException>(() => Topology.Create([new RegionSpec("eu", Topology.NodesMax + 1)]));
        Assert.Throws<ArgumentException>(() => Topology.Default.ServersIn("asia"));
    }

    [Fact]
    public void Topology_numbers_servers_before_clients()
    {
        Topology topology = Topology.Create(regions: 2, serversPerRegion: 3, clientsPerRegion: 2);

        Assert.Equal(["eu", "us"], topology.Regions);
        Assert.Equal([0u, 1u, 2u, 3u, 4u, 5u], topology.Servers.Select(n => n.Value));
        Assert.Equal([6u, 7u, 8u, 9u], topology.Clients.Select(n => n.Value));
        Assert.Equal([3u, 4u, 5u, 8u, 9u], topology.NodesIn("us").Select(n => n.Value));
        Assert.Equal("c1@eu", topology[Sim.N(7)].Name);
        Assert.Equal(NodeRole.Client, topology[Sim.N(7)].Role);
    }

    [Fact]
    public void Scheduling_a_fault_in_the_past_is_refused()
    {
        var simulator = new Simulator<Probe>(new SimulationConfig(), _ => new ScriptedNode<Probe>());
        simulator.RunUntil(1_000);
        Assert.Throws<SimulationConfigException>(() => simulator.Schedule(new ScheduledFault(500, 2_000, new PauseFault(Sim.N(0)))));
    }
}
