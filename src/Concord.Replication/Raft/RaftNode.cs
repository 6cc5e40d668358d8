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

    private HardState _persisted;
    private long _firstUnstableIndex;
    private long _applied;
    private int _electionElapsed;
    private int _heartbeatElapsed;
    private int _randomizedElectionTimeout;
    private long _readRound;
    private bool _readyOutstanding;

    /// <summary>A fresh node with an empty log, or one restarted from its durable hard state and log.</summary>
    public RaftNode(NodeId self, RaftConfig config, SeededRandom random, HardState durable = default, IReadOnlyList<LogEntry>? durableLog = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(random);
        config.Validate(self);
        Self = self;
        _config = config;
        _random = random;
        foreach (LogEntry entry in durableLog ?? [])
        {
            Invariant.Assert(entry.Index == _log.Count);
            Invariant.Assert(entry.Term >= _log[^1].Term);
            Invariant.Assert(entry.Term <= durable.Term);
            _log.Add(entry);
        }

        Invariant.Assert(durable.Commit <= LastIndex);
        Term = durable.Term;
        VotedFor = durable.VotedFor;
        Commit = durable.Commit;
        _persisted = durable;
        _firstUnstableIndex = LastIndex + 1;
        // The state machine is volatile (no snapshots yet), so a restarted node re-applies from 1.
        _applied = 0;
        BecomeFollower(Term, null);
    }

    public NodeId Self { get; }

    public long Term { get; private set; }

    public NodeId? VotedFor { get; private set; }

    public RaftRole Role { get; private set; }

    /// <summary>The leader this node follows in <see cref="Term"/>, if it knows one.</summary>
    public NodeId? Leader { get; private set; }

    public long Commit { get; private set; }

    public long LastIndex => _log.Count - 1;

    public long LastTerm => _log[^1].Term;

    /// <summary>The whole log, index 1 first. For checkers and tests; hosts use <see cref="Ready"/>.</summary>
    public IReadOnlyList<LogEntry> Log => _log.GetRange(1, _log.Count - 1);

    public long TermAt(long index) => index >= 0 && index <= LastIndex ? _log[(int)index].Term : -1;

    public bool HasReady =>
        !HardStateNow.Equals(_persisted) || _firstUnstableIndex <= LastIndex || _outbox.Count > 0 || _readStates.Count > 0 || Commit > _applied;

    private HardState HardStateNow => new(Term, VotedFor, Commit);

    private bool IsSingleVoter => _config.Voters.Count == 1;

    /// <summary>Advances logical time by one tick: elections and heartbeats are counted in ticks.</summary>
    public void Tick()
    {
        EnsureNoReadyOutstanding();
        _electionElapsed++;
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
        if (Role != RaftRole.Leader || LastIndex - Commit >= _config.UncommittedEntriesMax)
        {
            return false;
        }

        AppendAsLeader([command]);
        return true;
    }

    /// <summary>
    /// Starts a linearizable read (thesis §6.4): once a heartbeat round confirms leadership, a
    /// <see cref="ReadState"/> with the commit index taken now comes out in a Ready. False when not
    /// leader, when this term has no committed entry yet (the commit index may be stale), or when
    /// too many reads wait.
    /// </summary>
    public bool ReadIndex(long requestId)
    {
        EnsureNoReadyOutstanding();
        if (Role != RaftRole.Leader || TermAt(Commit) != Term || _pendingReads.Count >= _config.PendingReadsMax)
        {
            return false;
        }

        if (IsSingleVoter)
        {
            _readStates.Add(new ReadState(requestId, Commit));
            return true;
        }

        long round = ++_readRound;
        var read = new PendingRead(requestId, Commit, round);
        read.Acks.Add(Self);
        _pendingReads.Add(read);
        foreach (NodeId peer in _config.Voters)
        {
            if (peer != Self)
            {
                SendHeartbeat(peer, round);
            }
        }

        return true;
    }

    /// <summary>The effects of every input since the last <see cref="Advance"/>; see <see cref="Ready"/> for the order.</summary>
    public Ready TakeReady()
    {
        EnsureNoReadyOutstanding();
        HardState now = HardStateNow;
        ImmutableArray<LogEntry> unstable = _firstUnstableIndex <= LastIndex
            ? [.. _log.Skip((int)_firstUnstableIndex)]
            : [];
        ImmutableArray<LogEntry> committed = Commit > _applied
            ? [.. _log.Skip((int)_applied + 1).Take((int)(Commit - _applied))]
            : [];
        var ready = new Ready(now.Equals(_persisted) ? null : now, unstable, [.. _outbox], committed, [.. _readStates]);
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

    private sealed class PendingRead(long requestId, long index, long round)
    {
        public long RequestId { get; } = requestId;

        public long Index { get; } = index;

        public long Round { get; } = round;

        public HashSet<NodeId> Acks { get; } = [];
    }
}
