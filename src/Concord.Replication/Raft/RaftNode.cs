using System.Collections.Immutable;
using Concord.Core;
using Concord.Core.Randomness;

namespace Concord.Replication.Raft;

/// <summary>
/// One member of a Raft group, sans-I/O in the style of etcd-raft: the host feeds it
/// <see cref="Step"/>, <see cref="Tick"/>, <see cref="Propose"/> and <see cref="ReadIndex"/>, then
/// drains <see cref="TakeReady"/> — persist, send, apply — and calls <see cref="Advance"/> before the
/// next input. No clock, no I/O, no ambient randomness: election jitter comes from the injected
/// <see cref="SeededRandom"/>.
/// </summary>
public sealed partial class RaftNode
{
    private readonly RaftConfig _config;
    private readonly SeededRandom _random;
    // _log[0] is a sentinel (index 0, term 0) so that "the entry before the first" always exists.
    private readonly List<LogEntry> _log = [new LogEntry(0, 0, null)];
    private readonly Dictionary<NodeId, Progress> _progress = [];
    private readonly HashSet<NodeId> _votes = [];
    private readonly HashSet<NodeId> _rejections = [];
    private readonly List<RaftMessage> _outbox = [];
    private readonly List<ReadState> _readStates = [];
    private readonly List<PendingRead> _pendingReads = [];
    // Heartbeat rounds sent this term and the leader's clock reading when each left (leases only).
    private readonly Queue<(long Round, long SentUs)> _roundsSent = new();
    private readonly TimeProvider? _clock;

    private HardState _persisted;
    private long _firstUnstableIndex;
    private long _applied;
    private int _electionElapsed;
    private int _heartbeatElapsed;
    private int _randomizedElectionTimeout;
    private long _heartbeatRound;
    private long _confirmedRound;
    private long? _leaseStartUs;
    private bool _leaseForfeited;
    private int _ticksSinceBoot;
    private Snapshot? _snapshot;
    private Snapshot? _unappliedSnapshot;
    private NodeId? _transferee;
    // The last index known to match the current leader's log (from its Appends this term).
    private long _matchedWithLeader;
    private bool _readyOutstanding;

    private const int RoundsSentMax = 64;

    /// <summary>
    /// A fresh node with an empty log, or one restarted from what it persisted: hard state, the latest
    /// snapshot and the log entries after it. The host restores its state machine from
    /// <paramref name="snapshot"/>; committed entries after it come out again in a Ready.
    /// <paramref name="clock"/> (its monotonic <c>GetTimestamp</c>) is read only for lease reads.
    /// </summary>
    public RaftNode(
        NodeId self,
        RaftConfig config,
        SeededRandom random,
        HardState durable = default,
        IReadOnlyList<LogEntry>? durableLog = null,
        Snapshot? snapshot = null,
        TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(random);
        config.Validate(self);
        if (config.Lease is not null && clock is null)
        {
            throw new ArgumentException("Lease reads need a clock.", nameof(clock));
        }

        Self = self;
        _config = config;
        _random = random;
        _clock = clock;
        if (snapshot is not null)
        {
            Invariant.Assert(snapshot.Term <= durable.Term);
            _log[0] = new LogEntry(snapshot.Term, snapshot.Index, null);
            _snapshot = snapshot;
        }

        foreach (LogEntry entry in durableLog ?? [])
        {
            Invariant.Assert(entry.Index == LastIndex + 1);
            Invariant.Assert(entry.Term >= LastTerm);
            Invariant.Assert(entry.Term <= durable.Term);
            _log.Add(entry);
        }

        Invariant.Assert(durable.Commit <= LastIndex);
        Term = durable.Term;
        VotedFor = durable.VotedFor;
        Commit = Math.Max(durable.Commit, SnapshotIndex);
        _persisted = durable;
        _firstUnstableIndex = LastIndex + 1;
        // The state machine is volatile: the host restores it from the snapshot and re-applies the rest.
        _applied = SnapshotIndex;
        BecomeFollower(Term, null);
    }

    public NodeId Self { get; }

    public long Term { get; private set; }

    public NodeId? VotedFor { get; private set; }

    public RaftRole Role { get; private set; }

    /// <summary>The leader this node follows in <see cref="Term"/>, if it knows one.</summary>
    public NodeId? Leader { get; private set; }

    public long Commit { get; private set; }

    /// <summary>The index the log was last compacted to (0: never); entries after it are in <see cref="Log"/>.</summary>
    public long SnapshotIndex => _log[0].Index;

    public long LastIndex => SnapshotIndex + _log.Count - 1;

    public long LastTerm => _log[^1].Term;

    /// <summary>The entries after <see cref="SnapshotIndex"/>. For checkers and tests; hosts use <see cref="Ready"/>.</summary>
    public IReadOnlyList<LogEntry> Log => _log.GetRange(1, _log.Count - 1);

    /// <summary>The latest snapshot this node took or installed; null before the first.</summary>
    public Snapshot? LatestSnapshot => _snapshot;

    /// <summary>The leadership transfer in progress, if this leader started one.</summary>
    public NodeId? Transferee => _transferee;

    /// <summary>Ticks since this follower last heard from its leader.</summary>
    public int TicksSinceLeaderContact => _electionElapsed;

    /// <summary>
    /// The highest commit index a leader has reported to this node. A follower that has applied this
    /// far, and heard from its leader within k ticks, serves state no older than the leader's was k
    /// ticks (plus one message delay) ago: the basis of bounded-stale follower reads.
    /// </summary>
    public long LeaderCommitSeen { get; private set; }

    /// <summary>The term of the entry at <paramref name="index"/>; -1 when it is compacted or beyond the log.</summary>
    public long TermAt(long index) => index >= SnapshotIndex && index <= LastIndex ? _log[(int)(index - SnapshotIndex)].Term : -1;

    public bool HasReady =>
        !HardStateNow.Equals(_persisted) || _firstUnstableIndex <= LastIndex || _outbox.Count > 0 || _readStates.Count > 0
        || Commit > _applied || _unappliedSnapshot is not null;

    private HardState HardStateNow => new(Term, VotedFor, Commit);

    private bool IsSingleVoter => _config.Voters.Count == 1;

    /// <summary>Advances logical time by one tick: elections and heartbeats are counted in ticks.</summary>
    public void Tick()
    {
        EnsureNoReadyOutstanding();
        _electionElapsed++;
        _ticksSinceBoot = Math.Min(_ticksSinceBoot + 1, _config.ElectionTicks);
        if (Role == RaftRole.Leader)
        {
            TickLeader();
            return;
        }

        if (_electionElapsed >= _randomizedElectionTimeout)
        {
            _electionElapsed = 0;
            Campaign();
        }
    }

    /// <summary>Appends <paramref name="command"/> if this node leads and has room; false means "ask the leader" or "slow down".</summary>
    public bool Propose(string command)
    {
        ArgumentNullException.ThrowIfNull(command);
        EnsureNoReadyOutstanding();
        // During a transfer the log must stop growing so the transferee can catch up (etcd-raft does the same).
        if (Role != RaftRole.Leader || _transferee is not null || LastIndex - Commit >= _config.UncommittedEntriesMax)
        {
            return false;
        }

        AppendAsLeader([command]);
        return true;
    }

    /// <summary>
    /// Starts a linearizable read (thesis §6.4): once a heartbeat round confirms leadership, a
    /// <see cref="ReadState"/> with the commit index taken now comes out in a Ready. With a
    /// <see cref="RaftConfig.Lease"/> that is still valid the round is skipped and the ReadState comes
    /// out at once. False when not leader, when this term has no committed entry yet (the commit
    /// index may be stale), or when too many reads wait.
    /// </summary>
    public bool ReadIndex(long requestId)
    {
        EnsureNoReadyOutstanding();
        if (Role != RaftRole.Leader || TermAt(Commit) != Term || _pendingReads.Count >= _config.PendingReadsMax)
        {
            return false;
        }

        if (IsSingleVoter || _config.UnsafeReadWithoutHeartbeatRound || HasValidLease)
        {
            if (HasValidLease)
            {
                ReadsServedByLease++;
            }

            _readStates.Add(new ReadState(requestId, Commit));
            return true;
        }

        _pendingReads.Add(new PendingRead(requestId, Commit, _heartbeatRound + 1));
        BroadcastHeartbeat();
        return true;
    }

    /// <summary>
    /// True while this leader may serve reads from its lease: a heartbeat round it sent at local time
    /// s was acknowledged by a quorum, and its clock now reads less than s + <see cref="RaftConfig.LeaseDurationUs"/>.
    /// </summary>
    public bool HasValidLease =>
        Role == RaftRole.Leader && _config.Lease is not null && !_leaseForfeited && _transferee is null
        && _leaseStartUs is { } start && ClockUs() < start + _config.LeaseDurationUs;

    /// <summary>Reads answered from the lease without a heartbeat round, since this node booted.</summary>
    public long ReadsServedByLease { get; private set; }

    /// <summary>
    /// Compacts the log up to <paramref name="index"/>, which the state machine has applied and whose
    /// state <paramref name="data"/> is. The host persists the returned snapshot and may then drop its
    /// stored entries up to <paramref name="index"/>; followers that need them get the snapshot instead.
    /// </summary>
    public Snapshot Compact(long index, string data)
    {
        ArgumentNullException.ThrowIfNull(data);
        EnsureNoReadyOutstanding();
        if (index <= SnapshotIndex || index > _applied)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"{Self}: compact only past the last snapshot ({SnapshotIndex}) and up to the applied index ({_applied}).");
        }

        var snapshot = new Snapshot(index, TermAt(index), data);
        _log.RemoveRange(0, (int)(index - SnapshotIndex));
        _log[0] = new LogEntry(snapshot.Term, snapshot.Index, null);
        _snapshot = snapshot;
        return snapshot;
    }

    /// <summary>
    /// Leader only: hands leadership to <paramref name="target"/> (thesis §3.10). Proposals are refused
    /// while the target catches up; then it gets <c>TimeoutNow</c> and campaigns at once. Gives up
    /// after an election timeout. False when not leader, the target is not a voter, or a transfer runs.
    /// </summary>
    public bool TransferLeadership(NodeId target)
    {
        EnsureNoReadyOutstanding();
        if (Role != RaftRole.Leader || target == Self || !_config.Voters.Contains(target) || _transferee is not null)
        {
            return false;
        }

        _transferee = target;
        // The target's election overrides the followers' lease abstention, so the lease ends now, for good in this term.
        _leaseForfeited = true;
        _electionElapsed = 0;
        if (_progress[target].Match == LastIndex)
        {
            Send(new RaftMessage(RaftMessageType.TimeoutNow, Self, target, Term));
        }
        else
        {
            SendAppends(target);
        }

        return true;
    }

    /// <summary>The effects of every input since the last <see cref="Advance"/>; see <see cref="Ready"/> for the order.</summary>
    public Ready TakeReady()
    {
        EnsureNoReadyOutstanding();
        HardState now = HardStateNow;
        Invariant.Assert(_firstUnstableIndex > SnapshotIndex);
        ImmutableArray<LogEntry> unstable = _firstUnstableIndex <= LastIndex
            ? [.. _log.Skip((int)(_firstUnstableIndex - SnapshotIndex))]
            : [];
        // After an installed snapshot the state machine resumes from it, not from what it applied before.
        long appliedFrom = _unappliedSnapshot is not null ? SnapshotIndex : _applied;
        Invariant.Assert(appliedFrom >= SnapshotIndex);
        ImmutableArray<LogEntry> committed = Commit > appliedFrom
            ? [.. _log.Skip((int)(appliedFrom - SnapshotIndex) + 1).Take((int)(Commit - appliedFrom))]
            : [];
        var ready = new Ready(now.Equals(_persisted) ? null : now, unstable, [.. _outbox], committed, [.. _readStates])
        {
            Snapshot = _unappliedSnapshot,
        };
        _readyOutstanding = true;
        return ready;
    }

    /// <summary>The host has persisted, sent and applied the last <see cref="TakeReady"/>.</summary>
    public void Advance()
    {
        Invariant.Assert(_readyOutstanding);
        _readyOutstanding = false;
        _persisted = HardStateNow;
        _firstUnstableIndex = LastIndex + 1;
        _applied = Commit;
        _unappliedSnapshot = null;
        _outbox.Clear();
        _readStates.Clear();
    }

    private void EnsureNoReadyOutstanding()
    {
        if (_readyOutstanding)
        {
            throw new InvalidOperationException($"{Self}: call Advance() after handling a Ready before the next input.");
        }
    }

    private void Send(RaftMessage message)
    {
        Invariant.Assert(message.From == Self);
        Invariant.Assert(message.To != Self);
        _outbox.Add(message);
    }

    private void ResetElectionTimer()
    {
        _electionElapsed = 0;
        _heartbeatElapsed = 0;
        _randomizedElectionTimeout = _config.ElectionTicks + _random.NextInt(_config.ElectionTicks);
    }

    /// <summary>The clock handed to the constructor, in µs.</summary>
    private long ClockUs()
    {
        Invariant.Assert(_clock is not null);
        return (long)((Int128)_clock!.GetTimestamp() * 1_000_000 / _clock.TimestampFrequency);
    }

    /// <summary>A read waiting for a quorum to acknowledge heartbeat round <see cref="Round"/> or a later one.</summary>
    private readonly record struct PendingRead(long RequestId, long Index, long Round);
}
