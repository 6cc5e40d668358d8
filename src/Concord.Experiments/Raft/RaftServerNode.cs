using System.Globalization;
using Concord.Core;
using Concord.Replication.Raft;
using Concord.Simulation.Nodes;

namespace Concord.Experiments.Raft;

/// <summary>
/// Runs a <see cref="RaftNode"/> and a <see cref="KvStateMachine"/> as a simulator node. After every
/// input it drains the Ready exactly as the contract says: durable writes (hard state, then entries)
/// are recorded before messages, and the simulator persists them before any message leaves.
/// Writes answer the client when their entry is applied; reads go through ReadIndex and answer once
/// the state machine has applied the read's index.
/// </summary>
public sealed class RaftServerNode : INode<RaftKvMessage>
{
    internal const string HardStateKey = "raft/hard";
    internal const string LogPrefix = "raft/log/";
    private const long TickTag = 1;
    // Requests are volatile: a crash forgets them and the client times out (history info).
    private const int PendingRequestsMax = 4096;

    private readonly RaftConfig _config;
    private readonly long _tickUs;
    private readonly RaftSafetyMonitor _monitor;
    private readonly KvStateMachine _kv = new();
    private readonly Dictionary<string, (NodeId Client, long RequestId)> _pendingWrites = new(StringComparer.Ordinal);
    private readonly Dictionary<long, (NodeId Client, long RequestId, string Key)> _pendingReads = [];
    private readonly List<(long ReadId, long Index)> _readsAwaitingApply = [];
    private RaftNode? _raft;
    private long _durableLastIndex;
    private long _nextReadId;
    private bool _wasLeader;

    public RaftServerNode(RaftConfig config, long tickUs, RaftSafetyMonitor monitor)
    {
        _config = config;
        _tickUs = tickUs;
        _monitor = monitor;
    }

    public RaftNode Raft => _raft ?? throw new InvalidOperationException("The node has not booted yet.");

    public KvStateMachine StateMachine => _kv;

    public void Start(NodeContext<RaftKvMessage> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Boot(context, HardState.Empty, []);
    }

    public void OnRestart(DurableState durable, NodeContext<RaftKvMessage> context)
    {
        ArgumentNullException.ThrowIfNull(durable);
        ArgumentNullException.ThrowIfNull(context);
        HardState hard = durable.GetOrDefault(HardStateKey, HardState.Empty);
        LogEntry[] log = [.. durable.WithPrefix(LogPrefix).Select(kv => (LogEntry)kv.Value)];
        Boot(context, hard, log);
    }

    public void OnMessage(NodeId from, RaftKvMessage message, NodeContext<RaftKvMessage> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        switch (message)
        {
            case PeerMessage peer when peer.Raft.To == context.Self:
                Raft.Step(peer.Raft);
                break;
            case KvRequest request:
                HandleRequest(from, request, context);
                break;
            default:
                break;
        }

        Drain(context);
    }

    public void OnTimer(TimerId timer, long tag, NodeContext<RaftKvMessage> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Invariant.Assert(tag == TickTag);
        Raft.Tick();
        context.SetTimer(_tickUs, TickTag);
        Drain(context);
    }

    private void Boot(NodeContext<RaftKvMessage> context, HardState hard, LogEntry[] log)
    {
        Invariant.Assert(_raft is null);
        _raft = new RaftNode(context.Self, _config, context.Random.Derive("raft"), hard, log);
        _durableLastIndex = log.Length;
        context.SetTimer(_tickUs, TickTag);
        Drain(context);
    }

    private void HandleRequest(NodeId client, KvRequest request, NodeContext<RaftKvMessage> context)
    {
        RaftNode raft = Raft;
        bool accepted;
        if (request.Operation.Kind == KvOperationKind.Get)
        {
            long readId = ++_nextReadId;
            accepted = _pendingReads.Count < PendingRequestsMax && raft.ReadIndex(readId);
            if (accepted)
            {
                _pendingReads.Add(readId, (client, request.RequestId, request.Operation.Key));
            }
        }
        else
        {
            string command = KvStateMachine.Encode(client, request.RequestId, request.Operation);
            accepted = _pendingWrites.Count < PendingRequestsMax && raft.Propose(command);
            if (accepted)
            {
                _pendingWrites[KvStateMachine.RequestKey(client, request.RequestId)] = (client, request.RequestId);
            }
        }

        if (!accepted)
        {
            NodeId? hint = raft.Leader == context.Self ? null : raft.Leader;
            context.Send(client, new KvReply(request.RequestId, KvStatus.NotLeader, null, hint));
        }
    }

    private void Drain(NodeContext<RaftKvMessage> context)
    {
        RaftNode raft = Raft;
        while (raft.HasReady)
        {
            Ready ready = raft.TakeReady();
            Persist(ready, context);
            foreach (RaftMessage m in ready.Messages)
            {
                context.Send(m.To, new PeerMessage(m));
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
            // Raft dropped its unconfirmed reads on stepping down; their clients time out.
            _pendingReads.Clear();
            _readsAwaitingApply.Clear();
        }

        _wasLeader = isLeader;
    }

    private void Persist(Ready ready, NodeContext<RaftKvMessage> context)
    {
        if (ready.HardState is { } hard)
        {
            context.WriteDurable(HardStateKey, hard);
        }

        if (ready.Entries.IsEmpty)
        {
            return;
        }

        long first = ready.Entries[0].Index;
        long last = ready.Entries[^1].Index;
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

        Invariant.Assert(first <= _durableLastIndex + 1);
        _durableLastIndex = last;
    }

    private void Apply(LogEntry entry, NodeContext<RaftKvMessage> context)
    {
        _monitor.ObserveApplied(context.Self, entry);
        if (_kv.Apply(entry.Index, entry.Command) is not { } outcome)
        {
            return;
        }

        if (_pendingWrites.Remove(outcome.RequestKey, out var waiting))
        {
            context.Send(waiting.Client, new KvReply(waiting.RequestId, outcome.Status, null, null));
        }
    }

    private void AnswerReads(NodeContext<RaftKvMessage> context)
    {
        int answered = 0;
        foreach ((long readId, long index) in _readsAwaitingApply)
        {
            // ReadStates come out in index order, so the first one not yet applied blocks the rest.
            if (index > _kv.AppliedIndex)
            {
                break;
            }

            if (_pendingReads.Remove(readId, out var read))
            {
                context.Send(read.Client, new KvReply(read.RequestId, KvStatus.Ok, _kv.Get(read.Key), null));
            }

            answered++;
        }

        _readsAwaitingApply.RemoveRange(0, answered);
    }

    private static string LogKey(long index) => LogPrefix + index.ToString("D12", CultureInfo.InvariantCulture);
}
