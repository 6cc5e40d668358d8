using System.Globalization;
using Concord.Core;
using Concord.Replication.Raft;
using Concord.Simulation.Nodes;

namespace Concord.Experiments.Raft;

/// <summary>What every server of a run shares: the groups' Raft config, the key ranges and the policies around them.</summary>
internal sealed record RaftServerSettings
{
    public required RaftConfig Config { get; init; }

    public required long TickUs { get; init; }

    public required KeyRanges Ranges { get; init; }

    /// <summary>Per group, the server its leadership is handed to when another server leads (null: no preference).</summary>
    public required IReadOnlyList<NodeId?> PreferredLeaders { get; init; }

    /// <summary>Compact a group's log once this many entries were applied since its last snapshot (0: never).</summary>
    public int SnapshotEveryEntries { get; init; }

    /// <summary>A follower serves <see cref="KvReadMode.Follower"/> reads only if it heard from its leader within this many ticks.</summary>
    public int FollowerReadStaleTicksMax { get; init; }

    /// <summary>One monitor per group, shared by every server.</summary>
    public required IReadOnlyList<RaftSafetyMonitor> Monitors { get; init; }
}

/// <summary>
/// Runs one replica of every Raft group — a <see cref="RaftNode"/> and a <see cref="KvStateMachine"/>
/// each — as one simulator node. After every input it drains each group's Ready exactly as the
/// contract says: durable writes (snapshot, hard state, entries) are recorded before messages, and
/// the simulator persists them before any message leaves. Writes answer the client when their entry
/// is applied; leader reads go through ReadIndex (or the lease); follower reads are served locally
/// under their mode's condition.
/// </summary>
public sealed class RaftServerNode : INode<RaftKvMessage>
{
    private const long TickTag = 1;

    private readonly RaftServerSettings _settings;
    private GroupReplica[] _groups = [];
    private long _ticks;

    internal RaftServerNode(RaftServerSettings settings)
    {
        _settings = settings;
    }

    /// <summary>The Raft node of group <paramref name="group"/> (default: the only one).</summary>
    public RaftNode RaftOf(int group = 0) => Group(group).Raft;

    public KvStateMachine StateMachineOf(int group = 0) => Group(group).Kv;

    public void Start(NodeContext<RaftKvMessage> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Boot(context, null);
    }

    public void OnRestart(DurableState durable, NodeContext<RaftKvMessage> context)
    {
        ArgumentNullException.ThrowIfNull(durable);
        ArgumentNullException.ThrowIfNull(context);
        Boot(context, durable);
    }

    public void OnMessage(NodeId from, RaftKvMessage message, NodeContext<RaftKvMessage> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        switch (message)
        {
            case PeerMessage peer when peer.Raft.To == context.Self:
                GroupReplica replica = _groups[peer.Group];
                replica.Raft.Step(peer.Raft);
                replica.Drain(context);
                break;
            case KvRequest request:
                GroupReplica target = _groups[_settings.Ranges.GroupOf(request.Operation.Key)];
                target.Handle(from, request, context);
                target.Drain(context);
                break;
            default:
                break;
        }
    }

    public void OnTimer(TimerId timer, long tag, NodeContext<RaftKvMessage> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Invariant.Assert(tag == TickTag);
        _ticks++;
        foreach (GroupReplica replica in _groups)
        {
            replica.Raft.Tick();
            replica.Drain(context);
            replica.PlaceLeader(_ticks);
            replica.Drain(context);
        }

        context.SetTimer(_settings.TickUs, TickTag);
    }

    private GroupReplica Group(int group) =>
        _groups.Length > 0 ? _groups[group] : throw new InvalidOperationException("The node has not booted yet.");

    private void Boot(NodeContext<RaftKvMessage> context, DurableState? durable)
    {
        Invariant.Assert(_groups.Length == 0);
        _groups = [.. Enumerable.Range(0, _settings.Ranges.Groups).Select(g => new GroupReplica(g, _settings, context, durable))];
        context.SetTimer(_settings.TickUs, TickTag);
        foreach (GroupReplica replica in _groups)
        {
            replica.Drain(context);
        }
    }

    /// <summary>This server's replica of one group and the requests it holds.</summary>
    private sealed class GroupReplica
    {
        // Requests are volatile: a crash forgets them and the client times out (history info).
        private const int PendingRequestsMax = 4096;
        // A preferred leader that did not take over is asked again only after this many election timeouts.
        private const int TransferRetryElectionTimeouts = 5;

        private readonly int _group;
        private readonly RaftServerSettings _settings;
        private readonly RaftSafetyMonitor _monitor;
        private readonly NodeId _self;
        private readonly string _hardStateKey;
        private readonly string _snapshotKey;
        private readonly string _logPrefix;
        private readonly Dictionary<string, (NodeId Client, long RequestId)> _pendingWrites = new(StringComparer.Ordinal);
        private readonly Dictionary<long, (NodeId Client, long RequestId, string Key)> _pendingReads = [];
        private readonly List<(long ReadId, long Index)> _readsAwaitingApply = [];
        private readonly List<(NodeId Client, long RequestId, string Key, long MinIndex)> _tokenReads = [];
        private long _durableFirstIndex = 1;
        private long _durableLastIndex;
        private long _nextReadId;
        private long _lastTransferTick = long.MinValue / 2;
        private bool _wasLeader;

        public GroupReplica(int group, RaftServerSettings settings, NodeContext<RaftKvMessage> context, DurableState? durable)
        {
            _group = group;
            _settings = settings;
            _monitor = settings.Monitors[group];
            _self = context.Self;
            string prefix = string.Create(CultureInfo.InvariantCulture, $"raft/g{group}/");
            _hardStateKey = prefix + "hard";
            _snapshotKey = prefix + "snapshot";
            _logPrefix = prefix + "log/";
            HardState hard = durable?.GetOrDefault(_hardStateKey, HardState.Empty) ?? HardState.Empty;
            Snapshot? snapshot = durable?.GetOrDefault<Snapshot?>(_snapshotKey, null);
            LogEntry[] log = durable is null ? [] : [.. durable.WithPrefix(_logPrefix).Select(kv => (LogEntry)kv.Value)];
            Kv = snapshot is null ? new KvStateMachine() : KvStateMachine.Restore(snapshot.Data);
            Raft = new RaftNode(_self, settings.Config, context.Random.Derive("raft").Derive((ulong)group), hard, log, snapshot, context.Clock);
            _durableFirstIndex = log.Length > 0 ? log[0].Index : Raft.SnapshotIndex + 1;
            _durableLastIndex = log.Length > 0 ? log[^1].Index : Raft.SnapshotIndex;
        }

        public RaftNode Raft { get; }

        public KvStateMachine Kv { get; private set; }

        public void Handle(NodeId client, KvRequest request, NodeContext<RaftKvMessage> context)
        {
            KvOperation operation = request.Operation;
            bool accepted;
            if (operation.Kind != KvOperationKind.Get)
            {
                string command = KvStateMachine.Encode(client, request.RequestId, operation);
                accepted = _pendingWrites.Count < PendingRequestsMax && Raft.Propose(command);
                if (accepted)
                {
                    _pendingWrites[KvStateMachine.RequestKey(client, request.RequestId)] = (client, request.RequestId);
                }
            }
            else if (request.ReadMode == KvReadMode.Follower)
            {
                // Bounded staleness: this replica heard from its leader within the bound and has applied
                // what that leader had committed, so its state is no older than the leader's was then.
                accepted = Raft.Role == RaftRole.Leader
                    || (Raft.Leader is not null && Raft.TicksSinceLeaderContact <= _settings.FollowerReadStaleTicksMax
                        && Kv.AppliedIndex >= Raft.LeaderCommitSeen);
                if (accepted)
                {
                    AnswerRead(client, request.RequestId, operation.Key, context);
                }
            }
            else if (request.ReadMode == KvReadMode.FollowerWithToken)
            {
                accepted = Kv.AppliedIndex >= request.MinIndex || _tokenReads.Count < PendingRequestsMax;
                if (Kv.AppliedIndex >= request.MinIndex)
                {
                    AnswerRead(client, request.RequestId, operation.Key, context);
                }
                else if (accepted)
                {
                    // Wait until this replica has applied what the client has already seen.
                    _tokenReads.Add((client, request.RequestId, operation.Key, request.MinIndex));
                }
            }
            else
            {
                long readId = ++_nextReadId;
                accepted = _pendingReads.Count < PendingRequestsMax && Raft.ReadIndex(readId);
                if (accepted)
                {
                    _pendingReads.Add(readId, (client, request.RequestId, operation.Key));
                }
            }

            if (!accepted)
            {
                NodeId? hint = Raft.Leader == _self ? null : Raft.Leader;
                context.Send(client, new KvReply(request.RequestId, KvStatus.NotLeader, null, hint));
            }
        }

        /// <summary>Region-aware placement: a leader that is not the group's preferred one hands leadership over.</summary>
        public void PlaceLeader(long ticks)
        {
            if (_settings.PreferredLeaders[_group] is not { } preferred || preferred == _self || Raft.Role != RaftRole.Leader
                || Raft.Transferee is not null || ticks - _lastTransferTick < (long)TransferRetryElectionTimeouts * _settings.Config.ElectionTicks)
            {
                return;
            }

            _lastTransferTick = ticks;
            Raft.TransferLeadership(preferred);
        }

        public void Drain(NodeContext<RaftKvMessage> context)
        {
            RaftNode raft = Raft;
            while (raft.HasReady)
            {
                Ready ready = raft.TakeReady();
                Persist(ready, context);
                foreach (RaftMessage m in ready.Messages)
                {
                    context.Send(m.To, new PeerMessage(_group, m));
                }

                if (ready.Snapshot is { } snapshot)
                {
                    _monitor.ObserveSnapshot(_self, snapshot, installed: true);
                    Kv = KvStateMachine.Restore(snapshot.Data);
                    Invariant.Assert(Kv.AppliedIndex == snapshot.Index);
                }

                foreach (LogEntry entry in ready.CommittedEntries)
                {
                    Apply(entry, context);
                }

                foreach (ReadState read in ready.ReadStates)
                {
                    _readsAwaitingApply.Add((read.RequestId, read.Index));
                }

                AnswerReads(context);
                raft.Advance();
            }

            bool isLeader = raft.Role == RaftRole.Leader;
            if (isLeader)
            {
                _monitor.ObserveLeader(raft);
            }
            else if (_wasLeader)
            {
                // Raft dropped its unconfirmed reads on stepping down: send their clients to the new leader.
                foreach ((NodeId client, long requestId, _) in _pendingReads.Values)
                {
                    context.Send(client, new KvReply(requestId, KvStatus.NotLeader, null, raft.Leader));
                }

                _pendingReads.Clear();
                _readsAwaitingApply.Clear();
            }

            _wasLeader = isLeader;
            MaybeCompact(context);
        }

        private void MaybeCompact(NodeContext<RaftKvMessage> context)
        {
            int every = _settings.SnapshotEveryEntries;
            if (every <= 0 || Kv.AppliedIndex - Raft.SnapshotIndex < every)
            {
                return;
            }

            Snapshot snapshot = Raft.Compact(Kv.AppliedIndex, Kv.Serialize());
            _monitor.ObserveSnapshot(_self, snapshot, installed: false);
            context.WriteDurable(_snapshotKey, snapshot);
            for (long index = _durableFirstIndex; index <= Math.Min(snapshot.Index, _durableLastIndex); index++)
            {
                context.DeleteDurable(LogKey(index));
            }

            _durableFirstIndex = snapshot.Index + 1;
            _durableLastIndex = Math.Max(_durableLastIndex, snapshot.Index);
        }

        private void Persist(Ready ready, NodeContext<RaftKvMessage> context)
        {
            if (ready.Snapshot is { } snapshot)
            {
                // An installed snapshot replaces the whole log: nothing stored before or after it survives.
                context.WriteDurable(_snapshotKey, snapshot);
                for (long index = _durableFirstIndex; index <= _durableLastIndex; index++)
                {
                    context.DeleteDurable(LogKey(index));
                }

                _durableFirstIndex = snapshot.Index + 1;
                _durableLastIndex = snapshot.Index;
            }

            if (ready.HardState is { } hard)
            {
                context.WriteDurable(_hardStateKey, hard);
            }

            if (ready.Entries.IsEmpty)
            {
                return;
            }

            long first = ready.Entries[0].Index;
            long last = ready.Entries[^1].Index;
            Invariant.Assert(first >= _durableFirstIndex && first <= _durableLastIndex + 1);
            // The Ready's entries replace every stored entry from the first one on: drop a longer, conflicting tail.
            for (long index = last + 1; index <= _durableLastIndex; index++)
            {
                context.DeleteDurable(LogKey(index));
            }

            foreach (LogEntry entry in ready.Entries)
            {
                _monitor.ObservePersisted(Raft, entry);
                context.WriteDurable(LogKey(entry.Index), entry);
            }

            _durableLastIndex = last;
        }

        private void Apply(LogEntry entry, NodeContext<RaftKvMessage> context)
        {
            _monitor.ObserveApplied(_self, entry);
            if (Kv.Apply(entry.Index, entry.Command) is { } outcome
                && _pendingWrites.Remove(outcome.RequestKey, out var waiting))
            {
                context.Send(waiting.Client, new KvReply(waiting.RequestId, outcome.Status, null, null) { Index = outcome.Index });
            }

            int kept = 0;
            for (int i = 0; i < _tokenReads.Count; i++)
            {
                var read = _tokenReads[i];
                if (read.MinIndex <= Kv.AppliedIndex)
                {
                    AnswerRead(read.Client, read.RequestId, read.Key, context);
                }
                else
                {
                    _tokenReads[kept++] = read;
                }
            }

            _tokenReads.RemoveRange(kept, _tokenReads.Count - kept);
        }

        private void AnswerReads(NodeContext<RaftKvMessage> context)
        {
            int answered = 0;
            foreach ((long readId, long index) in _readsAwaitingApply)
            {
                // ReadStates come out in index order, so the first one not yet applied blocks the rest.
                if (index > Kv.AppliedIndex)
                {
                    break;
                }

                if (_pendingReads.Remove(readId, out var read))
                {
                    AnswerRead(read.Client, read.RequestId, read.Key, context);
                }

                answered++;
            }

            _readsAwaitingApply.RemoveRange(0, answered);
        }

        private void AnswerRead(NodeId client, long requestId, string key, NodeContext<RaftKvMessage> context) =>
            context.Send(client, new KvReply(requestId, KvStatus.Ok, Kv.Get(key), null) { Index = Kv.AppliedIndex, VersionIndex = Kv.VersionOf(key) });

        private string LogKey(long index) => _logPrefix + index.ToString("D12", CultureInfo.InvariantCulture);
    }
}
