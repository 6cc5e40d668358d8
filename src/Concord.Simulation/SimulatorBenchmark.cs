using Concord.Core;
using Concord.Simulation.Nodes;

namespace Concord.Simulation;

/// <summary>
/// The simulator's raw speed: messages delivered per second of wall time on one thread, for
/// <c>concord bench</c>. Wall time comes in as a <see cref="TimeProvider"/> because this project
/// takes time only as an input.
/// </summary>
public static class SimulatorBenchmark
{
    /// <summary>Messages each node keeps in flight; 6 nodes × 64 keeps a few hundred events in the heap.</summary>
    private const int InFlightPerNode = 64;

    /// <summary>
    /// Runs the default topology (2 regions × 3 servers, default jittered links) where every delivered
    /// message is forwarded to a random peer, until <paramref name="messages"/> are delivered; returns
    /// deliveries per wall-clock second. A warm-up run of up to a million messages first lets
    /// tiered JIT compilation settle, so that the number reflects optimized code.
    /// </summary>
    public static double MeasureMessagesPerSecond(int messages, TimeProvider wallClock)
    {
        ArgumentNullException.ThrowIfNull(wallClock);
        if (messages < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(messages), messages, "messages must be at least 1.");
        }

        Run(Math.Min(messages, 1_000_000), seed: 1);
        long started = wallClock.GetTimestamp();
        long delivered = Run(messages, seed: 2);
        TimeSpan elapsed = wallClock.GetElapsedTime(started);
        return delivered / Math.Max(elapsed.TotalSeconds, 1e-9);
    }

    /// <summary>Delivers at least <paramref name="messages"/> messages; returns how many were delivered.</summary>
    internal static long Run(int messages, ulong seed)
    {
        var simulator = new Simulator<Hop>(new SimulationConfig { Seed = seed }, _ => new ForwardingNode());
        bool done = simulator.RunUntil(() => simulator.Stats.MessagesDelivered >= messages, long.MaxValue);
        Invariant.Assert(done);
        return simulator.Stats.MessagesDelivered;
    }

    /// <summary>A value-type payload: the heap stores it inline, no boxing.</summary>
    internal readonly record struct Hop(long Count);

    private sealed class ForwardingNode : INode<Hop>
    {
        public void Start(NodeContext<Hop> context)
        {
            for (int i = 0; i < InFlightPerNode; i++)
            {
                context.Send(RandomPeer(context), new Hop(0));
            }
        }

        public void OnMessage(NodeId from, Hop message, NodeContext<Hop> context) =>
            context.Send(RandomPeer(context), new Hop(message.Count + 1));

        public void OnTimer(TimerId timer, long tag, NodeContext<Hop> context)
        {
        }

        public void OnRestart(DurableState durable, NodeContext<Hop> context) => Start(context);

        private static NodeId RandomPeer(NodeContext<Hop> context)
        {
            int count = context.Topology.NodeCount;
            int peer = context.Random.NextInt(count - 1);
            return new NodeId((uint)(peer >= context.Self.Value ? peer + 1 : peer));
        }
    }
}
