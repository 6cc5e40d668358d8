using Concord.Core.Clocks;
using Concord.Simulation.Faults;
using Concord.Simulation.Nodes;

namespace Concord.Simulation.Tests;

public class ClockTests
{
    private static readonly DateTimeOffset Epoch = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Local_clock_is_sim_time_times_one_plus_drift_plus_offset()
    {
        var config = new SimulationConfig { Seed = 50, Faults = [ScheduledFault.From(0, new ClockFault(Sim.N(2), OffsetUs: 5_000_000, DriftPpm: 100_000))] };
        var simulator = new Simulator<Probe>(config, _ => new ScriptedNode<Probe>());
        simulator.RunUntil(1_000_000);

        TimeProvider skewed = simulator.ClockOf(Sim.N(2));
        Assert.Equal(Epoch.AddMicroseconds(1_100_000 + 5_000_000), skewed.GetUtcNow());
        Assert.Equal(1_100_000, skewed.GetTimestamp());
        Assert.Equal(1_000_000, skewed.TimestampFrequency);

        // Negative control: a node without a clock fault reads simulated time.
        Assert.Equal(Epoch.AddMicroseconds(1_000_000), simulator.ClockOf(Sim.N(1)).GetUtcNow());
    }

    [Fact]
    public void Timers_run_on_the_nodes_own_clock_and_the_node_sees_its_skew()
    {
        var seen = new List<(long SimUs, long LocalUs, long MonotonicUs)>();
        Simulator<Probe>? simulator = null;
        var config = new SimulationConfig { Seed = 51, Faults = [ScheduledFault.From(0, new ClockFault(Sim.N(2), OffsetUs: 5_000_000, DriftPpm: 100_000))] };
        simulator = new Simulator<Probe>(config, info => new ScriptedNode<Probe>
        {
            Started = context => context.SetTimer(110_000),
            TimerFired = (_, _, context) => seen.Add((simulator!.NowUs, context.LocalNowUs, context.MonotonicNowUs)),
        });
        simulator.RunUntil(200_000);

        // n2's clock runs 10% fast, so 110 ms of its time pass in 100 ms of simulated time.
        Assert.Contains((100_000L, 5_110_000L, 110_000L), seen);
        Assert.Contains((110_000L, 110_000L, 110_000L), seen);
    }

    [Fact]
    public void A_clock_step_moves_the_wall_clock_but_not_the_monotonic_clock()
    {
        var samples = new List<(long WallUs, long MonotonicUs)>();
        var config = new SimulationConfig
        {
            Seed = 52,
            Faults = [new ScheduledFault(500_000, 700_000, new ClockFault(Sim.N(0), OffsetUs: -200_000, DriftPpm: 300_000))],
        };
        var simulator = new Simulator<Probe>(config, info => new ScriptedNode<Probe>
        {
            Started = context => context.SetTimer(1_000),
            TimerFired = (_, _, context) =>
            {
                if (context.Self == Sim.N(0))
                {
                    samples.Add((context.LocalNowUs, context.MonotonicNowUs));
                }

                context.SetTimer(1_000);
            },
        });
        simulator.RunUntil(1_000_000);

        Assert.Contains(samples.Zip(samples.Skip(1)), pair => pair.Second.WallUs < pair.First.WallUs);
        Assert.All(samples.Zip(samples.Skip(1)), pair => Assert.True(pair.Second.MonotonicUs > pair.First.MonotonicUs));

        // Over the 200 ms fault the monotonic clock ran 30% fast: 60 ms ahead of simulated time after it.
        (long wallUs, long monotonicUs) = samples[^1];
        Assert.Equal(monotonicUs, wallUs);
        Assert.InRange(monotonicUs - simulator.NowUs, 59_000, 61_000);
    }

    [Fact]
    public void Concord_core_hybrid_logical_clock_runs_on_the_node_clock()
    {
        var stamps = new Dictionary<uint, HlcTimestamp>();
        var config = new SimulationConfig { Seed = 53, Faults = [ScheduledFault.From(0, new ClockFault(Sim.N(3), OffsetUs: 250_000, DriftPpm: 0))] };
        var simulator = new Simulator<Probe>(config, info => new ScriptedNode<Probe>
        {
            Started = context => context.SetTimer(10_000),
            TimerFired = (_, _, context) => stamps[context.Self.Value] = new HybridLogicalClock(context.Clock, maxOffsetMs: 500).Now(),
        });
        simulator.RunUntil(20_000);

        long epochMs = Epoch.ToUnixTimeMilliseconds();
        Assert.Equal(epochMs + 10, stamps[0].PhysicalMs);
        Assert.Equal(epochMs + 260, stamps[3].PhysicalMs);
    }

    [Fact]
    public void The_node_clock_creates_no_callback_timers()
    {
        var simulator = new Simulator<Probe>(new SimulationConfig(), _ => new ScriptedNode<Probe>());
        Assert.Throws<NotSupportedException>(() => simulator.ClockOf(Sim.N(0)).CreateTimer(_ => { }, null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan));
    }
}
