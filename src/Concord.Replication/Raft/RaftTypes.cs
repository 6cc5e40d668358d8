using System.Collections.Immutable;
using System.Globalization;
using Concord.Core;

namespace Concord.Replication.Raft;

/// <summary>One log entry. <see cref="Command"/> is opaque to Raft; null marks the leader's no-op of a new term.</summary>
public sealed record LogEntry(long Term, long Index, string? Command)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Index}@{Term}:{Command ?? "noop"}");
}

/// <summary>What must be durable before any message that depends on it leaves: term, vote and commit.</summary>
public readonly record struct HardState(long Term, NodeId? VotedFor, long Commit)
{
    public static HardState Empty => new(0, null, 0);
}

public enum RaftRole
{
    Follower,
    PreCandidate,
    Candidate,
    Leader,
}

public enum RaftMessageType
{
    /// <summary>Would you vote for me at <c>Term</c>? Changes no one's term (pre-vote, Raft thesis §9.6).</summary>
    PreVote,
    PreVoteResponse,
    Vote,
    VoteResponse,
    /// <summary>Entries after (<c>Index</c>, <c>LogTerm</c>), and the leader's commit.</summary>
    Append,
    /// <summary><c>Index</c> is the follower's last matching index, or on reject the rejected <c>Index</c> with <c>RejectHint</c>.</summary>
    AppendResponse,
    /// <summary>Leader liveness, commit (≤ the follower's match) and a ReadIndex round in <c>Context</c>.</summary>
    Heartbeat,
    HeartbeatResponse,
    /// <summary>InstallSnapshot: the follower needs entries the leader has compacted; answered by <c>AppendResponse</c>.</summary>
    Snapshot,
    /// <summary>Leader transfer: campaign now, skipping pre-vote, with votes that override the check-quorum lease.</summary>
    TimeoutNow,
}

/// <summary>One Raft message; the fields a type does not use stay at their defaults. Immutable, so it may be shared.</summary>
public sealed record RaftMessage(RaftMessageType Type, NodeId From, NodeId To, long Term)
{
    public long Index { get; init; }
    public long LogTerm { get; init; }
    public long Commit { get; init; }
    public bool Reject { get; init; }
    public long RejectHint { get; init; }
    /// <summary>The heartbeat round a heartbeat carries, echoed by the response.</summary>
    public long Context { get; init; }
    /// <summary>A heartbeat's uncapped leader commit index: how far a follower must have applied to be as fresh as the leader was.</summary>
    public long LeaderCommit { get; init; }
    public ImmutableArray<LogEntry> Entries { get; init; } = [];
    /// <summary>The snapshot a <c>Snapshot</c> message installs.</summary>
    public Snapshot? Snapshot { get; init; }
    /// <summary>A (pre-)vote of a campaign started by <c>TimeoutNow</c>: voters grant it even while they follow a live leader.</summary>
    public bool LeaderTransfer { get; init; }

    public override string ToString()
    {
        string text = string.Create(CultureInfo.InvariantCulture, $"{Type} {From}->{To} term={Term}");
        text += Type switch
        {
            RaftMessageType.PreVote or RaftMessageType.Vote => string.Create(CultureInfo.InvariantCulture, $" last={Index}@{LogTerm}") + (LeaderTransfer ? " transfer" : ""),
            RaftMessageType.PreVoteResponse or RaftMessageType.VoteResponse => Reject ? " reject" : " grant",
            RaftMessageType.Append => string.Create(CultureInfo.InvariantCulture, $" prev={Index}@{LogTerm} commit={Commit} entries=[{string.Join(",", Entries)}]"),
            RaftMessageType.AppendResponse => Reject
                ? string.Create(CultureInfo.InvariantCulture, $" reject index={Index} hint={RejectHint}")
                : string.Create(CultureInfo.InvariantCulture, $" index={Index}"),
            RaftMessageType.Heartbeat => string.Create(CultureInfo.InvariantCulture, $" commit={Commit} leaderCommit={LeaderCommit} ctx={Context}"),
            RaftMessageType.Snapshot => " " + Snapshot,
            RaftMessageType.TimeoutNow => "",
            _ => string.Create(CultureInfo.InvariantCulture, $" ctx={Context}"),
        };
        return text;
    }
}

/// <summary>
/// The state machine as of <see cref="Index"/> (whose entry had <see cref="Term"/>): every log entry
/// up to it is compacted into <see cref="Data"/>, which is opaque to Raft.
/// </summary>
public sealed record Snapshot(long Index, long Term, string Data)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"snapshot={Index}@{Term}");
}

/// <summary>A linearizable read may be served once the state machine has applied <see cref="Index"/>.</summary>
public readonly record struct ReadState(long RequestId, long Index);

/// <summary>
/// Everything the host must do after an input, in this order: (1) persist <see cref="Snapshot"/>
/// (when not null: it replaces the state machine and every stored log entry), <see cref="HardState"/>
/// (when not null) and <see cref="Entries"/> — which replace every stored entry at index ≥
/// <c>Entries[0].Index</c> — (2) send <see cref="Messages"/>, (3) apply <see cref="CommittedEntries"/>
/// in order (after restoring <see cref="Snapshot"/>) and serve <see cref="ReadStates"/> once applied far enough, (4) call
/// <see cref="RaftNode.Advance"/>. Step 1 before step 2 is the safety rule: a vote or an append
/// acknowledgement promises state that must survive a crash.
/// </summary>
public sealed record Ready(
    HardState? HardState,
    ImmutableArray<LogEntry> Entries,
    ImmutableArray<RaftMessage> Messages,
    ImmutableArray<LogEntry> CommittedEntries,
    ImmutableArray<ReadState> ReadStates)
{
    /// <summary>A snapshot from the leader: restore the state machine from it before applying <see cref="CommittedEntries"/>.</summary>
    public Snapshot? Snapshot { get; init; }

    public bool IsEmpty => Snapshot is null && HardState is null && Entries.IsEmpty && Messages.IsEmpty && CommittedEntries.IsEmpty && ReadStates.IsEmpty;
}
