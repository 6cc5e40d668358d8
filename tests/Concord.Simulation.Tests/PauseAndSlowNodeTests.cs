using Concord.Core;
using Concord.Simulation.Faults;
using Concord.Simulation.Nodes;

namespace Concord.Simulation.Tests;

public class PauseAndSlowNodeTests
{
    private const long PauseUs = 50_000;
    private const long ResumeUs = 150_000;

    /// <summary>n0 sends n1 a probe every millisecond; n1 logs receipts and fires a timer every 10 ms.</summary>
    private static (List<Receipt> Receipts, List<long> Timers, Simulator<Probe> Simulator) RunPause(bool pause)
    {
        var receipts = new List<Receipt>();
        var timers = new List<long>();
        var config = new SimulationConfig
        {
            Seed = 40,
            Faults = pause ? [new ScheduledFault(PauseUs, ResumeUs, new PauseFault(Sim.N(1)))] : [],
        };
        Func<NodeInfo, INode<Probe>> senders = Sim.PeriodicSenders(receipts, 1_000, self => self == Sim.N(0) ? [Sim.N(1)] : []);
        var simulator = new Simulator<Probe>(config, info => info.Id != Sim.N(1)
            ? senders(info)
            : new ScriptedNode<Probe>
            {
                Started = context => context.SetTimer(10_000),
                TimerFired = (_, _, context) =>
                {
                    timers.Add(context.LocalNowUs);
                    context.SetTimer(10_000);
                },
                Received = (from, probe, context) => receipts.Add(new Receipt(from, context.Self, context.LocalNowUs, probe)),
            });
        simulator.RunUntil(200_000);
        return (receipts, timers, simulator);
    }

    [Fact]
    public void A_paused_node_handles_nothing_then_everything_queued_in_arrival_order()
    {
        (List<Receipt> receipts, List<long> timers, Simulator<Probe> simulator) = RunPause(pause: true);

        Assert.DoesNotContain(receipts, r => r.AtUs is > PauseUs and < ResumeUs);
        Receipt[] burst = [.. receipts.Where(r => r.AtUs == ResumeUs)];
        Assert.InRange(burst.Length, 98, 101);
        Assert.Equal(burst.Select(r => r.Probe.Sequence).Order(), burst.Select(r => r.Probe.Sequence));

        // Nothing is lost: every probe sent up to 199 ms has arrived except those still in flight.
        Assert.Equal(0, simulator.Stats.MessagesDroppedNodeDown);
        Assert.InRange(receipts.Count, 198, 200);

        // The timer due at 50 ms waits for the pause to end, then the period resumes from there.
        Assert.Equal([10_000, 20_000, 30_000, 40_000, ResumeUs, 160_000, 170_000, 180_000, 190_000, 200_000], timers);
    }

    [Fact]
    public void Negative_control_without_a_pause_messages_and_timers_arrive_on_time()
    {
        (List<Receipt> receipts, List<long> timers, _) = RunPause(pause: false);

        Assert.Contains(receipts, r => r.AtUs is > PauseUs and < ResumeUs);
        Assert.DoesNotContain(receipts, r => r.AtUs == ResumeUs);
        Assert.Equal(20, timers.Count);
    }

    [Fact]
    public void A_crash_during_a_pause_loses_what_was_queued()
    {
        var receipts = new List<Receipt>();
        var config = new SimulationConfig
        {
            Seed = 41,
            Faults =
            [
                new ScheduledFault(PauseUs, ResumeUs, new PauseFault(Sim.N(1))),
                new ScheduledFault(100_000, 120_000, new CrashFault(Sim.N(1))),
            ],
        };
        var simulator = new Simulator<Probe>(config, Sim.PeriodicSenders(receipts, 1_000, self => self == Sim.N(0) ? [Sim.N(1)] : []));
        simulator.RunUntil(200_000);

        // What waited in the paused process died with it; what arrived after the restart is delivered.
        Assert.DoesNotContain(receipts, r => r.To == Sim.N(1) && r.Probe.SentUs is >= PauseUs and < 99_000);
        Assert.DoesNotContain(receipts, r => r.To == Sim.N(1) && r.AtUs is >= PauseUs and < 120_000);
        Assert.Contains(receipts, r => r.To == Sim.N(1) && r.AtUs >= 120_000);
        Assert.True(simulator.Stats.MessagesDroppedNodeDown >= 49);
    }

    [Fact]
    public void A_slow_node_delays_its_replies_and_queues_work()
    {
        long[] replyTimes = RunEcho(new SlowNodeFault(Sim.N(1), ProcessingDelayUs: 2_000));

        Assert.Equal(10, replyTimes.Length);
        long[] gaps = [.. replyTimes.Zip(replyTimes.Skip(1), (a, b) => b - a)];
        Assert.All(gaps, gap => Assert.InRange(gap, 1_900, 2_100));

        // Booting is work too: n1 is busy with Start until 2 ms, handles the first probe until 4 ms,
        // and the echo arrives half a millisecond later.
        Assert.InRange(replyTimes[0], 4_400, 4_600);
    }

    [Fact]
    public void Negative_control_a_normal_node_replies_to_a_burst_at_once()
    {
        long[] replyTimes = RunEcho(slow: null);

        Assert.Equal(10, replyTimes.Length);
        Assert.All(replyTimes, t => Assert.InRange(t, 900, 1_100));
    }

    /// <summary>n0 sends a burst of 10 probes to n1 at time 0; n1 echoes each; returns when the echoes reach n0.</summary>
    private static long[] RunEcho(SlowNodeFault? slow)
    {
        var replies = new List<long>();
        var config = new SimulationConfig { Seed = 42, Faults = slow is null ? [] : [ScheduledFault.From(0, slow)] };
        var simulator = new Simulator<Probe>(config, info => new ScriptedNode<Probe>
        {
            Started = context =>
            {
                if (context.Self == Sim.N(0))
                {
                    for (int i = 0; i < 10; i++)
                    {
                        context.Send(Sim.N(1), new Probe(0, i));
                    }
                }
            },
            Received = (from, probe, context) =>
            {
                if (context.Self == Sim.N(1))
                {
                    context.Send(from, probe);
                }
                else
                {
                    replies.Add(context.LocalNowUs);
                }
            },
        });
        simulator.RunUntil(100_000);
        return [.. replies.Order()];
    }
}
