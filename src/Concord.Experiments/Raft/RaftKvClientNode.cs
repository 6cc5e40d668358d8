using Concord.Core;
using Concord.Simulation;
using Concord.Simulation.History;
using Concord.Simulation.Nodes;

namespace Concord.Experiments.Raft;

/// <summary>Outcome of one client operation as the history records it.</summary>
public sealed record KvResult(KvStatus Status, long? Value);

/// <summary>
/// A closed-loop client: one operation at a time to the server it believes leads, recorded in the
/// history. NotLeader means that copy was not proposed, but a duplicate of the request may have
/// been, so the client retries the same operation under the same request id at the hinted leader
/// after a short backoff; the state machine's session table applies it at most once. No answer by
/// the operation's timeout means unknown (history <c>info</c>) and a new process.
/// </summary>
internal sealed class RaftKvClientNode : INode<RaftKvMessage>
{
    private const long ThinkTag = -1;
    private const long RetryTag = -2;

    private readonly RaftKvWorkload _workload;
    private readonly HistoryRecorder<KvOperation, KvResult> _history;
    private readonly Dictionary<string, long?> _lastSeen = new(StringComparer.Ordinal);
    private int _process;
    private long _requestId;
    private TimerId? _retryTimer;
    private OperationHandle? _current;
    private KvOperation? _operation;
    private NodeId _target;

    public RaftKvClientNode(RaftKvWorkload workload, HistoryRecorder<KvOperation, KvResult> history)
    {
        _workload = workload;
        _history = history;
    }

    public void Start(NodeContext<RaftKvMessage> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _process = _history.NewProcess();
        IReadOnlyList<NodeId> servers = context.Topology.Servers;
        _target = servers[context.Random.NextInt(servers.Count)];
        ScheduleNext(context);
    }

    public void OnRestart(DurableState durable, NodeContext<RaftKvMessage> context) => Start(context);

    public void OnMessage(NodeId from, RaftKvMessage message, NodeContext<RaftKvMessage> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (message is not KvReply reply || _current is not { } handle || reply.RequestId != _requestId)
        {
            return; // late or duplicated
        }

        KvOperation operation = _operation!;
        var result = new KvResult(reply.Status, reply.Value);
        switch (reply.Status)
        {
            case KvStatus.Ok:
                _history.Complete(context, handle, CompletionType.Ok, result);
                _lastSeen[operation.Key] = operation.Kind == KvOperationKind.Get ? reply.Value : operation.Value;
                break;
            case KvStatus.CompareFailed:
                _history.Complete(context, handle, CompletionType.Fail, result);
                _lastSeen.Remove(operation.Key);
                break;
            default:
                _target = reply.LeaderHint ?? NextServer(context);
                // A duplicated NotLeader must not arm a second retry.
                _retryTimer ??= context.SetTimer(_workload.Options.RetryBackoffUs, RetryTag);
                return;
        }

        Finish(context);
    }

    public void OnTimer(TimerId timer, long tag, NodeContext<RaftKvMessage> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (tag == ThinkTag)
        {
            Issue(context);
        }
        else if (tag == RetryTag)
        {
            Invariant.Assert(_current is not null);
            _retryTimer = null;
            SendAttempt(context);
        }
        else if (_current is { } handle && tag == _requestId)
        {
            _history.Complete(context, handle, CompletionType.Info, null);
            _process = _history.NewProcess();
            _target = NextServer(context);
            Finish(context);
        }
    }

    private void Issue(NodeContext<RaftKvMessage> context)
    {
        if (!_workload.TryTake())
        {
            return;
        }

        string key = _workload.NextKey(context.Random);
        double draw = context.Random.NextDouble();
        RaftKvWorkloadOptions options = _workload.Options;
        KvOperation operation = draw < options.ReadFraction
            ? new KvOperation(KvOperationKind.Get, key, 0, null)
            : draw < options.ReadFraction + options.CasFraction
                ? new KvOperation(KvOperationKind.CompareAndSet, key, _workload.NextValue(), _lastSeen.GetValueOrDefault(key))
                : new KvOperation(KvOperationKind.Put, key, _workload.NextValue(), null);
        _operation = operation;
        _current = _history.Invoke(context, _process, operation);
        context.SetTimer(options.ClientTimeoutUs, ++_requestId);
        SendAttempt(context);
    }

    private void SendAttempt(NodeContext<RaftKvMessage> context) => context.Send(_target, new KvRequest(_requestId, _operation!));

    private static NodeId NextServer(NodeContext<RaftKvMessage> context)
    {
        IReadOnlyList<NodeId> servers = context.Topology.Servers;
        return servers[context.Random.NextInt(servers.Count)];
    }

    private void Finish(NodeContext<RaftKvMessage> context)
    {
        _current = null;
        _operation = null;
        if (_retryTimer is { } retry)
        {
            // A retry must never resend this operation under the next one's name.
            context.CancelTimer(retry);
            _retryTimer = null;
        }

        ScheduleNext(context);
    }

    private void ScheduleNext(NodeContext<RaftKvMessage> context)
    {
        long max = _workload.Options.ThinkTimeUsMax;
        // At least 1 µs, so a process's next invoke is strictly after its last completion.
        context.SetTimer(1 + (long)context.Random.NextUInt64((ulong)max + 1), ThinkTag);
    }
}
