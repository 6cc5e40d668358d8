using Concord.Core;

namespace Concord.Simulation.Nodes;

/// <summary>
/// A sans-I/O node: a state machine that the simulator (or, later, a real host) feeds with inputs.
/// Each handler reads its input and the <see cref="NodeContext{TMessage}"/>, updates the node's
/// fields and records effects on the context; the host performs them after the handler returns —
/// durable writes first, then timers, then messages. No tasks, threads, sockets, clocks or ambient
/// randomness inside: time is <see cref="NodeContext{TMessage}.LocalNowUs"/> or
/// <see cref="NodeContext{TMessage}.Clock"/>, randomness is <see cref="NodeContext{TMessage}.Random"/>.
/// </summary>
/// <remarks>
/// <para>The node object is the volatile state: a crash discards it, and the restart creates a new one
/// through the node factory and calls <see cref="OnRestart"/> with what was written durably.</para>
/// <para>Messages and durable values are shared by reference (a duplicated message is the same
/// object twice; a durable value is handed back as the same object). Treat them as immutable.</para>
/// <para>A handler that throws fails the run with a <see cref="Running.SimulationFailure"/> carrying the seed.</para>
/// </remarks>
public interface INode<TMessage>
{
    /// <summary>First boot, at simulated time 0, with empty durable state.</summary>
    void Start(NodeContext<TMessage> context);

    /// <summary><paramref name="message"/> from <paramref name="from"/> arrived.</summary>
    void OnMessage(NodeId from, TMessage message, NodeContext<TMessage> context);

    /// <summary>A timer set by this incarnation with <see cref="NodeContext{TMessage}.SetTimer"/> fired.</summary>
    void OnTimer(TimerId timer, long tag, NodeContext<TMessage> context);

    /// <summary>Boot after a crash: <paramref name="durable"/> holds every durable write that completed before the crash.</summary>
    void OnRestart(DurableState durable, NodeContext<TMessage> context);
}

/// <summary>Names a timer set by <see cref="NodeContext{TMessage}.SetTimer"/>; unique within a run.</summary>
public readonly record struct TimerId(long Value)
{
    public override string ToString() => "t" + Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
