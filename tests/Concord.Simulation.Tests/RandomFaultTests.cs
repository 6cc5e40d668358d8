using Concord.Core;
using Concord.Core.Randomness;
using Concord.Simulation.Faults;

namespace Concord.Simulation.Tests;

public class RandomFaultTests
{
    private static readonly Topology Cluster = Topology.Create(regions: 2, serversPerRegion: 3, clientsPerRegion: 1);

    private static readonly RandomFaultConfig Busy = RandomFaultConfig.Moderate with
    {
        HorizonUs = 20_000_000,
        CrashesPerSecond = 3,
        CrashedServersMax = 2,
        PausesPerSecond = 2,
    };

    [Fact]
    public void The_same_seed_gives_the_same_plan_and_another_seed_another()
    {
        string Plan(ulong seed) => string.Join("\n", Busy.Generate(Cluster, new SeededRandom(seed)));

        Assert.Equal(Plan(5), Plan(5));
        Assert.NotEqual(Plan(5), Plan(6));
    }

    [Fact]
    public void The_plan_is_ordered_within_the_horizon_and_spares_clients()
    {
        IReadOnlyList<ScheduledFault> plan = Busy.Generate(Cluster, new SeededRandom(7));

        Assert.Equal(plan.Select(f => f.StartUs).Order(), plan.Select(f => f.StartUs));
        Assert.All(plan, f => Assert.InRange(f.StartUs, 0, Busy.HorizonUs - 1));
        Assert.All(plan, f => Assert.True(f.EndUs > f.StartUs));
        IEnumerable<NodeId> targets = plan.Select(f => f.Fault).SelectMany(f => f switch
        {
            CrashFault c => [c.Node],
            PauseFault p => [p.Node],
            ClockFault c => [c.Node],
            SlowNodeFault s => [s.Node],
            _ => Array.Empty<NodeId>(),
        });
        Assert.All(targets, node => Assert.Contains(node, Cluster.Servers));
        Assert.Contains(plan, f => f.Fault is PartitionFault { Bidirectional: false });
        Assert.Contains(plan, f => f.Fault is PartitionFault { Bidirectional: true });
    }

    [Fact]
    public void Never_more_crashed_servers_than_allowed_at_once()
    {
        foreach (ulong seed in new ulong[] { 1, 2, 3, 4, 5 })
        {
            ScheduledFault[] crashes = [.. Busy.Generate(Cluster, new SeededRandom(seed)).Where(f => f.Fault is CrashFault)];
            Assert.True(crashes.Length > 10);
            for (long t = 0; t < Busy.HorizonUs; t += 10_000)
            {
                ScheduledFault[] down = [.. crashes.Where(c => c.StartUs <= t && t < c.EndUs)];
                Assert.True(down.Length <= Busy.CrashedServersMax);
                Assert.Equal(down.Length, down.Select(c => ((CrashFault)c.Fault).Node).Distinct().Count());
            }
        }
    }

    [Fact]
    public void Changing_one_rate_does_not_move_the_other_faults()
    {
        IReadOnlyList<ScheduledFault> baseline = Busy.Generate(Cluster, new SeededRandom(8));
        IReadOnlyList<ScheduledFault> morePauses = (Busy with { PausesPerSecond = 10 }).Generate(Cluster, new SeededRandom(8));

        Assert.Equal(
            baseline.Where(f => f.Fault is not PauseFault).Select(f => f.ToString()),
            morePauses.Where(f => f.Fault is not PauseFault).Select(f => f.ToString()));
    }

    [Fact]
    public void The_simulator_applies_the_random_plan_and_exposes_it()
    {
        var simulator = new Simulator<Probe>(new SimulationConfig { Seed = 9, Topology = Cluster, RandomFaults = Busy }, _ => new ScriptedNode<Probe>());
        simulator.RunUntil(Busy.HorizonUs + 3_000_000);

        Assert.Equal(simulator.FaultPlan.Count(f => f.Fault is CrashFault), simulator.Stats.Crashes);
        Assert.Equal(simulator.Stats.Crashes, simulator.Stats.Restarts);
        Assert.All(Cluster.Nodes, n => Assert.True(simulator.IsUp(n.Id)));
    }
}
