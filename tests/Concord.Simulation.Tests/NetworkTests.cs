using Concord.Core;
using Concord.Simulation.Network;
using Concord.Simulation.Nodes;

namespace Concord.Simulation.Tests;

public class NetworkTests
{
    private const int Messages = 20_000;

    [Fact]
    public void Median_one_way_latency_is_half_a_millisecond_inside_a_region_and_40_ms_between_regions()
    {
        // n0 (eu) sends to n1 (eu) and n3 (us) every 50 µs.
        List<Receipt> receipts = RunProbes(new SimulationConfig { Seed = 11 }, from: 0, to: [1, 3], count: Messages);

        long[] intra = Latencies(receipts, to: 1);
        long[] inter = Latencies(receipts, to: 3);
        Assert.Equal(Messages, intra.Length);
        Assert.Equal(Messages, inter.Length);
        Assert.InRange(Median(intra), 495, 505);
        Assert.InRange(Median(inter), 39_600, 40_400);

        // Default jitter is ±10% and uniform, so the extremes sit near the bounds and never beyond.
        Assert.InRange(intra.Min(), 450, 460);
        Assert.InRange(intra.Max(), 540, 550);
        Assert.InRange(inter.Min(), 36_000, 36_400);
        Assert.InRange(inter.Max(), 43_600, 44_000);
    }

    [Fact]
    public void Heavy_tail_stretches_a_few_messages_up_to_the_cap()
    {
        var config = new SimulationConfig
        {
            Seed = 12,
            Network = NetworkConfig.Default with
            {
                IntraRegion = LinkProfile.IntraRegionDefault with { TailProbability = 0.02, TailParetoShape = 1.2, TailMultiplierMax = 20 },
            },
        };
        long[] latencies = Latencies(RunProbes(config, from: 0, to: [1], count: Messages), to: 1);
        long[] sorted = [.. latencies.Order()];
        long p50 = sorted[sorted.Length / 2];
        long p999 = sorted[(int)(sorted.Length * 0.999)];
        int stretched = latencies.Count(l => l > 550);

        Assert.InRange(p50, 495, 510);
        Assert.True(p999 > 2 * 500, $"p99.9 = {p999} µs");
        Assert.True(latencies.Max() <= 550 * 20, $"max = {latencies.Max()} µs");

        // 2% take the tail; a Pareto(1.2) multiplier exceeds 1.1 with probability 1.1^-1.2 ≈ 0.89.
        double rate = stretched / (double)Messages;
        Assert.InRange(rate, 0.012, 0.024);
    }

    [Fact]
    public void Loss_and_duplication_rates_are_within_statistical_bounds()
    {
        const double Loss = 0.1;
        const double Duplicate = 0.05;
        var config = new SimulationConfig
        {
            Seed = 13,
            Network = NetworkConfig.Default with
            {
                IntraRegion = LinkProfile.IntraRegionDefault with { LossProbability = Loss, DuplicateProbability = Duplicate },
            },
        };
        var simulator = new Simulator<Probe>(config, Senders(new List<Receipt>(), from: 0, to: [1], count: Messages, out List<Receipt> receipts));
        simulator.RunUntil(5_000_000);

        int distinct = receipts.Select(r => r.Probe.Sequence).Distinct().Count();
        int copies = receipts.Count - distinct;
        double lossRate = 1 - (distinct / (double)Messages);
        double duplicateRate = copies / (double)distinct;

        // Five standard deviations: a false alarm about once in 1.7 million runs.
        Assert.InRange(lossRate, Loss - FiveSigma(Loss, Messages), Loss + FiveSigma(Loss, Messages));
        Assert.InRange(duplicateRate, Duplicate - FiveSigma(Duplicate, distinct), Duplicate + FiveSigma(Duplicate, distinct));
        Assert.Equal(simulator.Stats.MessagesLost, Messages - distinct);
        Assert.Equal(simulator.Stats.MessagesDuplicated, copies);
        Assert.Equal(simulator.Stats.MessagesDelivered, receipts.Count);
    }

    [Fact]
    public void Negative_control_a_lossless_link_loses_and_duplicates_nothing()
    {
        var simulator = new Simulator<Probe>(new SimulationConfig { Seed = 13 }, Senders([], from: 0, to: [1], count: 5_000, out List<Receipt> receipts));
        simulator.RunUntil(5_000_000);
        Assert.Equal(5_000, receipts.Count);
        Assert.Equal(5_000, receipts.Select(r => r.Probe.Sequence).Distinct().Count());
    }

    [Fact]
    public void Jitter_reorders_messages_unless_the_link_is_fifo()
    {
        NetworkConfig jittery = NetworkConfig.Default.WithAllLinks(l => l with { JitterFraction = 0.9 });
        int Inversions(NetworkConfig network)
        {
            List<Receipt> receipts = RunProbes(new SimulationConfig { Seed = 14, Network = network }, from: 0, to: [1], count: 2_000);
            return receipts.Zip(receipts.Skip(1)).Count(pair => pair.Second.Probe.Sequence < pair.First.Probe.Sequence);
        }

        Assert.True(Inversions(jittery) > 100);
        Assert.Equal(0, Inversions(jittery.WithAllLinks(l => l with { Fifo = true })));
    }

    [Fact]
    public void A_message_to_self_skips_the_network()
    {
        var config = new SimulationConfig
        {
            Seed = 15,
            Network = NetworkConfig.Default.WithAllLinks(l => l with { LossProbability = 1 }),
        };
        var receipts = new List<Receipt>();
        var simulator = new Simulator<Probe>(config, info => new ScriptedNode<Probe>
        {
            Started = context =>
            {
                if (context.Self == Sim.N(0))
                {
                    for (int i = 0; i < 50; i++)
                    {
                        context.Send(context.Self, new Probe(context.LocalNowUs, i));
                    }
                }
            },
            Received = (from, probe, context) => receipts.Add(new(from, context.Self, context.LocalNowUs, probe)),
        });
        simulator.RunUntil(1_000);

        Assert.Equal(50, receipts.Count);
        Assert.All(receipts, r => Assert.Equal(0, r.AtUs));

        // Equal delivery times keep send order: the (time, sequence) tie-break.
        Assert.Equal(Enumerable.Range(0, 50).Select(i => (long)i), receipts.Select(r => r.Probe.Sequence));
    }

    [Fact]
    public void Node_and_region_overrides_win_over_the_defaults()
    {
        var config = new SimulationConfig
        {
            Seed = 16,
            Network = NetworkConfig.Default with
            {
                RegionOverrides = [new RegionLinkOverride("eu", "us", new LinkProfile { LatencyUs = 80_000, JitterFraction = 0 })],
                NodeOverrides = [new NodeLinkOverride(Sim.N(0), Sim.N(1), new LinkProfile { LatencyUs = 7, JitterFraction = 0 })],
            },
        };
        List<Receipt> receipts = RunProbes(config, from: 0, to: [1, 2, 3], count: 10);

        Assert.All(Latencies(receipts, to: 1), l => Assert.Equal(7, l));
        Assert.All(Latencies(receipts, to: 3), l => Assert.Equal(80_000, l));
        Assert.All(Latencies(receipts, to: 2), l => Assert.InRange(l, 450, 550));
    }

    internal static List<Receipt> RunProbes(SimulationConfig config, uint from, uint[] to, int count)
    {
        var simulator = new Simulator<Probe>(config, Senders([], from, to, count, out List<Receipt> receipts));
        simulator.RunUntil(60_000_000);
        return receipts;
    }

    /// <summary>Node <paramref name="from"/> sends <paramref name="count"/> probes to each target, one round every 50 µs.</summary>
    internal static Func<NodeInfo, INode<Probe>> Senders(List<Receipt> log, uint from, uint[] to, int count, out List<Receipt> receipts)
    {
        receipts = log;
        return info =>
        {
            long sent = 0;
            void Round(NodeContext<Probe> context)
            {
                foreach (uint target in to)
                {
                    context.Send(Sim.N(target), new Probe(context.LocalNowUs, sent));
                }

                if (++sent < count)
                {
                    context.SetTimer(50);
                }
            }

            return new ScriptedNode<Probe>
            {
                Started = context =>
                {
                    if (context.Self.Value == from)
                    {
                        Round(context);
                    }
                },
                TimerFired = (_, _, context) => Round(context),
                Received = (sender, probe, context) => log.Add(new Receipt(sender, context.Self, context.LocalNowUs, probe)),
            };
        };
    }

    private static long[] Latencies(List<Receipt> receipts, uint to) =>
        [.. receipts.Where(r => r.To.Value == to).Select(r => r.AtUs - r.Probe.SentUs)];

    private static long Median(long[] values)
    {
        long[] sorted = [.. values.Order()];
        return sorted[sorted.Length / 2];
    }

    private static double FiveSigma(double p, int n) => 5 * Math.Sqrt(p * (1 - p) / n);
}
