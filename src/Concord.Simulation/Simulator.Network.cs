using Concord.Core;
using Concord.Core.Randomness;
using Concord.Simulation.Network;
using Concord.Simulation.Nodes;
using Concord.Simulation.Tracing;

namespace Concord.Simulation;

public sealed partial class Simulator<TMessage>
{
    private readonly SeededRandom _networkRandom;
    private readonly int _nodeCount;

    /// <summary>Directed links, indexed <c>from * N + to</c>.</summary>
    private readonly Link[] _links;

    /// <summary>How many active partitions cut each directed link; the link works at 0.</summary>
    private readonly int[] _cuts;

    private long _nextMessageId;

    private static Link[] CreateLinks(LinkProfile[] profiles)
    {
        var links = new Link[profiles.Length];
        for (int i = 0; i < profiles.Length; i++)
        {
            LinkProfile p = profiles[i];
            links[i] = new Link
            {
                LatencyUs = p.LatencyUs,
                JitterFraction = p.JitterFraction,
                TailProbability = p.TailProbability,
                TailExponent = -1.0 / p.TailParetoShape,
                TailMultiplierMax = p.TailMultiplierMax,
                LossProbability = p.LossProbability,
                DuplicateProbability = p.DuplicateProbability,
                Fifo = p.Fifo,
            };
        }

        return links;
    }

    private void Send(int from, int to, TMessage message, long departureUs)
    {
        Stats.MessagesSent++;
        long id = ++_nextMessageId;
        if (from == to)
        {
            // Loopback skips the network: a node stepping itself must not see loss or delay.
            Push(new SimEvent<TMessage> { TimeUs = departureUs, Kind = EventKind.Deliver, Node = to, Peer = from, Value = id, Message = message, Incarnation = -1 });
            return;
        }

        int index = (from * _nodeCount) + to;
        if (_cuts[index] > 0)
        {
            Stats.MessagesDroppedByPartition++;
            _trace.Message(TraceKind.DropPartition, NowUs, to, from, id, message);
            return;
        }

        ref Link link = ref _links[index];

        // Draws happen only for enabled features, so turning loss on does not move the jitter of a
        // lossless run; every draw comes from the one network stream in event order.
        if (link.LossProbability > 0 && _networkRandom.NextDouble() < link.LossProbability)
        {
            Stats.MessagesLost++;
            _trace.Message(TraceKind.DropLoss, NowUs, to, from, id, message);
            return;
        }

        Transmit(ref link, from, to, id, message, departureUs);
        if (link.DuplicateProbability > 0 && _networkRandom.NextDouble() < link.DuplicateProbability)
        {
            Stats.MessagesDuplicated++;
            _trace.Message(TraceKind.Duplicate, NowUs, to, from, id, message);
            Transmit(ref link, from, to, id, message, departureUs);
        }
    }

    private void Transmit(ref Link link, int from, int to, long id, TMessage message, long departureUs)
    {
        long arrivalUs = departureUs + SampleDelayUs(ref link);
        if (link.Fifo)
        {
            // Equal arrival times keep send order through the sequence tie-break.
            arrivalUs = Math.Max(arrivalUs, link.LastArrivalUs);
            link.LastArrivalUs = arrivalUs;
        }

        Push(new SimEvent<TMessage> { TimeUs = arrivalUs, Kind = EventKind.Deliver, Node = to, Peer = from, Value = id, Message = message, Incarnation = -1 });
    }

    private long SampleDelayUs(ref Link link)
    {
        double delayUs = link.LatencyUs;
        if (link.JitterFraction > 0)
        {
            delayUs *= 1.0 + (link.JitterFraction * ((2.0 * _networkRandom.NextDouble()) - 1.0));
        }

        if (link.TailProbability > 0 && _networkRandom.NextDouble() < link.TailProbability)
        {
            // Pareto(α) with scale 1 by inversion: (1 − U)^(−1/α), U in [0, 1) so the base is in (0, 1].
            double multiplier = Math.Pow(1.0 - _networkRandom.NextDouble(), link.TailExponent);
            delayUs *= Math.Min(multiplier, link.TailMultiplierMax);
        }

        long rounded = (long)Math.Round(delayUs, MidpointRounding.ToEven);
        Invariant.Assert(rounded >= 0);
        return rounded;
    }

    private void Deliver(ref SimEvent<TMessage> delivery)
    {
        NodeSlot slot = _slots[delivery.Node];
        int from = delivery.Peer;
        int to = delivery.Node;
        if (!slot.Up || (delivery.Incarnation >= 0 && delivery.Incarnation != slot.Context.Incarnation))
        {
            Stats.MessagesDroppedNodeDown++;
            _trace.Message(TraceKind.DropNodeDown, NowUs, to, from, delivery.Value, delivery.Message);
            return;
        }

        if (_cuts[(from * _nodeCount) + to] > 0)
        {
            Stats.MessagesDroppedByPartition++;
            _trace.Message(TraceKind.DropPartition, NowUs, to, from, delivery.Value, delivery.Message);
            return;
        }

        if (slot.ReadyAtUs > NowUs)
        {
            Defer(slot, ref delivery);
            return;
        }

        Stats.MessagesDelivered++;
        _trace.Message(TraceKind.Deliver, NowUs, to, from, delivery.Value, delivery.Message);
        NodeContext<TMessage> context = slot.Context;
        context.BeginHandler();
        slot.Node!.OnMessage(new NodeId((uint)from), delivery.Message, context);
        context.EndHandler();
        PerformEffects(slot);
    }

    private struct Link
    {
        public double LatencyUs;
        public double JitterFraction;
        public double TailProbability;
        public double TailExponent;
        public double TailMultiplierMax;
        public double LossProbability;
        public double DuplicateProbability;
        public bool Fifo;
        public long LastArrivalUs;
    }
}
