using Concord.Core;
using Concord.Core.Clocks;
using Concord.Core.Randomness;

namespace Concord.Replication.Quorum;

/// <summary>
/// One server of a Dynamo-style quorum store: coordinator for the client requests it receives,
/// replica for the keys the ring gives it, holder of hints, and anti-entropy partner. A sans-I/O
/// state machine (etcd-raft style): the host calls <see cref="Start"/>, <see cref="Receive"/>,
/// <see cref="OnTimer"/> and <see cref="Restart"/> one at a time, and performs the effects recorded
/// on the <see cref="IQuorumHost"/> after each returns. No clock but the <see cref="TimeProvider"/>
/// given to it, no randomness, no threads.
/// </summary>
/// <remarks>
/// Durable state: <c>kv/{key}</c> → <see cref="StoredValue"/>, <c>hint/{id}</c> → <see cref="Hint"/>,
/// <c>paxos/{key}</c> → <see cref="PaxosAcceptorState"/>, <c>lwt/last-ballot</c> → the last <see cref="Ballot"/> issued.
/// Every replica merges before it acks, and the host persists before it sends, so an acknowledged
/// write is on disk at W replicas. Everything else (pending requests, sessions) is volatile.
/// Split by concern: this file routes; Coordinator, Replica, Hints, AntiEntropy, Lwt (Paxos proposer) and
/// Paxos (acceptor) hold the logic.
/// </remarks>
public sealed partial class QuorumNode
{
    private const string KeyPrefix = "kv/";
    private const string HintPrefix = "hint/";
    private const int TimerKindShift = 56;
    private const long TimerIdMask = (1L << TimerKindShift) - 1;

    private readonly HashRing _ring;
    private readonly QuorumConfig _config;
    private readonly HybridLogicalClock _hlc;
    private readonly TimeProvider _clock;
    private readonly Dictionary<string, StoredValue> _store = new(StringComparer.Ordinal);

    /// <param name="random">Draws lightweight-transaction backoffs; the host's seeded stream (null: one derived from <paramref name="self"/>).</param>
    public QuorumNode(NodeId self, HashRing ring, QuorumConfig config, TimeProvider clock, QuorumNodeStats? stats = null, SeededRandom? random = null)
    {
        ArgumentNullException.ThrowIfNull(ring);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(clock);
        config.Validate();
        if (!ring.Contains(self))
        {
            throw new ArgumentException($"{self} is not a member of the ring.", nameof(self));
        }

        Self = self;
        _ring = ring;
        _config = config;
        _clock = clock;
        Region = ring.RegionOf(self);
        _hlc = new HybridLogicalClock(new MicrosecondHlcClock(clock), config.HlcMaxOffsetUs);
        Stats = stats ?? new QuorumNodeStats();
        _random = random ?? new SeededRandom(self.Value).Derive("lwt-backoff");
        _antiEntropyPeers = [.. ring.Members.Select(m => m.Node).Where(n => n != self).Order()];
        _peerCursor = _antiEntropyPeers.Count == 0 ? 0 : (int)(self.Value % (uint)_antiEntropyPeers.Count);

        // Ids must not repeat across incarnations, or a reply to a request of the previous life could
        // complete a new one. The monotonic clock never goes back, even across crashes; 1024 ids per µs
        // of uptime is far more than a node issues.
        _nextId = checked((clock.GetTimestamp() * 1024) + 1);
    }

    public NodeId Self { get; }

    public string Region { get; }

    public QuorumNodeStats Stats { get; }

    /// <summary>This replica's state per key (read-only view for hosts, checkers and tests).</summary>
    public IReadOnlyDictionary<string, StoredValue> Store => _store;

    public int HintCount => _hints.Count;

    public int PendingRequestCount => _pending.Count;

    private enum TimerKind
    {
        RequestTimeout = 1,
        SloppyFallback = 2,
        HintReplay = 3,
        AntiEntropy = 4,
        LwtTimeout = 5,
        LwtBackoff = 6,
    }

    /// <summary>First boot, with empty durable state.</summary>
    public void Start(IQuorumHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArmPeriodicTimers(host);
    }

    /// <summary>Boot after a crash with every durable entry that was persisted, in key order.</summary>
    public void Restart(IEnumerable<KeyValuePair<string, object>> durable, IQuorumHost host)
    {
        ArgumentNullException.ThrowIfNull(durable);
        ArgumentNullException.ThrowIfNull(host);
        Invariant.Assert(_store.Count == 0 && _hints.Count == 0);
        foreach ((string key, object value) in durable)
        {
            if (key.StartsWith(KeyPrefix, StringComparison.Ordinal))
            {
                var stored = (StoredValue)value;
                _store.Add(key[KeyPrefix.Length..], stored);
                if (stored is LwwValue lww)
                {
                    // Never stamp below a timestamp this replica already holds, whatever the clock says.
                    ObserveTimestamp(lww.Timestamp);
                }
            }
            else if (key.StartsWith(HintPrefix, StringComparison.Ordinal))
            {
                var hint = (Hint)value;
                _hints.Add(hint.Id, hint);
                _nextId = Math.Max(_nextId, hint.Id + 1);
            }
            else if (key.StartsWith(PaxosPrefix, StringComparison.Ordinal))
            {
                _paxos.Add(key[PaxosPrefix.Length..], (PaxosAcceptorState)value);
            }
            else if (key == LastBallotKey)
            {
                _lastBallot = (Ballot)value;
            }
        }

        ArmPeriodicTimers(host);
    }

    public void Receive(NodeId from, QuorumMessage message, IQuorumHost host)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(host);
        switch (message)
        {
            case ClientRequest request:
                OnClientRequest(request, host);
                break;
            case ReplicaRead read:
                OnReplicaRead(from, read, host);
                break;
            case ReplicaReadReply reply:
                OnReplicaReadReply(from, reply, host);
                break;
            case ReplicaWrite write:
                OnReplicaWrite(from, write, host);
                break;
            case ReplicaWriteAck ack:
                OnReplicaWriteAck(from, ack, host);
                break;
            case ReadRepair repair:
                if (MergeLocal(repair.Key, repair.Value, host))
                {
                    Stats.KeysRepairedByReadRepair++;
                }

                break;
            case HintDelivery delivery:
                MergeLocal(delivery.Key, delivery.Value, host);
                host.Send(from, new HintAck(delivery.HintId));
                break;
            case HintAck ack:
                OnHintAck(from, ack, host);
                break;
            case MerkleExchange exchange:
                OnMerkleExchange(from, exchange, host);
                break;
            case MerkleDifference difference:
                OnMerkleDifference(from, difference, host);
                break;
            case RepairEntries entries:
                MergeRepairEntries(entries.Entries, host);
                break;
            case PaxosPrepare prepare:
                OnPaxosPrepare(from, prepare, host);
                break;
            case PaxosPromise promise:
                OnPaxosPromise(from, promise, host);
                break;
            case PaxosRead paxosRead:
                OnPaxosRead(from, paxosRead, host);
                break;
            case PaxosReadReply paxosReadReply:
                OnPaxosReadReply(from, paxosReadReply, host);
                break;
            case PaxosPropose propose:
                OnPaxosPropose(from, propose, host);
                break;
            case PaxosAcceptReply acceptReply:
                OnPaxosAcceptReply(from, acceptReply, host);
                break;
            case PaxosCommit commit:
                OnPaxosCommit(from, commit, host);
                break;
            case PaxosCommitAck commitAck:
                OnPaxosCommitAck(from, commitAck, host);
                break;
            case ClientReply:
                // Only clients receive replies; a node that gets one was misaddressed. Dropping it is safe.
                break;
            default:
                throw new ArgumentException($"Unknown quorum message {message.GetType().Name}.", nameof(message));
        }
    }

    public void OnTimer(long tag, IQuorumHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        long id = tag & TimerIdMask;
        switch ((TimerKind)(tag >> TimerKindShift))
        {
            case TimerKind.RequestTimeout:
                OnRequestTimeout(id, host);
                break;
            case TimerKind.SloppyFallback:
                OnSloppyFallback(id, host);
                break;
            case TimerKind.HintReplay:
                ReplayHints(host);
                host.SetTimer(_config.HintReplayIntervalUs, Tag(TimerKind.HintReplay, 0));
                break;
            case TimerKind.AntiEntropy:
                StartAntiEntropy(host);
                host.SetTimer(_config.AntiEntropyIntervalUs, Tag(TimerKind.AntiEntropy, 0));
                break;
            case TimerKind.LwtTimeout:
                OnLwtTimeout(id, host);
                break;
            case TimerKind.LwtBackoff:
                OnLwtBackoff(id, host);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(tag), tag, "Not a timer tag of this node.");
        }
    }

    /// <summary>The tags of the periodic timers, so a host or test can fire them by hand.</summary>
    internal static long AntiEntropyTimerTag => Tag(TimerKind.AntiEntropy, 0);

    internal static long HintReplayTimerTag => Tag(TimerKind.HintReplay, 0);

    internal static long RequestTimeoutTag(long id) => Tag(TimerKind.RequestTimeout, id);

    private static long Tag(TimerKind kind, long id)
    {
        Invariant.Assert(id >= 0 && id <= TimerIdMask);
        return ((long)kind << TimerKindShift) | id;
    }

    private long NextId() => _nextId++;

    private void ArmPeriodicTimers(IQuorumHost host)
    {
        host.SetTimer(_config.HintReplayIntervalUs, Tag(TimerKind.HintReplay, 0));
        if (_config.AntiEntropyIntervalUs > 0)
        {
            host.SetTimer(_config.AntiEntropyIntervalUs, Tag(TimerKind.AntiEntropy, 0));
        }
    }

    private void ObserveTimestamp(HlcTimestamp timestamp)
    {
        if (!_hlc.TryObserve(timestamp, out _, out _))
        {
            Stats.HlcRejections++;
        }
    }

    /// <summary>Merges <paramref name="value"/> into this replica's state and persists it; true when the state changed.</summary>
    private bool MergeLocal(string key, StoredValue value, IQuorumHost host)
    {
        if (value is LwwValue lww)
        {
            // Absorbing the write's timestamp keeps causality: a write this node coordinates later wins.
            ObserveTimestamp(lww.Timestamp);
        }

        if (_store.TryGetValue(key, out StoredValue? current))
        {
            StoredValue merged = current.Merge(value);
            if (ReferenceEquals(merged, current) || merged.Equals(current))
            {
                return false;
            }

            value = merged;
        }

        _store[key] = value;
        host.WriteDurable(KeyPrefix + key, value);
        return true;
    }

    /// <summary>A write kept for <see cref="Target"/>, which did not ack it, replayed until it does.</summary>
    public sealed record Hint(long Id, NodeId Target, string Key, StoredValue Value);

}
