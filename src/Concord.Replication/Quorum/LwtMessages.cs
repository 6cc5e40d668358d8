namespace Concord.Replication.Quorum;

// Paxos messages of lightweight transactions (README.md, "Lightweight transactions"). Each carries
// the coordinator's request id and round, so that an answer to an earlier round or phase is ignored.

/// <summary>Coordinator → replica: promise not to accept ballots below <see cref="Ballot"/>; with <see cref="WithValue"/>, include your value of the key.</summary>
public sealed record PaxosPrepare(long RequestId, int Round, string Key, Ballot Ballot, bool WithValue) : QuorumMessage;

/// <summary>
/// Replica → coordinator. <see cref="Promised"/> false: refused, <see cref="PromisedBallot"/> is the
/// higher ballot already promised. True: the replica's in-progress (accepted, not yet committed)
/// proposal, its most recent commit, and its stored value when asked for.
/// </summary>
public sealed record PaxosPromise(
    long RequestId,
    int Round,
    bool Promised,
    Ballot PromisedBallot,
    Proposal? InProgress,
    Proposal? MostRecentCommit,
    StoredValue? Value) : QuorumMessage;

/// <summary>Coordinator → replica (Paxos v1's second round trip): your stored value of the key.</summary>
public sealed record PaxosRead(long RequestId, int Round, string Key) : QuorumMessage;

public sealed record PaxosReadReply(long RequestId, int Round, StoredValue? Value) : QuorumMessage;

/// <summary>Coordinator → replica: accept <see cref="Proposal"/> unless you promised a higher ballot.</summary>
public sealed record PaxosPropose(long RequestId, int Round, string Key, Proposal Proposal) : QuorumMessage;

public sealed record PaxosAcceptReply(long RequestId, int Round, bool Accepted, Ballot PromisedBallot) : QuorumMessage;

/// <summary>Coordinator → replica: <see cref="Proposal"/> is chosen; apply it and remember it as your most recent commit.</summary>
public sealed record PaxosCommit(long RequestId, int Round, string Key, Proposal Proposal) : QuorumMessage;

public sealed record PaxosCommitAck(long RequestId, int Round) : QuorumMessage;
