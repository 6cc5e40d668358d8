using System.Globalization;
using Concord.Core;

namespace Concord.Replication.Raft;

/// <summary>One Raft group's fixed membership and limits; <see cref="Validate"/> runs in the node's constructor.</summary>
public sealed record RaftConfig
{
    /// <summary>Every voter of the group, this node included. Fixed for the group's life.</summary>
    public required IReadOnlyList<NodeId> Voters { get; init; }

    /// <summary>A follower campaigns after a random timeout in [ElectionTicks, 2 × ElectionTicks).</summary>
    public int ElectionTicks { get; init; } = 10;

    public int HeartbeatTicks { get; init; } = 1;

    /// <summary>Pre-vote (thesis §9.6): a partitioned node that comes back cannot bump the term and depose a healthy leader.</summary>
    public bool PreVote { get; init; } = true;

    /// <summary>A leader that has not heard from a quorum for an election timeout steps down; followers in contact with a leader ignore votes.</summary>
    public bool CheckQuorum { get; init; } = true;

    /// <summary>Batching: at most this many entries per Append.</summary>
    public int EntriesPerAppendMax { get; init; } = 64;

    /// <summary>Flow control: at most this many unacknowledged Appends per follower in replicate state.</summary>
    public int InflightAppendsMax { get; init; } = 8;

    /// <summary>Back-pressure: proposals are refused while this many entries wait to commit.</summary>
    public int UncommittedEntriesMax { get; init; } = 1024;

    /// <summary>ReadIndex requests waiting for a heartbeat quorum; more are refused.</summary>
    public int PendingReadsMax { get; init; } = 1024;

    /// <summary>
    /// Lease-based leader reads (null: off, every read takes a heartbeat round). Needs
    /// <see cref="CheckQuorum"/>, whose vote abstention is what the lease relies on, and a clock
    /// passed to the node.
    /// </summary>
    public ReadLease? Lease { get; init; }

    /// <summary>
    /// Negative control only: the leader commits an entry as soon as it appends it, without a
    /// majority. Exists so tests can show the safety checks and the linearizability checker catch it.
    /// </summary>
    internal bool UnsafeCommitWithoutMajority { get; init; }

    /// <summary>Negative control only: the lease lasts (ElectionTicks − 1) ticks minus the margin, as if clocks did not drift.</summary>
    internal bool UnsafeLeaseIgnoresClockDrift { get; init; }

    /// <summary>Negative control only: ReadIndex answers at once with the commit index, without confirming leadership.</summary>
    internal bool UnsafeReadWithoutHeartbeatRound { get; init; }

    /// <summary>
    /// How long, on the leader's own monotonic clock, a heartbeat round acknowledged by a quorum
    /// lets it serve reads without another round: (ElectionTicks − 1) × TickUs × (10⁶ − ρ) / (10⁶ + ρ)
    /// − MarginUs, with ρ = <see cref="ReadLease.ClockDriftPpmMax"/>. docs/protocols/raft.md derives it.
    /// </summary>
    public long LeaseDurationUs
    {
        get
        {
            if (Lease is not { } lease)
            {
                return 0;
            }

            long blockedUs = (ElectionTicks - 1) * lease.TickUs;
            long drifted = UnsafeLeaseIgnoresClockDrift
                ? blockedUs
                : (long)((Int128)blockedUs * (1_000_000 - lease.ClockDriftPpmMax) / (1_000_000 + lease.ClockDriftPpmMax));
            return drifted - lease.MarginUs;
        }
    }

    public int Quorum => (Voters.Count / 2) + 1;

    public IReadOnlyList<string> Problems(NodeId self)
    {
        var problems = new List<string>();
        if (Voters is null || Voters.Count == 0)
        {
            problems.Add("Voters must not be empty.");
            return problems;
        }

        if (Voters.Distinct().Count() != Voters.Count)
        {
            problems.Add("Voters must be distinct.");
        }

        if (!Voters.Contains(self))
        {
            problems.Add($"Voters must include this node ({self}).");
        }

        if (HeartbeatTicks < 1)
        {
            problems.Add("HeartbeatTicks must be ≥ 1.");
        }

        if (ElectionTicks <= HeartbeatTicks)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"ElectionTicks ({ElectionTicks}) must exceed HeartbeatTicks ({HeartbeatTicks})."));
        }

        if (EntriesPerAppendMax < 1 || InflightAppendsMax < 1 || UncommittedEntriesMax < 1 || PendingReadsMax < 1)
        {
            problems.Add("EntriesPerAppendMax, InflightAppendsMax, UncommittedEntriesMax and PendingReadsMax must be ≥ 1.");
        }

        if (Lease is { } lease)
        {
            if (!CheckQuorum)
            {
                problems.Add("Lease needs CheckQuorum: followers' refusal to vote while they hear from a leader is what makes the lease safe.");
            }

            if (lease.TickUs < 1 || lease.MarginUs < 0 || lease.ClockDriftPpmMax is < 0 or >= 1_000_000)
            {
                problems.Add("Lease: TickUs must be ≥ 1, MarginUs ≥ 0 and ClockDriftPpmMax within [0, 10⁶).");
            }
            else if (LeaseDurationUs <= 0)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"Lease: the lease would last {LeaseDurationUs} µs; raise ElectionTicks or TickUs, or lower MarginUs."));
            }
        }

        return problems;
    }

    internal void Validate(NodeId self)
    {
        IReadOnlyList<string> problems = Problems(self);
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid Raft config: " + string.Join(" ", problems));
        }
    }
}

/// <summary>
/// Lease-based reads: <see cref="TickUs"/> is how often the host calls <c>Tick()</c>, measured on the
/// clock it hands the node; <see cref="ClockDriftPpmMax"/> bounds how far any member's clock rate may
/// stray from true time; <see cref="MarginUs"/> is subtracted for what the model does not cover
/// (e.g. a tick the host delivers late).
/// </summary>
public sealed record ReadLease(long TickUs, long ClockDriftPpmMax, long MarginUs = 0);
