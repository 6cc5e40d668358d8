using Concord.Core;
using Concord.Simulation.Faults;
using Concord.Simulation.History;

namespace Concord.Simulation.Tests;

public class HistoryRecorderTests
{
    [Fact]
    public void Records_true_simulated_times_even_when_the_client_clock_is_skewed()
    {
        var history = new HistoryRecorder<string, long>();
        Topology topology = Topology.Create(regions: 2, serversPerRegion: 3, clientsPerRegion: 1);
        NodeId client = topology.Clients[0];
        var config = new SimulationConfig
        {
            Topology = topology,
            Faults = [ScheduledFault.From(0, new ClockFault(client, OffsetUs: 9_000_000, DriftPpm: 50_000))],
        };
        OperationHandle pending = default;
        var simulator = new Simulator<Probe>(config, info => new ScriptedNode<Probe>
        {
            Started = context =>
            {
                if (context.Self == client)
                {
                    pending = history.Invoke(context, process: 0, "read");
                    context.Send(topology.Servers[0], new Probe(0, 1));
                }
            },
            Received = (from, probe, context) =>
            {
                if (context.Self == client)
                {
                    history.Complete(context, pending, CompletionType.Ok, probe.Sequence * 10);
                }
                else
                {
                    context.Send(from, probe);
                }
            },
        });
        simulator.RunUntil(10_000);

        HistoryEntry<string, long> entry = Assert.Single(history.Entries);
        Assert.Equal(0, entry.InvokeUs);
        Assert.InRange(entry.CompleteUs!.Value, 900, 1_100);
        Assert.Equal(CompletionType.Ok, entry.Completion);
        Assert.Equal(10, entry.Result);
        Assert.Equal(client, entry.Client);
        Assert.Equal(0, history.PendingCount);
    }

    [Fact]
    public void A_process_runs_one_operation_at_a_time_and_completes_it_once()
    {
        var history = new HistoryRecorder<string, long>();
        var simulator = new Simulator<Probe>(new SimulationConfig(), info => new ScriptedNode<Probe>
        {
            Started = context =>
            {
                if (context.Self != Sim.N(0))
                {
                    return;
                }

                OperationHandle first = history.Invoke(context, process: 3, "write");
                Assert.Throws<InvalidOperationException>(() => history.Invoke(context, process: 3, "read"));
                history.Complete(context, first, CompletionType.Info);
                Assert.Throws<InvalidOperationException>(() => history.Complete(context, first, CompletionType.Ok));
                Assert.Equal(4, history.NewProcess());
                history.Invoke(context, process: 3, "read");
            },
        });
        simulator.RunUntil(10);

        Assert.Equal(2, history.Entries.Count);
        Assert.Equal(1, history.PendingCount);
        Assert.Null(history.Entries[1].Completion);
    }
}
