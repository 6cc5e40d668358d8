using Concord.Core;
using Concord.Simulation.Nodes;
using Concord.Simulation.Running;

namespace Concord.Simulation.Tests;

public class RunnerTests
{
    /// <summary>A run that trips an invariant in some seeds: a node that draws 0 from a 1-in-40 die.</summary>
    private static void Flaky(ulong seed)
    {
        var simulator = new Simulator<Probe>(new SimulationConfig { Seed = seed }, _ => new ScriptedNode<Probe>
        {
            Started = context => context.SetTimer(1_000),
            TimerFired = (_, _, context) =>
            {
                Invariant.Assert(context.Random.NextInt(40) != 0, "die came up zero");
                if (context.LocalNowUs < 5_000)
                {
                    context.SetTimer(1_000);
                }
            },
        });
        simulator.RunUntil(10_000);
    }

    [Fact]
    public void A_sweep_reports_every_failing_seed_and_each_replays_exactly()
    {
        SeedSweepResult result = SeedSweep.Run(firstSeed: 1, count: 40, Flaky);

        Assert.Equal(40, result.SeedsRun);
        Assert.False(result.Passed);
        Assert.InRange(result.Failures.Count, 5, 35);

        foreach (SimulationFailure failure in result.Failures)
        {
            Assert.StartsWith($"seed={failure.Seed} time=", failure.Message, StringComparison.Ordinal);
            Assert.Contains($"--seed {failure.Seed}", failure.Message, StringComparison.Ordinal);
            Assert.Contains("die came up zero", failure.Message, StringComparison.Ordinal);
            Assert.IsType<InvariantViolationException>(failure.InnerException);

            var replay = Assert.Throws<SimulationFailure>(() => Flaky(failure.Seed));
            Assert.Equal(failure.SimTimeUs, replay.SimTimeUs);
            Assert.Equal(failure.Message, replay.Message);
        }

        var summary = Assert.Throws<SimulationFailure>(result.ThrowIfFailed);
        Assert.Contains($"40 seeds, {result.Failures.Count} failed", summary.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Negative_control_passing_seeds_are_not_reported()
    {
        SeedSweepResult result = SeedSweep.Run(firstSeed: 1, count: 40, Flaky);
        SeedSweepResult passing = SeedSweep.Run(Enumerable.Range(1, 40).Select(i => (ulong)i).Except(result.FailedSeeds), Flaky);

        Assert.True(passing.Passed, passing.ToString());
        passing.ThrowIfFailed();
    }

    [Fact]
    public void A_failure_names_the_node_and_input_and_stops_the_simulator()
    {
        var simulator = new Simulator<Probe>(new SimulationConfig { Seed = 77 }, info => new ScriptedNode<Probe>
        {
            Started = context => context.Send(Sim.N(4), new Probe(0, 0)),
            Received = (from, _, context) =>
            {
                if (context.Self == Sim.N(4) && from == Sim.N(2))
                {
                    throw new InvalidOperationException("boom");
                }
            },
        });

        var failure = Assert.Throws<SimulationFailure>(() => simulator.RunUntil(1_000_000));
        Assert.Equal(77UL, failure.Seed);
        Assert.Contains("n4 failed handling a message from n2: InvalidOperationException: boom", failure.Message, StringComparison.Ordinal);
        Assert.True(failure.SimTimeUs > 0);
        Assert.Throws<InvalidOperationException>(() => simulator.RunUntil(2_000_000));
    }

    [Fact]
    public void A_context_kept_after_its_handler_refuses_effects()
    {
        NodeContext<Probe>? kept = null;
        var simulator = new Simulator<Probe>(new SimulationConfig(), _ => new ScriptedNode<Probe> { Started = context => kept = context });
        simulator.RunUntil(10);

        Assert.NotNull(kept);
        Assert.Throws<InvalidOperationException>(() => kept.Send(Sim.N(1), default));
        Assert.Throws<InvalidOperationException>(() => kept.SetTimer(5));
    }

    [Fact]
    public void A_runaway_handler_hits_the_effect_bound_and_a_flood_hits_the_queue_bound()
    {
        var runaway = new Simulator<Probe>(new SimulationConfig { Seed = 5, EffectsPerHandlerMax = 100 }, _ => new ScriptedNode<Probe>
        {
            Started = context =>
            {
                while (true)
                {
                    context.Send(Sim.N(1), default);
                }
            },
        });
        Assert.Contains("EffectsPerHandlerMax", Assert.Throws<SimulationFailure>(() => runaway.RunUntil(10)).Message, StringComparison.Ordinal);

        var flood = new Simulator<Probe>(new SimulationConfig { Seed = 6, EventQueueCapacityMax = 1_000 }, _ => new ScriptedNode<Probe>
        {
            Started = context => context.Send(Sim.N(1), default),
            Received = (_, _, context) =>
            {
                context.Send(Sim.N(1), default);
                context.Send(Sim.N(1), default);
            },
        });
        Assert.Contains("event queue full", Assert.Throws<SimulationFailure>(() => flood.RunUntil(1_000_000)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Timers_due_at_the_same_time_fire_in_the_order_they_were_set()
    {
        var fired = new List<long>();
        var simulator = new Simulator<Probe>(new SimulationConfig(), info => new ScriptedNode<Probe>
        {
            Started = context =>
            {
                if (context.Self == Sim.N(0))
                {
                    for (int i = 0; i < 20; i++)
                    {
                        context.SetTimer(1_000, tag: i);
                    }

                    TimerId cancelled = context.SetTimer(1_000, tag: 99);
                    Assert.True(context.CancelTimer(cancelled));
                    Assert.False(context.CancelTimer(cancelled));
                }
            },
            TimerFired = (_, tag, _) => fired.Add(tag),
        });
        simulator.RunUntil(2_000);

        Assert.Equal(Enumerable.Range(0, 20).Select(i => (long)i), fired);
    }

    [Fact]
    public void A_node_crashed_from_time_zero_boots_for_the_first_time_when_the_crash_heals()
    {
        var boots = new List<(string How, long AtUs, int Incarnation)>();
        var config = new SimulationConfig { Faults = [new Faults.ScheduledFault(0, 5_000, new Faults.CrashFault(Sim.N(0)))] };
        var simulator = new Simulator<Probe>(config, info => new ScriptedNode<Probe>
        {
            Started = context => boots.Add(("start", context.LocalNowUs, context.Incarnation)),
            Restarted = (_, context) => boots.Add(("restart", context.LocalNowUs, context.Incarnation)),
        });
        simulator.RunUntil(10_000);

        Assert.Equal(("start", 5_000L, 0), boots.Single(b => b.AtUs == 5_000));
        Assert.DoesNotContain(boots, b => b.How == "restart");
    }
}
