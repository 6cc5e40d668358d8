using Concord.Core;
using Concord.Replication.Quorum;
using Concord.Simulation;
using Concord.Simulation.History;
using Concord.Simulation.Nodes;

namespace Concord.Experiments.Commerce;

/// <summary>
/// The store-independent half of a customer node: think, choose an operation, record it, feed step
/// outcomes to the program and record how the operation ended. A timeout ends the history process
/// (its operation stays open-ended, Jepsen's <c>info</c>) and the customer continues as a new one.
/// </summary>
internal sealed class CustomerLoop(CustomerProgram program, RunShared shared, HistoryRecorder<PlatformOp, PlatformOpResult> history)
{
    public const long ThinkTag = -1;

    int _process;
    OperationHandle? _current;
    PlatformOp? _op;

    public bool Busy => _current is not null;

    public void Start<TMessage>(NodeContext<TMessage> context)
    {
        _process = history.NewProcess();
        _current = null;
        ScheduleThink(context);
    }

    /// <summary>The think timer fired: the first step of a new operation, or null when the run is closed.</summary>
    public KvStep? Begin<TMessage>(NodeContext<TMessage> context)
    {
        if (!shared.Open)
        {
            return null;
        }

        _op = program.Choose(context.Random);
        _current = history.Invoke(context, _process, _op);
        return Follow(context, program.Start(_op));
    }

    /// <summary>A step ended: the next step, or null when the operation is over.</summary>
    public KvStep? Continue<TMessage>(NodeContext<TMessage> context, StepOutcome outcome)
    {
        Invariant.Assert(_op is not null);
        return Follow(context, program.Continue(_op!, outcome));
    }

    KvStep? Follow<TMessage>(NodeContext<TMessage> context, Decision decision)
    {
        if (decision.Step is { } step)
        {
            return step;
        }

        history.Complete(context, _current!.Value, decision.Completion, decision.Result);
        if (decision.Completion == CompletionType.Info)
        {
            _process = history.NewProcess();
        }

        _current = null;
        _op = null;
        ScheduleThink(context);
        return null;
    }

    void ScheduleThink<TMessage>(NodeContext<TMessage> context)
    {
        if (double.IsInfinity(program.MeanThinkMs))
        {
            return; // this boundary is not in the customer's mix
        }

        // Uniform in [1 µs, 2 × mean]: the mean is the boundary's share of the customer's time.
        long maxUs = (long)Math.Clamp(2_000 * program.MeanThinkMs, 1, NodeContext<TMessage>.TimerDelayUsMax - 1);
        context.SetTimer(1 + (long)context.Random.NextUInt64((ulong)maxUs), ThinkTag);
    }
}

/// <summary>
/// A customer on the quorum store. Each request goes to a replica of the key in the customer's own
/// region, picked at random as a load balancer without session affinity does; after a timeout or a
/// refusal, and until the next success, any replica of the key in any region (what a client library
/// does when its region fails). With <paramref name="anyRegion"/>, every request may go to any
/// replica of the key in any region: reads and writes without affinity to a place.
/// </summary>
internal sealed class QuorumCustomerNode(CustomerLoop loop, HashRing ring, ConsistencyMapping mapping, long stepTimeoutUs, bool anyRegion = false) : INode<QuorumMessage>
{
    long _requestId;
    TimerId? _stepTimer;
    bool _failingOver;

    public void Start(NodeContext<QuorumMessage> context) => loop.Start(context);

    public void OnRestart(DurableState durable, NodeContext<QuorumMessage> context) => loop.Start(context);

    public void OnTimer(TimerId timer, long tag, NodeContext<QuorumMessage> context)
    {
        if (tag == CustomerLoop.ThinkTag)
        {
            Send(context, loop.Begin(context));
        }
        else if (tag == _requestId && loop.Busy)
        {
            _stepTimer = null;
            _failingOver = true;
            Send(context, loop.Continue(context, new StepOutcome(StepStatus.Timeout, null)));
        }
    }

    public void OnMessage(NodeId from, QuorumMessage message, NodeContext<QuorumMessage> context)
    {
        if (message is not ClientReply reply || reply.RequestId != _requestId || !loop.Busy || _stepTimer is null)
        {
            return; // late, duplicated, or for a step already timed out
        }

        context.CancelTimer(_stepTimer.Value);
        _stepTimer = null;
        long? value = reply.Values.IsDefaultOrEmpty ? null : reply.Values.Max();
        var outcome = reply.Status switch
        {
            ReplyStatus.Ok => new StepOutcome(StepStatus.Ok, value),
            ReplyStatus.CompareFailed => new StepOutcome(StepStatus.CompareFailed, value),
            ReplyStatus.Unavailable => new StepOutcome(StepStatus.Failed, null),
            _ => new StepOutcome(StepStatus.Timeout, null),
        };
        _failingOver = outcome.Status is StepStatus.Failed or StepStatus.Timeout;

        Send(context, loop.Continue(context, outcome));
    }

    void Send(NodeContext<QuorumMessage> context, KvStep? next)
    {
        if (next is not { } step)
        {
            return;
        }

        (OperationKind kind, Consistency consistency) = step.Kind switch
        {
            StepKind.Read => (OperationKind.Read, Consistency.Of(mapping.R)),
            StepKind.Write => (OperationKind.Write, Consistency.Of(mapping.W)),
            StepKind.CompareAndSet => (OperationKind.CompareAndSet, Consistency.Of(mapping.W)),
            _ => (OperationKind.Increment, Consistency.Of(mapping.W)),
        };
        _requestId++;
        context.Send(Coordinator(context, step.Key), new ClientRequest(_requestId, context.Self, kind, step.Key, step.Value, consistency, step.Expected));
        _stepTimer = context.SetTimer(stepTimeoutUs, _requestId);
    }

    NodeId Coordinator(NodeContext<QuorumMessage> context, string key)
    {
        IReadOnlyList<NodeId> replicas = ring.ReplicasOf(key);
        List<NodeId> local = [.. replicas.Where(n => ring.RegionOf(n) == context.Node.Region)];
        IReadOnlyList<NodeId> pool = anyRegion || _failingOver || local.Count == 0 ? replicas : local;
        return pool[context.Random.NextInt(pool.Count)];
    }
}

/// <summary>
/// A customer on a Raft group. Writes and compare-and-sets go to the leader (following its hints);
/// reads go where <paramref name="readMode"/> says: the leader (linearizable), or a replica of the
/// customer's own region — bounded-stale, or with the session token (the highest log index this
/// customer has seen) when the mode is <see cref="Raft.KvReadMode.FollowerWithToken"/>. A read
/// that feeds a compare-and-set may be stale: the compare catches it, and the read after a failed
/// compare goes to the leader. Request ids only grow per customer, so the state machine applies a
/// retried request once.
/// </summary>
internal sealed class RaftCustomerNode(CustomerLoop loop, IReadOnlyList<NodeId> voters, Func<string, string> raftKey, Raft.KvReadMode readMode, long stepTimeoutUs, long retryBackoffUs) : INode<Raft.RaftKvMessage>
{
    const long RetryTag = -2;

    long _requestId;
    TimerId? _stepTimer;
    TimerId? _retryTimer;
    Raft.KvRequest? _pending;
    NodeId _leader;
    long _token;
    bool _readAtLeader;

    public void Start(NodeContext<Raft.RaftKvMessage> context)
    {
        _leader = Local(context) is { Count: > 0 } local ? local[0] : voters[0];
        loop.Start(context);
    }

    public void OnRestart(DurableState durable, NodeContext<Raft.RaftKvMessage> context) => Start(context);

    public void OnTimer(TimerId timer, long tag, NodeContext<Raft.RaftKvMessage> context)
    {
        if (tag == CustomerLoop.ThinkTag)
        {
            Send(context, loop.Begin(context));
        }
        else if (tag == RetryTag)
        {
            _retryTimer = null;
            if (_pending is { } request)
            {
                context.Send(_leader, request);
            }
        }
        else if (tag == _requestId && loop.Busy)
        {
            _stepTimer = null;
            EndStep(context);
            _leader = voters[context.Random.NextInt(voters.Count)];
            Send(context, loop.Continue(context, new StepOutcome(StepStatus.Timeout, null)));
        }
    }

    public void OnMessage(NodeId from, Raft.RaftKvMessage message, NodeContext<Raft.RaftKvMessage> context)
    {
        if (message is not Raft.KvReply reply || reply.RequestId != _requestId || _pending is null)
        {
            return; // late or duplicated
        }

        if (reply.Status == Raft.KvStatus.NotLeader)
        {
            // Not proposed there: retry the same request (same id) at the hinted leader, after a pause.
            _leader = reply.LeaderHint ?? voters[context.Random.NextInt(voters.Count)];
            _pending = _pending with { ReadMode = Raft.KvReadMode.Leader };
            _retryTimer ??= context.SetTimer(retryBackoffUs, RetryTag);
            return;
        }

        _token = Math.Max(_token, reply.Index);
        if (_stepTimer is { } timer)
        {
            context.CancelTimer(timer);
            _stepTimer = null;
        }

        EndStep(context);
        _readAtLeader = reply.Status == Raft.KvStatus.CompareFailed;
        var outcome = new StepOutcome(reply.Status == Raft.KvStatus.Ok ? StepStatus.Ok : StepStatus.CompareFailed, reply.Value);
        Send(context, loop.Continue(context, outcome));
    }

    void EndStep(NodeContext<Raft.RaftKvMessage> context)
    {
        _pending = null;
        if (_retryTimer is { } retry)
        {
            context.CancelTimer(retry);
            _retryTimer = null;
        }
    }

    void Send(NodeContext<Raft.RaftKvMessage> context, KvStep? next)
    {
        if (next is not { } step)
        {
            return;
        }

        string key = raftKey(step.Key);
        Raft.KvOperation operation = step.Kind switch
        {
            StepKind.Read => new Raft.KvOperation(Raft.KvOperationKind.Get, key, 0, null),
            StepKind.Write => new Raft.KvOperation(Raft.KvOperationKind.Put, key, step.Value, null),
            StepKind.CompareAndSet => new Raft.KvOperation(Raft.KvOperationKind.CompareAndSet, key, step.Value, step.Expected),
            _ => throw new InvalidOperationException("Raft groups hold registers; CRDT increments belong on the quorum store."),
        };
        bool nearby = step.Kind == StepKind.Read && readMode != Raft.KvReadMode.Leader && !_readAtLeader;
        _requestId++;
        _pending = new Raft.KvRequest(_requestId, operation, nearby ? readMode : Raft.KvReadMode.Leader, nearby ? _token : 0);
        NodeId target = nearby ? Nearby(context) : _leader;
        context.Send(target, _pending);
        _stepTimer = context.SetTimer(stepTimeoutUs, _requestId);
    }

    NodeId Nearby(NodeContext<Raft.RaftKvMessage> context) =>
        Local(context) is { Count: > 0 } local ? local[context.Random.NextInt(local.Count)] : _leader;

    List<NodeId> Local(NodeContext<Raft.RaftKvMessage> context) => [.. voters.Where(v => context.Topology.Nodes[(int)v.Value].Region == context.Node.Region)];
}

/// <summary>A server that takes no part in this boundary's group (it still crashes and restarts on schedule).</summary>
internal sealed class IdleNode<TMessage> : INode<TMessage>
{
    public void Start(NodeContext<TMessage> context)
    {
    }

    public void OnRestart(DurableState durable, NodeContext<TMessage> context)
    {
    }

    public void OnMessage(NodeId from, TMessage message, NodeContext<TMessage> context)
    {
    }

    public void OnTimer(TimerId timer, long tag, NodeContext<TMessage> context)
    {
    }
}
