using Concord.Core;
using Concord.Simulation.History;
using Concord.Simulation.Nodes;
using Concord.Simulation.Running;

namespace Concord.Simulation.Tests;

public class DeterminismTests
{
    [Theory]
    [InlineData(1UL)]
    [InlineData(42UL)]
    [InlineData(0xDEADBEEFUL)]
    public void Same_seed_gives_the_same_trace_hash(ulong seed) =>
        DeterminismCheck.Verify(seed, GossipWorkload.RunAndHash);

    [Fact]
    public void The_workload_is_nontrivial()
    {
        // Summed over a few seeds so that one quiet seed does not make the workload look trivial.
        var total = new List<SimulationStats>();
        var history = new HistoryRecorder<long, long>();
        foreach (ulong seed in new ulong[] { 1, 2, 3 })
        {
            Simulator<GossipMessage> simulator = GossipWorkload.Create(GossipWorkload.Config(seed), history);
            simulator.RunUntil(3_000_000);
            total.Add(simulator.Stats);
        }

        string stats = string.Join(Environment.NewLine, total);
        Assert.True(total.Sum(s => s.MessagesDelivered) > 15_000, stats);
        Assert.True(total.Sum(s => s.Crashes) > 0, stats);
        Assert.True(total.Sum(s => s.Restarts) > 0, stats);
        Assert.True(total.Sum(s => s.MessagesLost) > 0, stats);
        Assert.True(total.Sum(s => s.MessagesDuplicated) > 0, stats);
        Assert.True(total.Sum(s => s.MessagesDroppedByPartition) > 0, stats);
        Assert.True(total.Sum(s => s.EventsDeferred) > 0, stats);
        Assert.Contains(history.Entries, e => e.Completion == CompletionType.Ok);
        Assert.Contains(history.Entries, e => e.Completion == CompletionType.Info);
    }

    [Fact]
    public void Different_seeds_give_different_hashes()
    {
        ulong[] hashes = [.. Enumerable.Range(100, 5).Select(seed => GossipWorkload.RunAndHash((ulong)seed))];
        Assert.Equal(hashes.Length, hashes.Distinct().Count());
    }

    [Fact]
    public void Text_trace_is_byte_identical_and_does_not_change_the_hash()
    {
        (string Text, ulong Hash) Run()
        {
            using var writer = new StringWriter();
            Simulator<GossipMessage> simulator = GossipWorkload.Create(GossipWorkload.Config(seed: 9, durationUs: 500_000), trace: writer);
            simulator.RunUntil(500_000);
            return (writer.ToString(), simulator.TraceHash);
        }

        (string text1, ulong hash1) = Run();
        (string text2, ulong hash2) = Run();
        Simulator<GossipMessage> silent = GossipWorkload.Create(GossipWorkload.Config(seed: 9, durationUs: 500_000));
        silent.RunUntil(500_000);

        Assert.Equal(text1, text2);
        Assert.Equal(hash1, hash2);
        Assert.Equal(hash1, silent.TraceHash);
        Assert.Contains("deliver", text1, StringComparison.Ordinal);
        Assert.Contains("fault-begin", text1, StringComparison.Ordinal);
    }

    [Fact]
    public void Negative_control_order_by_object_hash_codes_is_caught() =>
        Assert.False(DeterminismCheck.IsDeterministic(3, seed => GossipWorkload.RunAndHash(seed, _ => new HashOrderServer())));

    [Fact]
    public void Negative_control_static_counter_is_caught()
    {
        var failure = Assert.Throws<SimulationFailure>(() => DeterminismCheck.Verify(3, seed => GossipWorkload.RunAndHash(seed, _ => new StaticCounterServer())));
        Assert.StartsWith("seed=3", failure.Message, StringComparison.Ordinal);
        Assert.Contains("nondeterministic", failure.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Picks its gossip target by the order of object hash codes, which differ from run to run in one
    /// process. (A plain HashSet or Dictionary would not do: .NET enumerates them in insertion order
    /// whatever the hash codes, so iterating one is deterministic as long as inserts and removes are.)
    /// </summary>
    private sealed class HashOrderServer : INode<GossipMessage>
    {
        public void Start(NodeContext<GossipMessage> context) => context.SetTimer(1_000);

        public void OnRestart(DurableState durable, NodeContext<GossipMessage> context) => Start(context);

        public void OnTimer(TimerId timer, long tag, NodeContext<GossipMessage> context)
        {
            Box[] peers = [.. context.Topology.Servers.Where(s => s != context.Self).Select(s => new Box(s))];
            context.Send(peers.OrderBy(p => p.GetHashCode()).First().Node, new Rumor(context.Self.Value, 1));
            context.SetTimer(1_000);
        }

        public void OnMessage(NodeId from, GossipMessage message, NodeContext<GossipMessage> context)
        {
            if (message is Request request)
            {
                context.Send(from, new Reply(request.Id, 0));
            }
        }

        private sealed class Box(NodeId node)
        {
            public NodeId Node { get; } = node;
        }
    }

    /// <summary>Numbers its rumors with a static counter that outlives the run.</summary>
    private sealed class StaticCounterServer : INode<GossipMessage>
    {
        private static long s_ticks;

        public void Start(NodeContext<GossipMessage> context) => context.SetTimer(1_000);

        public void OnRestart(DurableState durable, NodeContext<GossipMessage> context) => Start(context);

        public void OnTimer(TimerId timer, long tag, NodeContext<GossipMessage> context)
        {
            context.Send(GossipWorkload.RandomServer(context), new Rumor(context.Self.Value, Interlocked.Increment(ref s_ticks)));
            context.SetTimer(1_000);
        }

        public void OnMessage(NodeId from, GossipMessage message, NodeContext<GossipMessage> context)
        {
        }
    }
}
