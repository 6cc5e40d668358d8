using System.Globalization;
using Concord.Core;

namespace Concord.Simulation.Faults;

/// <summary>
/// Something that goes wrong between <see cref="ScheduledFault.StartUs"/> and
/// <see cref="ScheduledFault.EndUs"/>. Build them with the static helpers
/// (<see cref="RegionPartition"/>, <see cref="Isolate"/>, <see cref="OneWay(IReadOnlyList{NodeId}, IReadOnlyList{NodeId})"/>)
/// or the records directly.
/// </summary>
public abstract record Fault
{
    /// <summary>Both directions between two regions are cut (clients included).</summary>
    public static PartitionFault RegionPartition(Topology topology, string regionA, string regionB)
    {
        ArgumentNullException.ThrowIfNull(topology);
        return new PartitionFault(topology.NodesIn(regionA), topology.NodesIn(regionB), Bidirectional: true);
    }

    /// <summary><paramref name="node"/> can neither send to nor hear from anyone.</summary>
    public static PartitionFault Isolate(Topology topology, NodeId node)
    {
        ArgumentNullException.ThrowIfNull(topology);
        return new PartitionFault([node], [.. topology.Nodes.Select(n => n.Id).Where(id => id != node)], Bidirectional: true);
    }

    /// <summary>Messages from <paramref name="from"/> to <paramref name="to"/> are dropped; the reverse direction still works.</summary>
    public static PartitionFault OneWay(IReadOnlyList<NodeId> from, IReadOnlyList<NodeId> to) => new(from, to, Bidirectional: false);

    /// <summary>One-way cut from one region to another.</summary>
    public static PartitionFault OneWay(Topology topology, string fromRegion, string toRegion)
    {
        ArgumentNullException.ThrowIfNull(topology);
        return OneWay(topology.NodesIn(fromRegion), topology.NodesIn(toRegion));
    }

    internal abstract void Validate(Topology topology, string path, List<string> errors);

    private protected static void CheckNode(Topology topology, NodeId node, string path, List<string> errors)
    {
        if (!topology.Contains(node))
        {
            errors.Add($"{path} names {node}; the topology has nodes n0..n{topology.NodeCount - 1}.");
        }
    }

    private protected static string List(IReadOnlyList<NodeId> nodes) => "[" + string.Join(",", nodes) + "]";
}

/// <summary>
/// Messages from any node of <see cref="From"/> to any node of <see cref="To"/> are dropped, at send
/// and at delivery (so nothing already in flight crosses either). With <see cref="Bidirectional"/>
/// the reverse direction is cut too. Overlapping partitions compose: a link works again once every
/// partition that cut it has healed.
/// </summary>
public sealed record PartitionFault(IReadOnlyList<NodeId> From, IReadOnlyList<NodeId> To, bool Bidirectional) : Fault
{
    public override string ToString() => $"partition {List(From)} {(Bidirectional ? "<->" : "->")} {List(To)}";

    internal override void Validate(Topology topology, string path, List<string> errors)
    {
        if (From is null || To is null || From.Count == 0 || To.Count == 0)
        {
            errors.Add($"{path}: a partition needs nodes on both sides.");
            return;
        }

        foreach (NodeId node in From.Concat(To))
        {
            CheckNode(topology, node, path, errors);
        }
    }
}

/// <summary>
/// The node stops: its volatile state (the node object, its timers, messages queued for it) is lost.
/// At <see cref="ScheduledFault.EndUs"/> a fresh node object is created and handed its durable state
/// through <see cref="INode{TMessage}.OnRestart"/>. Overlapping crashes of one node nest.
/// </summary>
public sealed record CrashFault(NodeId Node) : Fault
{
    public override string ToString() => $"crash {Node}";

    internal override void Validate(Topology topology, string path, List<string> errors) => CheckNode(topology, Node, path, errors);
}

/// <summary>
/// A stop-the-world pause (GC, VM migration): the node handles nothing and fires no timers until
/// <see cref="ScheduledFault.EndUs"/>, then everything that arrived meanwhile is handled in arrival order.
/// Its clock keeps running.
/// </summary>
public sealed record PauseFault(NodeId Node) : Fault
{
    public override string ToString() => $"pause {Node}";

    internal override void Validate(Topology topology, string path, List<string> errors) => CheckNode(topology, Node, path, errors);
}

/// <summary>
/// Sets the node's clock: wall reading = monotonic reading + <see cref="OffsetUs"/>, and the monotonic
/// clock runs at (1 + <see cref="DriftPpm"/>/10⁶) × simulated time. With a fault active from time 0,
/// local = sim × (1 + drift) + offset. The wall clock jumps when the fault starts and ends (an NTP step);
/// the monotonic clock never jumps. The heal restores the settings in force before the fault.
/// </summary>
public sealed record ClockFault(NodeId Node, long OffsetUs, long DriftPpm) : Fault
{
    /// <summary>Bounds a clock offset: one hour.</summary>
    public const long OffsetUsLimit = 3_600_000_000;

    /// <summary>Bounds drift: ±50%, far beyond any real oscillator but handy for making effects visible.</summary>
    public const long DriftPpmLimit = 500_000;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"clock {Node} offset={OffsetUs}us drift={DriftPpm}ppm");

    internal override void Validate(Topology topology, string path, List<string> errors)
    {
        CheckNode(topology, Node, path, errors);
        if (OffsetUs is < -OffsetUsLimit or > OffsetUsLimit)
        {
            errors.Add($"{path}.OffsetUs must be within ±{OffsetUsLimit} µs; got {OffsetUs}.");
        }

        if (DriftPpm is < -DriftPpmLimit or > DriftPpmLimit)
        {
            errors.Add($"{path}.DriftPpm must be within ±{DriftPpmLimit} ppm; got {DriftPpm}.");
        }
    }
}

/// <summary>
/// Every handler on the node takes <see cref="ProcessingDelayUs"/> of simulated time: its outgoing
/// messages leave that much later, and events arriving while it is busy wait in arrival order.
/// The heal restores the previous delay.
/// </summary>
public sealed record SlowNodeFault(NodeId Node, long ProcessingDelayUs) : Fault
{
    public const long ProcessingDelayUsMax = 60_000_000;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"slow {Node} +{ProcessingDelayUs}us per event");

    internal override void Validate(Topology topology, string path, List<string> errors)
    {
        CheckNode(topology, Node, path, errors);
        if (ProcessingDelayUs is < 0 or > ProcessingDelayUsMax)
        {
            errors.Add($"{path}.ProcessingDelayUs must be within [0, {ProcessingDelayUsMax}] µs; got {ProcessingDelayUs}.");
        }
    }
}

/// <summary><see cref="Fault"/> is in force from <see cref="StartUs"/> until <see cref="EndUs"/> (exclusive); <see cref="Forever"/> never heals.</summary>
public sealed record ScheduledFault(long StartUs, long EndUs, Fault Fault)
{
    public const long Forever = long.MaxValue;

    /// <summary>In force from <paramref name="startUs"/> on, never healed.</summary>
    public static ScheduledFault From(long startUs, Fault fault) => new(startUs, Forever, fault);

    public override string ToString() => EndUs == Forever
        ? string.Create(CultureInfo.InvariantCulture, $"{StartUs}us.. {Fault}")
        : string.Create(CultureInfo.InvariantCulture, $"{StartUs}us..{EndUs}us {Fault}");

    internal void Validate(Topology topology, string path, List<string> errors)
    {
        if (StartUs < 0)
        {
            errors.Add($"{path}.StartUs must be ≥ 0; got {StartUs}.");
        }

        if (EndUs <= StartUs)
        {
            errors.Add($"{path}.EndUs ({EndUs}) must be after StartUs ({StartUs}).");
        }

        if (Fault is null)
        {
            errors.Add($"{path}.Fault must not be null.");
            return;
        }

        Fault.Validate(topology, path + ".Fault", errors);
    }
}
