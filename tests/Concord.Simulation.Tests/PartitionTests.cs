using Concord.Core;
using Concord.Simulation.Faults;

namespace Concord.Simulation.Tests;

public class PartitionTests
{
    private const long StartUs = 200_000;
    private const long HealUs = 400_000;

    [Fact]
    public void No_message_crosses_a_region_partition_and_traffic_resumes_after_heal()
    {
        List<Receipt> receipts = Run(ScheduledAt(Fault.RegionPartition(Topology.Default, "eu", "us")));

        Assert.DoesNotContain(receipts, r => r.AtUs is >= StartUs and < HealUs);
        Assert.DoesNotContain(receipts, r => r.Probe.SentUs is >= StartUs and < HealUs);
        Assert.Contains(receipts, r => r.To == Sim.N(3) && r.AtUs >= HealUs);
        Assert.Contains(receipts, r => r.To == Sim.N(0) && r.AtUs >= HealUs);
    }

    [Fact]
    public void Negative_control_without_the_partition_messages_flow_during_the_window()
    {
        List<Receipt> receipts = Run();
        Assert.Contains(receipts, r => r.To == Sim.N(3) && r.AtUs is >= StartUs and < HealUs);
        Assert.Contains(receipts, r => r.To == Sim.N(0) && r.AtUs is >= StartUs and < HealUs);
    }

    [Fact]
    public void An_asymmetric_partition_drops_one_direction_only()
    {
        List<Receipt> receipts = Run(ScheduledAt(Fault.OneWay(Topology.Default, "eu", "us")));

        Assert.DoesNotContain(receipts, r => r.To == Sim.N(3) && r.AtUs is >= StartUs and < HealUs);
        Assert.Contains(receipts, r => r.To == Sim.N(0) && r.AtUs is >= StartUs and < HealUs);
        Assert.Contains(receipts, r => r.To == Sim.N(3) && r.AtUs >= HealUs);
    }

    [Fact]
    public void An_isolated_node_neither_sends_nor_hears_while_others_still_talk()
    {
        var simulator = new Simulator<Probe>(
            new SimulationConfig { Seed = 21, Faults = [ScheduledAt(Fault.Isolate(Topology.Default, Sim.N(1)))] },
            Sim.PeriodicSenders(Log(out List<Receipt> receipts), 1_000, self => self.Value switch
            {
                0 => [Sim.N(1), Sim.N(2)],
                1 => [Sim.N(0)],
                _ => [],
            }));
        simulator.RunUntil(600_000);

        Assert.DoesNotContain(receipts, r => (r.To == Sim.N(1) || r.From == Sim.N(1)) && r.AtUs is >= StartUs and < HealUs);
        Assert.Contains(receipts, r => r.To == Sim.N(2) && r.AtUs is >= StartUs and < HealUs);
        Assert.Contains(receipts, r => r.To == Sim.N(1) && r.AtUs >= HealUs);
        Assert.True(simulator.Stats.MessagesDroppedByPartition > 0);
    }

    [Fact]
    public void Overlapping_partitions_keep_the_link_cut_until_the_last_one_heals()
    {
        PartitionFault cut = Fault.RegionPartition(Topology.Default, "eu", "us");
        List<Receipt> receipts = Run(new ScheduledFault(100_000, 300_000, cut), new ScheduledFault(200_000, 400_000, cut));

        Assert.DoesNotContain(receipts, r => r.AtUs is >= 100_000 and < 400_000);
        Assert.Contains(receipts, r => r.AtUs >= 400_000);
    }

    private static ScheduledFault ScheduledAt(Fault fault) => new(StartUs, HealUs, fault);

    /// <summary>n0 (eu) and n3 (us) send each other a probe every millisecond for 600 ms.</summary>
    private static List<Receipt> Run(params ScheduledFault[] faults)
    {
        var simulator = new Simulator<Probe>(
            new SimulationConfig { Seed = 20, Faults = faults },
            Sim.PeriodicSenders(Log(out List<Receipt> receipts), 1_000, self => self.Value switch
            {
                0 => [Sim.N(3)],
                3 => [Sim.N(0)],
                _ => [],
            }));
        simulator.RunUntil(600_000);
        return receipts;
    }

    private static List<Receipt> Log(out List<Receipt> receipts) => receipts = [];
}
