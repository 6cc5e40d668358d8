using System.Globalization;
using System.Runtime.CompilerServices;
using Concord.Core;
using Concord.Core.Randomness;

namespace Concord.Simulation.Nodes;

/// <summary>
/// What a handler may see and do. It reads the node's own clock and random stream and records
/// effects; nothing happens until the handler returns, then the host persists the durable writes,
/// then arms the timers, then sends the messages, each in the order recorded. Valid only during the
/// handler it was passed to: recording effects at any other time throws.
/// </summary>
public sealed class NodeContext<TMessage>
{
    /// <summary>Bounds a single timer so that a unit mistake (seconds for µs) fails loudly: one day.</summary>
    public const long TimerDelayUsMax = 86_400_000_000;

    private readonly Simulator<TMessage> _simulator;
    private readonly NodeClock _clock;
    private readonly SimulatedTime _time;
    private readonly int _effectsMax;

    internal NodeContext(Simulator<TMessage> simulator, NodeInfo node, NodeClock clock, SimulatedTime time, int effectsMax)
    {
        _simulator = simulator;
        Node = node;
        _clock = clock;
        _time = time;
        _effectsMax = effectsMax;
        Random = new SeededRandom(0);
    }

    public NodeInfo Node { get; }

    public NodeId Self => Node.Id;

    public Topology Topology => _simulator.Topology;

    /// <summary>0 for the first boot, then one more for each restart.</summary>
    public int Incarnation { get; internal set; }

    /// <summary>This incarnation's own stream, derived from the root seed, the node id and the incarnation.</summary>
    public SeededRandom Random { get; internal set; }

    /// <summary>
    /// The node's clock as a <see cref="TimeProvider"/>: <c>GetUtcNow()</c> is the wall clock (skewed,
    /// may jump), <c>GetTimestamp()</c> the monotonic clock in µs (drifts, never jumps). Stable for the
    /// whole run, so it can be handed to Concord.Core's HybridLogicalClock. It creates no timers.
    /// </summary>
    public TimeProvider Clock => _clock;

    /// <summary>The node's wall-clock reading, µs since 2025-01-01T00:00Z: simulated time × (1 + drift) + offset.</summary>
    public long LocalNowUs => _clock.WallUs;

    /// <summary>The node's monotonic clock in µs: never jumps, but drifts like the wall clock.</summary>
    public long MonotonicNowUs => _clock.MonotonicUs;

    /// <summary>True simulated time, for observers (history recording) only: a protocol must not see it.</summary>
    internal long SimTimeUs => _time.NowUs;

    internal bool InHandler { get; private set; }

    internal OutgoingMessage[] Sends { get; private set; } = new OutgoingMessage[16];

    internal int SendCount { get; private set; }

    internal PendingTimer[] Timers { get; private set; } = new PendingTimer[4];

    internal int TimerCount { get; private set; }

    internal List<DurableWrite> DurableWrites { get; } = [];

    /// <summary>Armed timers of the current incarnation: id → tag. Cancelling removes; firing removes.</summary>
    internal Dictionary<long, long> ArmedTimers { get; } = [];

    private int EffectCount => SendCount + TimerCount + DurableWrites.Count;

    /// <summary>Sends <paramref name="message"/> to <paramref name="to"/> (possibly itself) once the handler returns.</summary>
    public void Send(NodeId to, TMessage message)
    {
        EnsureCanRecord();
        if (!Topology.Contains(to))
        {
            throw new ArgumentOutOfRangeException(nameof(to), to, $"{Self} sent to {to}, which is not in the topology (n0..n{Topology.NodeCount - 1}).");
        }

        if (SendCount == Sends.Length)
        {
            OutgoingMessage[] grown = Sends;
            Array.Resize(ref grown, Sends.Length * 2);
            Sends = grown;
        }

        Sends[SendCount++] = new OutgoingMessage((int)to.Value, message);
    }

    /// <summary>
    /// Arms a timer that fires after <paramref name="delayUs"/> µs of this node's monotonic clock
    /// (so a fast clock fires early in simulated time). <paramref name="tag"/> comes back in
    /// <see cref="INode{TMessage}.OnTimer"/> so a node need not remember ids. Dies with the incarnation.
    /// </summary>
    public TimerId SetTimer(long delayUs, long tag = 0)
    {
        EnsureCanRecord();
        if (delayUs is < 0 or > TimerDelayUsMax)
        {
            throw new ArgumentOutOfRangeException(nameof(delayUs), delayUs, string.Create(CultureInfo.InvariantCulture, $"A timer delay must be within [0, {TimerDelayUsMax}] µs."));
        }

        long id = _simulator.NextTimerId();
        ArmedTimers.Add(id, tag);
        if (TimerCount == Timers.Length)
        {
            PendingTimer[] grown = Timers;
            Array.Resize(ref grown, Timers.Length * 2);
            Timers = grown;
        }

        Timers[TimerCount++] = new PendingTimer(id, _clock.ToSimDelayUs(delayUs));
        return new TimerId(id);
    }

    /// <summary>Disarms <paramref name="timer"/>; false when it already fired, was cancelled, or belongs to a previous incarnation.</summary>
    public bool CancelTimer(TimerId timer)
    {
        EnsureInHandler();
        return ArmedTimers.Remove(timer.Value);
    }

    /// <summary>
    /// Stores <paramref name="value"/> under <paramref name="key"/> durably once the handler returns,
    /// before any message of this handler is sent. The value is kept by reference: make it immutable.
    /// </summary>
    public void WriteDurable(string key, object value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        EnsureCanRecord();
        DurableWrites.Add(new DurableWrite(key, value));
    }

    /// <summary>Removes <paramref name="key"/> from durable state once the handler returns (before messages are sent).</summary>
    public void DeleteDurable(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        EnsureCanRecord();
        DurableWrites.Add(new DurableWrite(key, null));
    }

    internal void BeginHandler()
    {
        Invariant.Assert(!InHandler);
        Invariant.Assert(EffectCount == 0);
        InHandler = true;
    }

    internal void EndHandler() => InHandler = false;

    /// <summary>Forgets recorded effects after the host performed them (or after a failed handler).</summary>
    internal void ClearEffects()
    {
        if (RuntimeHelpers.IsReferenceOrContainsReferences<TMessage>())
        {
            Array.Clear(Sends, 0, SendCount);
        }

        SendCount = 0;
        TimerCount = 0;
        DurableWrites.Clear();
    }

    private void EnsureInHandler()
    {
        if (!InHandler)
        {
            throw new InvalidOperationException($"{Self}: a NodeContext records effects only while the handler it was passed to runs; do not keep it.");
        }
    }

    private void EnsureCanRecord()
    {
        EnsureInHandler();
        if (EffectCount >= _effectsMax)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"{Self} recorded more than EffectsPerHandlerMax ({_effectsMax}) effects in one handler."));
        }
    }

    internal readonly record struct OutgoingMessage(int To, TMessage Message);

    internal readonly record struct PendingTimer(long Id, long DelaySimUs);

    internal readonly record struct DurableWrite(string Key, object? Value);
}
