using System.Collections.Immutable;
using Concord.Core;
using Concord.Core.Clocks;
using Concord.Replication.Quorum;
using Concord.Simulation;
using Concord.Simulation.History;
using Concord.Simulation.Nodes;

namespace Concord.Experiments.Quorum;

/// <summary>
/// A closed-loop client: one operation at a time, sent to a node of its own region (a replica of the
/// key when the region has one, as a token-aware driver does), recorded in the history. A coordinator
/// Timeout or the client's own timeout is recorded as <c>info</c> and the client continues as a new
/// process, as Jepsen requires.
/// </summary>
internal sealed class QuorumClientNode : INode<QuorumMessage>
{
    private const long ThinkTag = -1;

    private readonly WorkloadDriver _driver;
    private readonly HistoryRecorder<QuorumOperation, QuorumOperationResult> _history;
    private readonly HashRing _ring;
    private readonly VersionMode _versioning;
    private readonly Dictionary<string, long?> _lastSeen = new(StringComparer.Ordinal);
    private readonly Dictionary<string, VectorClock> _contexts = new(StringComparer.Ordinal);
    private int _process;
    private long _nextRequestId;
    private long _requestId;
    private OperationHandle? _current;
    private QuorumOperation? _currentOperation;
    private int _coordinatorShift;

    public QuorumClientNode(WorkloadDriver driver, HistoryRecorder<QuorumOperation, QuorumOperationResult> history, HashRing ring, VersionMode versioning)
    {
        _driver = driver;
        _history = history;
        _ring = ring;
        _versioning = versioning;
    }

    public void Start(NodeContext<QuorumMessage> context)
    {
        _process = _history.NewProcess();
        ScheduleNext(context);
    }

    public void OnRestart(DurableState durable, NodeContext<QuorumMessage> context) => Start(context);

    public void OnMessage(NodeId from, QuorumMessage message, NodeContext<QuorumMessage> context)
    {
        if (message is not ClientReply reply || _current is not { } handle || reply.RequestId != _requestId)
        {
            return; // a late or duplicated reply to an operation already completed
        }

        QuorumOperation operation = _currentOperation!;
        var result = new QuorumOperationResult(reply.Status, reply.Values.IsDefault ? [] : reply.Values);
        switch (reply.Status)
        {
            case ReplyStatus.Ok:
                _history.Complete(context, handle, CompletionType.Ok, result);
                Remember(operation, reply);
                break;
            case ReplyStatus.CompareFailed:
                _history.Complete(context, handle, CompletionType.Fail, result);
                _lastSeen[operation.Key] = reply.Values.IsDefaultOrEmpty ? null : reply.Values[0];
                break;
            case ReplyStatus.Unavailable:
                _history.Complete(context, handle, CompletionType.Fail, result);
                break;
            default:
                GiveUp(context, result);
                break;
        }

        Finish(context);
    }

    public void OnTimer(TimerId timer, long tag, NodeContext<QuorumMessage> context)
    {
        if (tag == ThinkTag)
        {
            Issue(context);
        }
        else if (_current is not null && tag == _requestId)
        {
            GiveUp(context, new QuorumOperationResult(ReplyStatus.Timeout, []));
            Finish(context);
        }
    }

    private void Issue(NodeContext<QuorumMessage> context)
    {
        if (!_driver.TryTake())
        {
            return;
        }

        QuorumWorkloadOptions options = _driver.Options;
        string key = _driver.NextKey(context.Random);
        double draw = context.Random.NextDouble();
        bool lwt = options.LightweightTransactions;
        OperationKind kind = draw < options.ReadFraction ? (lwt ? OperationKind.SerialRead : OperationKind.Read)
            : draw < options.ReadFraction + options.CasFraction ? (lwt ? OperationKind.PaxosCompareAndSet : OperationKind.CompareAndSet)
            : _versioning != VersionMode.Crdt ? OperationKind.Write
            : options.UseSets ? OperationKind.AddToSet : OperationKind.Increment;
        bool isRead = kind is OperationKind.Read or OperationKind.SerialRead;
        bool isCas = kind is OperationKind.CompareAndSet or OperationKind.PaxosCompareAndSet;
        long value = isRead ? 0 : kind == OperationKind.Increment ? 1 : _driver.NextValue();
        long? expected = isCas ? _lastSeen.GetValueOrDefault(key) : null;
        var operation = new QuorumOperation(kind, key, value, expected);

        _requestId = ++_nextRequestId;
        _currentOperation = operation;
        _current = _history.Invoke(context, _process, operation);
        Consistency consistency = isRead ? options.ReadConsistency : options.WriteConsistency;
        VectorClock? writeContext = kind == OperationKind.Write && _versioning == VersionMode.DottedVersionVectors
            ? _contexts.GetValueOrDefault(key)
            : null;
        context.Send(Coordinator(context, key), new ClientRequest(_requestId, context.Self, kind, key, value, consistency, expected, writeContext));
        context.SetTimer(options.ClientTimeoutUs, _requestId);
    }

    private NodeId Coordinator(NodeContext<QuorumMessage> context, string key)
    {
        string region = context.Node.Region;
        IReadOnlyList<NodeId> local = [.. _ring.ReplicasOf(key).Where(n => _ring.RegionOf(n) == region)];
        if (local.Count == 0)
        {
            local = context.Topology.ServersIn(region);
        }

        Invariant.Assert(local.Count > 0);
        return local[_coordinatorShift % local.Count];
    }

    private void Remember(QuorumOperation operation, ClientReply reply)
    {
        switch (operation.Kind)
        {
            case OperationKind.Read or OperationKind.SerialRead:
                _lastSeen[operation.Key] = reply.Values.Length == 1 ? reply.Values[0] : null;
                if (reply.Context is { } readContext)
                {
                    _contexts[operation.Key] = readContext;
                }

                break;
            case OperationKind.Write or OperationKind.CompareAndSet or OperationKind.PaxosCompareAndSet:
                _lastSeen[operation.Key] = operation.Value;
                break;
        }
    }

    /// <summary>The operation's fate is unknown: record info, continue as a new process, try another coordinator.</summary>
    private void GiveUp(NodeContext<QuorumMessage> context, QuorumOperationResult result)
    {
        _history.Complete(context, _current!.Value, CompletionType.Info, result);
        _process = _history.NewProcess();
        _coordinatorShift++;
        _lastSeen.Remove(_currentOperation!.Key);
    }

    private void Finish(NodeContext<QuorumMessage> context)
    {
        _current = null;
        _currentOperation = null;
        _driver.Completed++;
        ScheduleNext(context);
    }

    private void ScheduleNext(NodeContext<QuorumMessage> context)
    {
        long max = _driver.Options.ThinkTimeUsMax;
        // At least 1 µs, so a process's next invoke is strictly after its last completion.
        context.SetTimer(1 + (max == 0 ? 0 : (long)context.Random.NextUInt64((ulong)max + 1)), ThinkTag);
    }
}
