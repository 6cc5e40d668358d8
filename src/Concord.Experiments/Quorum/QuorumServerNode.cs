using Concord.Core;
using Concord.Replication.Quorum;
using Concord.Simulation;
using Concord.Simulation.Nodes;

namespace Concord.Experiments.Quorum;

/// <summary>
/// Runs a <see cref="QuorumNode"/> as a simulator node: the simulator's <see cref="NodeContext{TMessage}"/>
/// becomes the node's <see cref="IQuorumHost"/> for the length of one handler. The simulator already
/// performs effects after the handler, durable writes first, so this adapter adds no buffering.
/// </summary>
public sealed class QuorumServerNode : INode<QuorumMessage>, IQuorumHost
{
    private readonly HashRing _ring;
    private readonly QuorumConfig _config;
    private readonly QuorumNodeStats _stats;
    private NodeContext<QuorumMessage>? _context;
    private QuorumNode? _node;

    public QuorumServerNode(HashRing ring, QuorumConfig config, QuorumNodeStats stats)
    {
        _ring = ring;
        _config = config;
        _stats = stats;
    }

    /// <summary>The protocol state machine, once booted.</summary>
    public QuorumNode Node => _node ?? throw new InvalidOperationException("The node has not booted yet.");

    public void Start(NodeContext<QuorumMessage> context)
    {
        Handle(context, () => Create(context).Start(this));
    }

    public void OnRestart(DurableState durable, NodeContext<QuorumMessage> context)
    {
        ArgumentNullException.ThrowIfNull(durable);
        Handle(context, () => Create(context).Restart(durable.WithPrefix(""), this));
    }

    public void OnMessage(NodeId from, QuorumMessage message, NodeContext<QuorumMessage> context) =>
        Handle(context, () => Node.Receive(from, message, this));

    public void OnTimer(TimerId timer, long tag, NodeContext<QuorumMessage> context) =>
        Handle(context, () => Node.OnTimer(tag, this));

    void IQuorumHost.Send(NodeId to, QuorumMessage message) => Context.Send(to, message);

    void IQuorumHost.SetTimer(long delayUs, long tag) => Context.SetTimer(delayUs, tag);

    void IQuorumHost.WriteDurable(string key, object value) => Context.WriteDurable(key, value);

    void IQuorumHost.DeleteDurable(string key) => Context.DeleteDurable(key);

    private NodeContext<QuorumMessage> Context => _context ?? throw new InvalidOperationException("Effects are recorded only inside a handler.");

    private QuorumNode Create(NodeContext<QuorumMessage> context)
    {
        Invariant.Assert(_node is null);
        // ctx.Clock is the node's hardware clock for the whole run: skew and drift reach the HLC through it.
        _node = new QuorumNode(context.Self, _ring, _config, context.Clock, _stats, context.Random.Derive("quorum-node"));
        return _node;
    }

    private void Handle(NodeContext<QuorumMessage> context, Action handler)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        try
        {
            handler();
        }
        finally
        {
            _context = null;
        }
    }
}
