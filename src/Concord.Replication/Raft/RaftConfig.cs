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
    /// Negative control only: the leader commits an entry as soon as it appends it, without a
    /// majority. Exists so tests can show the safety checks and the linearizability checker catch it.
    /// </summary>
    internal bool UnsafeCommitWithoutMajority { get; init; }

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
