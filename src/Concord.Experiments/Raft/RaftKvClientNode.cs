using Concord.Core;
using Concord.Simulation;
using Concord.Simulation.History;
using Concord.Simulation.Nodes;

namespace Concord.Experiments.Raft;

/// <summary>Outcome of one client operation as the history records it. <see cref="VersionIndex"/>: see <see cref="KvReply"/>.</summary>
public sealed record KvResult(KvStatus Status, long? Value, long VersionIndex = 0);

/// <summary>What the clients of one run observed beyond the history: redirects, timeouts, read-your-writes misses.</summary>
public sealed class RaftKvClientStats
{
    /// <summary>NotLeader answers: the client was sent elsewhere (or told to wait) and retried.</summary>
    public int Redirects { get; internal set; }

    /// <summary>Operations with no answer by the client timeout (history info: outcome unknown).</summary>
    public int Timeouts { get; internal set; }

    /// <summary>
    /// Reads that returned a value older than the client's own last acknowledged write to that key
    /// (by the log index that wrote it): a read-your-writes violation.
    /// </summary>
    public int ReadYourWritesMisses { get; internal set; }
}

/// <summary>
/// A closed-loop client: one operation at a time, routed by key range to the server it believes leads
/// that group (reads in a follower mode go to the client's nearby server instead), recorded in the
/// history. NotLeader means that copy was not proposed, but a duplicate of the request may have been,
/// so the client retries the same operation under the same request id at the hinted leader after a
/// short backoff; the state machine's session table applies it at most once. No answer by the
/// operation's timeout means unknown (history <c>info</c>) and a new process.
/// </summary>
internal sealed class RaftKvClientNode : INode<RaftKvMessage>
{
    private const long ThinkTag = -1;
    private const long RetryTag = -2;

    private readonly RaftKvWorkload _workload;
    private readonly KeyRanges _ranges;
    private readonly HistoryRecorder<KvOperation, KvResult> _history;
    private readonly RaftKvClientStats _stats;
    private readonly Dictionary<string, long?> _lastSeen = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _ownWriteIndex = new(StringComparer.Ordinal);
    private NodeId[] _leaderGuess = [];
    private NodeId _nearby;
    private int _process;
    private long _requestId;
    // The highest log index this client has seen acknowledged: its read-your-writes token.
    private long _token;
    private TimerId? _retryTimer;
    private OperationHandle? _current;
    private KvOperation? _operation;
    private NodeId _target;
    private bool _redirectedToLeader;

    public RaftKvClientNode(RaftKvWorkload workload, KeyRanges ranges, HistoryRecorder<KvOperation, KvResult> history, RaftKvClientStats stats)
    {
        _workload = workload;
        _ranges = ranges;
        _history = history;
        _stats = stats;
    }

    public void Start(NodeContext<RaftKvMessage> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _process = _history.NewProcess();
        _leaderGuess = [.. Enumerable.Range(0, _ranges.Groups).Select(_ => RandomServer(context))];
        // Follower reads go to a server in the client's own region when there is one.
        IReadOnlyList<NodeId> local = [.. context.Topology.Servers.Where(s => context.Topology.Nodes[(int)s.Value].RegionIndex == context.Node.RegionIndex)];
        _nearby = local.Count > 0 ? local[context.Random.NextInt(local.Count)] : RandomServer(context);
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
        int group = _ranges.GroupOf(operation.Key);
        switch (reply.Status)
        {
            case KvStatus.Ok:
                _history.Complete(context, handle, CompletionType.Ok, new KvResult(reply.Status, reply.Value, reply.VersionIndex));
                _token = Math.Max(_token, reply.Index);
                if (operation.Kind == KvOperationKind.Get)
                {
                    _lastSeen[operation.Key] = reply.Value;
                    if (reply.VersionIndex < _ownWriteIndex.GetValueOrDefault(operation.Key))
                    {
                        _stats.ReadYourWritesMisses++;
                    }
                }
                else
                {
                    _lastSeen[operation.Key] = operation.Value;
                    _ownWriteIndex[operation.Key] = reply.Index;
                }

                if (from == _target && !IsFollowerRead(operation))
                {
                    _leaderGuess[group] = from;
                }

                break;
            case KvStatus.CompareFailed:
                _history.Complete(context, handle, CompletionType.Fail, new KvResult(reply.Status, reply.Value));
                _lastSeen.Remove(operation.Key);
                break;
            default:
                _stats.Redirects++;
                _target = reply.LeaderHint ?? RandomServer(context);
                _leaderGuess[group] = _target;
                // A follower that cannot serve the read sends the client to the leader for this operation.
                _redirectedToLeader = true;
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
            _stats.Timeouts++;
            _process = _history.NewProcess();
            _leaderGuess[_ranges.GroupOf(_operation!.Key)] = RandomServer(context);
            Finish(context);
        }
    }

    private bool IsFollowerRead(KvOperation operation) =>
        operation.Kind == KvOperationKind.Get && _workload.Options.ReadMode != KvReadMode.Leader && !_redirectedToLeader;

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
        _redirectedToLeader = false;
        _target = IsFollowerRead(operation) ? _nearby : _leaderGuess[_ranges.GroupOf(key)];
        _current = _history.Invoke(context, _process, operation);
        context.SetTimer(options.ClientTimeoutUs, ++_requestId);
        SendAttempt(context);
    }

    private void SendAttempt(NodeContext<RaftKvMessage> context)
    {
        KvOperation operation = _operation!;
        KvReadMode mode = operation.Kind == KvOperationKind.Get && !_redirectedToLeader ? _workload.Options.ReadMode : KvReadMode.Leader;
        context.Send(_target, new KvRequest(_requestId, operation, mode, mode == KvReadMode.FollowerWithToken ? _token : 0));
    }

    private static NodeId RandomServer(NodeContext<RaftKvMessage> context)
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
