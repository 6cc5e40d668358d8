using Concord.Core;
using Concord.Simulation.Nodes;

namespace Concord.Simulation.Tests;

/// <summary>A node whose handlers are lambdas, so that each test states the behaviour it needs inline.</summary>
internal sealed class ScriptedNode<TMessage> : INode<TMessage>
{
    public Action<NodeContext<TMessage>>? Started { get; init; }

    public Action<NodeId, TMessage, NodeContext<TMessage>>? Received { get; init; }

    public Action<TimerId, long, NodeContext<TMessage>>? TimerFired { get; init; }

    public Action<DurableState, NodeContext<TMessage>>? Restarted { get; init; }

    /// <summary>Volatile state for tests to inspect: lost on crash with the node object.</summary>
    public long Counter { get; set; }

    public void Start(NodeContext<TMessage> context) => Started?.Invoke(context);

    public void OnMessage(NodeId from, TMessage message, NodeContext<TMessage> context) => Received?.Invoke(from, message, context);

    public void OnTimer(TimerId timer, long tag, NodeContext<TMessage> context) => TimerFired?.Invoke(timer, tag, context);

    public void OnRestart(DurableState durable, NodeContext<TMessage> context) => Restarted?.Invoke(durable, context);
}

/// <summary>A message stamped with its sender's clock and a per-sender sequence number.</summary>
internal readonly record struct Probe(long SentUs, long Sequence);

/// <summary>What a receiving node saw, recorded outside the node so that it survives crashes.</summary>
internal readonly record struct Receipt(NodeId From, NodeId To, long AtUs, Probe Probe);

internal static class Sim
{
    public static NodeId N(uint value) => new(value);

    /// <summary>A perfect-clock topology's local time equals simulated time.</summary>
    public static long Now<T>(NodeContext<T> context) => context.LocalNowUs;

    /// <summary>
    /// Every node sends a <see cref="Probe"/> to each target every <paramref name="periodUs"/> while the
    /// node is up, and logs every receipt into <paramref name="receipts"/>.
    /// </summary>
    public static Func<NodeInfo, INode<Probe>> PeriodicSenders(
        List<Receipt> receipts,
        long periodUs,
        Func<NodeId, IReadOnlyList<NodeId>> targets)
    {
        return info =>
        {
            long sequence = 0;
            void Tick(NodeContext<Probe> context)
            {
                foreach (NodeId to in targets(context.Self))
                {
                    context.Send(to, new Probe(context.LocalNowUs, sequence++));
                }

                context.SetTimer(periodUs);
            }

            return new ScriptedNode<Probe>
            {
                Started = Tick,
                Restarted = (_, context) => Tick(context),
                TimerFired = (_, _, context) => Tick(context),
                Received = (from, probe, context) => receipts.Add(new Receipt(from, context.Self, context.LocalNowUs, probe)),
            };
        };
    }
}
