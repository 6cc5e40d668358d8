using Concord.Core;
using Concord.Simulation.Faults;
using Concord.Simulation.Nodes;
using Concord.Simulation.Tracing;

namespace Concord.Simulation.Tests;

public class CrashRestartTests
{
    private const long CrashUs = 100_000;
    private const long RestartUs = 200_000;

    /// <summary>
    /// n1 counts messages from n0 (one per ms) twice: in a field (volatile) and durably. It also arms a
    /// timer at boot that would fire during the crash window, and logs everything it sees outside itself.
    /// </summary>
    private static (Simulator<Probe> Simulator, List<string> Log) Run(bool crash)
    {
        var log = new List<string>();
        var config = new SimulationConfig
        {
            Seed = 30,
            Faults = crash ? [new ScheduledFault(CrashUs, RestartUs, new CrashFault(Sim.N(1)))] : [],
        };
        var simulator = new Simulator<Probe>(config, info => info.Id == Sim.N(0)
            ? new ScriptedNode<Probe>
            {
                Started = context => context.SetTimer(1_000),
                TimerFired = (_, _, context) =>
                {
                    context.Send(Sim.N(1), new Probe(context.LocalNowUs, 0));
                    context.SetTimer(1_000);
                },
            }
            : info.Id == Sim.N(1) ? new CountingNode(log) : new ScriptedNode<Probe>());
        simulator.RunUntil(300_000);
        return (simulator, log);
    }

    [Fact]
    public void Crash_loses_volatile_state_and_keeps_durable_writes()
    {
        (Simulator<Probe> simulator, List<string> log) = Run(crash: true);

        var node = simulator.GetNode<CountingNode>(Sim.N(1));
        Assert.NotNull(node);
        long durableAtCrash = log.Where(l => l.StartsWith("restart", StringComparison.Ordinal)).Select(l => long.Parse(l.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture)).Single();

        // About 99 messages arrived before the crash (the first leaves n0 at 1 ms, arrives 0.5 ms later).
        Assert.InRange(durableAtCrash, 97, 100);

        // The new incarnation started counting from zero in memory, and from the durable count on disk.
        Assert.InRange(node.VolatileCount, 97, 100);
        Assert.Equal(durableAtCrash + node.VolatileCount, simulator.DurableStateOf(Sim.N(1)).GetOrDefault("count", -1L));
        Assert.Equal(1, node.Incarnation);
        Assert.Equal(1, simulator.Stats.Crashes);
        Assert.Equal(1, simulator.Stats.Restarts);
    }

    [Fact]
    public void A_crashed_node_receives_nothing_and_its_timers_die_with_it()
    {
        (Simulator<Probe> simulator, List<string> log) = Run(crash: true);

        Assert.DoesNotContain(log, l => l.StartsWith("timer 0 ", StringComparison.Ordinal));
        Assert.Contains("timer 1 at 250000", log);
        Assert.InRange(simulator.Stats.MessagesDroppedNodeDown, 99, 101);
        Assert.DoesNotContain(log, l => l.StartsWith("message", StringComparison.Ordinal) && long.Parse(l.Split(' ')[2], System.Globalization.CultureInfo.InvariantCulture) is >= CrashUs and < RestartUs);
    }

    [Fact]
    public void Negative_control_without_a_crash_the_boot_timer_fires_and_nothing_is_dropped()
    {
        (Simulator<Probe> simulator, List<string> log) = Run(crash: false);

        Assert.Contains("timer 0 at 150000", log);
        Assert.Equal(0, simulator.Stats.MessagesDroppedNodeDown);
        Assert.Equal(simulator.DurableStateOf(Sim.N(1)).GetOrDefault("count", -1L), simulator.GetNode<CountingNode>(Sim.N(1))!.VolatileCount);
    }

    [Fact]
    public void A_node_is_down_exactly_between_crash_and_restart()
    {
        var simulator = new Simulator<Probe>(
            new SimulationConfig { Seed = 31, Faults = [new ScheduledFault(CrashUs, RestartUs, new CrashFault(Sim.N(2)))] },
            _ => new ScriptedNode<Probe>());
        simulator.RunUntil(CrashUs - 1);
        Assert.True(simulator.IsUp(Sim.N(2)));
        simulator.RunUntil(CrashUs);
        Assert.False(simulator.IsUp(Sim.N(2)));
        Assert.Null(simulator.GetNode<ScriptedNode<Probe>>(Sim.N(2)));
        simulator.RunUntil(RestartUs);
        Assert.True(simulator.IsUp(Sim.N(2)));
    }

    [Fact]
    public void Durable_writes_are_performed_before_messages_even_when_recorded_after_them()
    {
        // n0 sends into a partition (the drop is traced at send time) and then writes durably; the
        // trace must show the write first, because the host persists before it sends.
        using var trace = new StringWriter();
        var config = new SimulationConfig { Seed = 32, Faults = [ScheduledFault.From(0, Fault.Isolate(Topology.Default, Sim.N(0)))] };
        var simulator = new Simulator<Probe>(
            config,
            info => new ScriptedNode<Probe>
            {
                Started = context => context.SetTimer(10),
                TimerFired = (_, _, context) =>
                {
                    context.Send(Sim.N(1), new Probe(0, 0));
                    context.WriteDurable("k", "v");
                },
            },
            new TraceOptions<Probe> { Writer = trace });
        simulator.RunUntil(20);

        string[] lines = [.. trace.ToString().Split('\n').Where(l => l.Contains("    10us", StringComparison.Ordinal))];
        int write = Array.FindIndex(lines, l => l.Contains("durable-write  n0 k", StringComparison.Ordinal));
        int drop = Array.FindIndex(lines, l => l.Contains("drop-partition n0 -> n1", StringComparison.Ordinal));
        Assert.True(write >= 0 && drop > write, trace.ToString());
    }

    [Fact]
    public void Durable_state_supports_prefix_scans_and_deletes()
    {
        var simulator = new Simulator<Probe>(
            new SimulationConfig { Seed = 33, Faults = [new ScheduledFault(10, 20, new CrashFault(Sim.N(0)))] },
            info => new ScriptedNode<Probe>
            {
                Started = context =>
                {
                    context.WriteDurable("log/00000002", "b");
                    context.WriteDurable("log/00000001", "a");
                    context.WriteDurable("log/00000003", "c");
                    context.DeleteDurable("log/00000003");
                    context.WriteDurable("term", 7L);
                },
                Restarted = (durable, context) =>
                {
                    Assert.Equal(["a", "b"], durable.WithPrefix("log/").Select(e => (string)e.Value));
                    Assert.True(durable.TryGet("term", out long term) && term == 7);
                    Assert.False(durable.ContainsKey("log/00000003"));
                    context.WriteDurable("restarted", true);
                },
            });
        simulator.RunUntil(30);
        Assert.True(simulator.DurableStateOf(Sim.N(0)).ContainsKey("restarted"));
    }

    private sealed class CountingNode(List<string> log) : INode<Probe>
    {
        private long _durableCount;

        public long VolatileCount { get; private set; }

        public int Incarnation { get; private set; }

        public void Start(NodeContext<Probe> context)
        {
            Incarnation = context.Incarnation;
            context.SetTimer(150_000 - context.LocalNowUs, tag: context.Incarnation);
        }

        public void OnRestart(DurableState durable, NodeContext<Probe> context)
        {
            _durableCount = durable.GetOrDefault("count", 0L);
            log.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"restart {_durableCount}"));
            Incarnation = context.Incarnation;
            context.SetTimer(50_000, tag: context.Incarnation);
        }

        public void OnMessage(NodeId from, Probe message, NodeContext<Probe> context)
        {
            VolatileCount++;
            _durableCount++;
            context.WriteDurable("count", _durableCount);
            log.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"message {context.Incarnation} {context.LocalNowUs}"));
        }

        public void OnTimer(TimerId timer, long tag, NodeContext<Probe> context) =>
            log.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"timer {tag} at {context.LocalNowUs}"));
    }
}
