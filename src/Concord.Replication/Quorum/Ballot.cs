using Concord.Core;
using Concord.Core.Clocks;

namespace Concord.Replication.Quorum;

/// <summary>
/// A Paxos ballot: an HLC timestamp (µs, see <see cref="MicrosecondHlcClock"/>) and the proposing
/// node, ordered by timestamp then node — a total order in which two proposers never share a
/// ballot. A proposer issues strictly increasing ballots, across restarts too (it persists the
/// last one before sending it). The committed value of a round is stamped with its ballot, so last-write-wins
/// order on replicas is ballot order.
/// </summary>
public readonly record struct Ballot(HlcTimestamp Timestamp, NodeId Proposer) : IComparable<Ballot>
{
    /// <summary>Below every ballot a proposer issues: what a replica that never promised holds.</summary>
    public static Ballot Zero => default;

    public int CompareTo(Ballot other) => Timestamp != other.Timestamp
        ? Timestamp.CompareTo(other.Timestamp)
        : Proposer.CompareTo(other.Proposer);

    /// <summary>The smallest ballot of <paramref name="proposer"/> above <paramref name="floor"/> that is at least <paramref name="now"/>.</summary>
    public static Ballot Above(Ballot floor, HlcTimestamp now, NodeId proposer)
    {
        var candidate = new Ballot(now, proposer);
        return candidate > floor ? candidate : new Ballot(HlcTimestamp.Unpack(floor.Timestamp.Pack() + 1), proposer);
    }

    public static bool operator <(Ballot left, Ballot right) => left.CompareTo(right) < 0;

    public static bool operator >(Ballot left, Ballot right) => left.CompareTo(right) > 0;

    public static bool operator <=(Ballot left, Ballot right) => left.CompareTo(right) <= 0;

    public static bool operator >=(Ballot left, Ballot right) => left.CompareTo(right) >= 0;

    public static Ballot Max(Ballot a, Ballot b) => a >= b ? a : b;

    public override string ToString() => $"{Timestamp}@{Proposer}";
}

/// <summary>A value proposed (or accepted, or committed) for one key at <see cref="Ballot"/>: "set the key to <see cref="Value"/>".</summary>
public sealed record Proposal(Ballot Ballot, long Value)
{
    /// <summary>The replica state a commit of this proposal merges: last-write-wins at the ballot's timestamp.</summary>
    public LwwValue ToStoredValue() => new(Ballot.Timestamp, Ballot.Proposer, Value);
}
