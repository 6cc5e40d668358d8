using System.Collections.Immutable;
using Concord.Core;
using Concord.Core.Checksums;
using Concord.Core.Clocks;

namespace Concord.Replication.Quorum;

/// <summary>Every message of the quorum protocol; README.md lists them in one table. All immutable.</summary>
public abstract record QuorumMessage;

public enum OperationKind
{
    Read,
    Write,

    /// <summary>Compare-and-set at quorum: read, compare, write. Not linearizable (see README).</summary>
    CompareAndSet,

    /// <summary>Add <see cref="ClientRequest.Value"/> to a PN-counter (CRDT mode).</summary>
    Increment,

    /// <summary>Add <see cref="ClientRequest.Value"/> to an OR-set (CRDT mode).</summary>
    AddToSet,

    /// <summary>Compare-and-set as a lightweight transaction (Paxos per key, LWW only): linearizable.</summary>
    PaxosCompareAndSet,

    /// <summary>Cassandra's SERIAL read: through Paxos, finishing any in-progress proposal first. Linearizable.</summary>
    SerialRead,
}

public enum ReplyStatus
{
    Ok,

    /// <summary>The compare of a compare-and-set failed; nothing was written.</summary>
    CompareFailed,

    /// <summary>Too few replicas answered in time. A write may still have taken effect (history <c>info</c>).</summary>
    Timeout,

    /// <summary>Refused before anything was sent (impossible consistency, overload): definitely not applied.</summary>
    Unavailable,
}

/// <summary>
/// A client's request to any node, which becomes its coordinator. <see cref="Expected"/> is the
/// compare value of a compare-and-set (null: the key must be absent). <see cref="Context"/> is
/// the causal context of the client's last read in DVV mode (null: a blind write).
/// <see cref="Hops"/> counts forwards to a replica-coordinator, bounded by one.
/// </summary>
public sealed record ClientRequest(
    long RequestId,
    NodeId Client,
    OperationKind Kind,
    string Key,
    long Value,
    Consistency Consistency,
    long? Expected = null,
    VectorClock? Context = null,
    int Hops = 0) : QuorumMessage;

/// <summary>The answer to a <see cref="ClientRequest"/>; <see cref="Values"/> and <see cref="Context"/> for reads.</summary>
public sealed record ClientReply(long RequestId, ReplyStatus Status, ImmutableArray<long> Values, VectorClock? Context, string? Detail = null) : QuorumMessage;

/// <summary>Coordinator → replica (or fallback): send your state of <see cref="Key"/>.</summary>
public sealed record ReplicaRead(long RpcId, string Key) : QuorumMessage;

/// <summary>Replica → coordinator: its state, null when it has none.</summary>
public sealed record ReplicaReadReply(long RpcId, StoredValue? Value) : QuorumMessage;

/// <summary>
/// Coordinator → replica: merge <see cref="Value"/> durably, then ack. With <see cref="HintFor"/>
/// set, the receiver is a sloppy-quorum fallback: it keeps the value as a hint for that replica.
/// </summary>
public sealed record ReplicaWrite(long RpcId, string Key, StoredValue Value, NodeId? HintFor = null) : QuorumMessage;

public sealed record ReplicaWriteAck(long RpcId) : QuorumMessage;

/// <summary>Coordinator → stale replica after a read: merge this newer state. No ack.</summary>
public sealed record ReadRepair(string Key, StoredValue Value) : QuorumMessage;

/// <summary>Hint holder → intended replica, after it comes back: merge, then ack so the hint is dropped.</summary>
public sealed record HintDelivery(long HintId, string Key, StoredValue Value) : QuorumMessage;

public sealed record HintAck(long HintId) : QuorumMessage;

/// <summary>
/// Anti-entropy, initiator → peer: my Merkle tree over the keys we both replicate. The tree is
/// frozen (hashes computed, never mutated again) before it is sent.
/// </summary>
public sealed record MerkleExchange(long SessionId, MerkleTree Tree) : QuorumMessage;

/// <summary>Peer → initiator: the differing leaf ranges, and my entries in them.</summary>
public sealed record MerkleDifference(long SessionId, ImmutableArray<LeafRange> Ranges, ImmutableArray<KeyState> Entries) : QuorumMessage;

/// <summary>Initiator → peer: my entries in the differing ranges. No ack; the next round catches a loss.</summary>
public sealed record RepairEntries(ImmutableArray<KeyState> Entries) : QuorumMessage;

/// <summary>One key's state, as shipped by anti-entropy.</summary>
public readonly record struct KeyState(string Key, StoredValue Value);
