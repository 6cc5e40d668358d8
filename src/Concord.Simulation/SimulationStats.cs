namespace Concord.Simulation;

/// <summary>Counters of a run so far. A message dropped for any reason is counted exactly once.</summary>
public sealed class SimulationStats
{
    public long EventsProcessed { get; internal set; }

    /// <summary>Messages handed to the network by nodes (a duplicate is not a second send).</summary>
    public long MessagesSent { get; internal set; }

    public long MessagesDelivered { get; internal set; }

    public long MessagesDuplicated { get; internal set; }

    /// <summary>Lost to the link's <c>LossProbability</c>.</summary>
    public long MessagesLost { get; internal set; }

    /// <summary>Dropped by a partition, at send or at delivery.</summary>
    public long MessagesDroppedByPartition { get; internal set; }

    /// <summary>Arrived at a crashed node, or were queued for an incarnation that crashed.</summary>
    public long MessagesDroppedNodeDown { get; internal set; }

    public long TimersFired { get; internal set; }

    public long Crashes { get; internal set; }

    public long Restarts { get; internal set; }

    /// <summary>Events postponed because their node was paused or busy (slow node).</summary>
    public long EventsDeferred { get; internal set; }

    public override string ToString() =>
        $"events={EventsProcessed} sent={MessagesSent} delivered={MessagesDelivered} duplicated={MessagesDuplicated} " +
        $"lost={MessagesLost} partitioned={MessagesDroppedByPartition} to-down-node={MessagesDroppedNodeDown} " +
        $"timers={TimersFired} crashes={Crashes} restarts={Restarts} deferred={EventsDeferred}";
}
