namespace Concord.Replication.Quorum;

/// <summary>
/// Counters of one node. Held by the host, not the node, so they survive crashes (a restarted
/// node gets the same object back); <see cref="Add"/> sums a cluster.
/// </summary>
public sealed class QuorumNodeStats
{
    public long RequestsCoordinated { get; set; }

    /// <summary>DVV and CRDT updates sent on to a replica, which must coordinate them.</summary>
    public long RequestsForwarded { get; set; }

    public long Timeouts { get; set; }

    public long Unavailable { get; set; }

    public long ReadRepairsSent { get; set; }

    /// <summary>Read repairs that changed the receiving replica's state.</summary>
    public long KeysRepairedByReadRepair { get; set; }

    public long HintsStored { get; set; }

    /// <summary>Hints refused because <see cref="QuorumConfig.HintsMax"/> was reached.</summary>
    public long HintsDropped { get; set; }

    public long HintsDelivered { get; set; }

    /// <summary>Fallback nodes asked by sloppy quorum.</summary>
    public long FallbacksUsed { get; set; }

    public long AntiEntropySessions { get; set; }

    public long AntiEntropyRangesDiffering { get; set; }

    public long KeysRepairedByAntiEntropy { get; set; }

    /// <summary>Remote HLC timestamps too far ahead of this node's clock, not absorbed.</summary>
    public long HlcRejections { get; set; }

    /// <summary>Lightweight transactions this node coordinated.</summary>
    public long LwtRequests { get; set; }

    /// <summary>Paxos phases (prepare, read, propose, commit) coordinated: one request/response exchange with the replicas each.</summary>
    public long LwtRoundTrips { get; set; }

    /// <summary>Ballot conflicts that sent a coordinator into randomized backoff.</summary>
    public long LwtContentionRetries { get; set; }

    /// <summary>Accepted but uncommitted proposals a coordinator finished before its own.</summary>
    public long LwtInProgressRepairs { get; set; }

    public void Add(QuorumNodeStats other)
    {
        ArgumentNullException.ThrowIfNull(other);
        RequestsCoordinated += other.RequestsCoordinated;
        RequestsForwarded += other.RequestsForwarded;
        Timeouts += other.Timeouts;
        Unavailable += other.Unavailable;
        ReadRepairsSent += other.ReadRepairsSent;
        KeysRepairedByReadRepair += other.KeysRepairedByReadRepair;
        HintsStored += other.HintsStored;
        HintsDropped += other.HintsDropped;
        HintsDelivered += other.HintsDelivered;
        FallbacksUsed += other.FallbacksUsed;
        AntiEntropySessions += other.AntiEntropySessions;
        AntiEntropyRangesDiffering += other.AntiEntropyRangesDiffering;
        KeysRepairedByAntiEntropy += other.KeysRepairedByAntiEntropy;
        HlcRejections += other.HlcRejections;
        LwtRequests += other.LwtRequests;
        LwtRoundTrips += other.LwtRoundTrips;
        LwtContentionRetries += other.LwtContentionRetries;
        LwtInProgressRepairs += other.LwtInProgressRepairs;
    }

    public override string ToString() =>
        $"coordinated={RequestsCoordinated} forwarded={RequestsForwarded} timeouts={Timeouts} unavailable={Unavailable} " +
        $"read-repairs={ReadRepairsSent} repaired-by-read={KeysRepairedByReadRepair} hints stored={HintsStored} dropped={HintsDropped} " +
        $"delivered={HintsDelivered} fallbacks={FallbacksUsed} ae-sessions={AntiEntropySessions} ae-ranges={AntiEntropyRangesDiffering} " +
        $"repaired-by-ae={KeysRepairedByAntiEntropy} hlc-rejections={HlcRejections} lwt={LwtRequests} lwt-round-trips={LwtRoundTrips} " +
        $"lwt-contention-retries={LwtContentionRetries} lwt-repairs={LwtInProgressRepairs}";
}
